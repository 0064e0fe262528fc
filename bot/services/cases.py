"""Disputes, promises and payment plans: the debtor's answers and the staff's decisions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select, update

from bot.domain.money import cents_str
from bot.domain.plans import schedule, schedule_on_dates
from bot.domain.statuses import DisputeStatus, PlanStatus, PromiseStatus
from messages.words import words
from storage import events
from storage.ledger_writes import rearm_all
from storage.tables import (
    Customer,
    Dispute,
    DisputeItem,
    Document,
    PaymentPlan,
    PlanInstallment,
    PlanItem,
    Promise,
)


def _doc(conn: Connection, ref: str):  # noqa: ANN202
    d = Document.__table__
    row = conn.execute(select(d.c.id, d.c.customer_id, d.c.currency).where(d.c.ref == ref)).first()
    if row is None:
        raise LookupError(f"unknown document {ref!r}")
    return row


def _dispute_amounts(conn: Connection, customer_id: int, refs: list[str], now: datetime) -> dict[str, tuple[int, int]]:
    """ref -> (open cents at the debtor's local today, cents of credit notes naming it so far)."""
    from zoneinfo import ZoneInfo

    from bot.domain.balances import compute_balance
    from storage.ledger_reads import ledgers

    tz = conn.execute(select(Customer.__table__.c.timezone).where(Customer.__table__.c.id == customer_id)).scalar()
    docs, pays = ledgers(conn, [customer_id])[customer_id]
    today = now.astimezone(ZoneInfo(tz or "UTC")).date()
    open_of = {i.ref: i.open_cents for i in compute_balance(docs, pays, today).open_items}
    credited = {r: sum(d.amount_cents for d in docs if d.type == "credit_note" and d.related_ref == r) for r in refs}
    return {r: (open_of.get(r, 0), credited[r]) for r in refs}


def open_dispute(conn: Connection, refs: list[str], *, reason: str, text: str, actor: str, now: datetime) -> int:
    """Open a dispute on documents of one customer (event `dispute_opened`); dunning pauses on them.

    Each item keeps its open amount and the credit notes naming it at this moment, so a dispute
    later found valid knows when the ERP's credit note for it has come (storage.pauses)."""
    docs = [_doc(conn, r) for r in refs]
    cid = docs[0].customer_id
    amounts = _dispute_amounts(conn, cid, refs, now)
    dispute_id = conn.execute(
        Dispute.__table__.insert().values(
            customer_id=cid,
            status=DisputeStatus.OPEN,
            reason=reason,
            text=text,
            resolution="",
            opened_by=actor,
            opened_at=now,
        )
    ).inserted_primary_key[0]
    conn.execute(
        DisputeItem.__table__.insert(),
        [
            {
                "dispute_id": dispute_id,
                "document_id": d.id,
                "disputed_cents": amounts[ref][0],
                "credited_cents": amounts[ref][1],
            }
            for ref, d in zip(refs, docs, strict=True)
        ],
    )
    events.record(
        conn, at=now, kind="dispute_opened", actor=actor, customer_id=cid, doc_refs=refs,
        text=f"{words(reason, 'reason')}: {text}",  # the timeline and Slack's "last contact" read words
    )
    return dispute_id


def resolve_dispute(
    conn: Connection, dispute_id: int, *, valid: bool, resolution: str, actor: str, now: datetime
) -> None:
    """Resolve an open dispute as valid (waits for the ERP's credit note) or not valid (dunning
    resumes), with the event `dispute_resolved`, in the caller's transaction. Raises LookupError when it
    is not open.
    """
    t = Dispute.__table__
    row = conn.execute(select(t.c.customer_id).where(t.c.id == dispute_id, t.c.status == DisputeStatus.OPEN)).first()
    if row is None:
        raise LookupError(f"no open dispute {dispute_id}")
    conn.execute(
        update(t)
        .where(t.c.id == dispute_id)
        .values(
            status=DisputeStatus.VALID if valid else DisputeStatus.NOT_VALID, resolution=resolution, resolved_at=now
        )
    )
    events.record(
        conn,
        at=now,
        kind="dispute_resolved",
        actor=actor,
        customer_id=row.customer_id,
        text=f"{'valid' if valid else 'not valid'}: {resolution}",
    )
    rearm_all(conn, row.customer_id)


def make_promise(
    conn: Connection,
    ref: str | None,
    *,
    promised: date,
    amount_cents: int,
    actor: str,
    now: datetime,
    customer_id: int | None = None,
    currency: str | None = None,
) -> int:
    """A promise to pay one document (`ref`) or, with ref None, the whole account of `customer_id` in
    `currency`, by `promised`: dunning waits until that date (event `promise_made`)."""
    if ref is not None:
        doc = _doc(conn, ref)
        doc_id, customer_id, currency = doc.id, doc.customer_id, doc.currency
    elif customer_id is None or currency is None:
        raise ValueError("a promise for the whole account needs customer_id and currency")
    else:
        doc_id = None
    pid = conn.execute(
        Promise.__table__.insert().values(
            customer_id=customer_id,
            document_id=doc_id,
            promised_date=promised,
            amount_cents=amount_cents,
            currency=currency,
            status=PromiseStatus.OPEN,
            made_by=actor,
            made_at=now,
        )
    ).inserted_primary_key[0]
    events.record(
        conn,
        at=now,
        kind="promise_made",
        actor=actor,
        customer_id=customer_id,
        doc_refs=[ref] if ref else [],
        text=f"promised to pay {cents_str(amount_cents)} {currency} by {promised}",
    )
    return pid


def propose_plan(
    conn: Connection,
    refs: list[str],
    *,
    total_cents: int,
    count: int,
    actor: str,
    now: datetime,
    dates: list[date] | None = None,
) -> int:
    """A proposed plan (event `plan_proposed`) awaiting credit staff: `count` monthly instalments from
    approval, or, with `dates`, instalments on those dates (recorded now, kept on approval)."""
    docs = [_doc(conn, r) for r in refs]
    plan_id = conn.execute(
        PaymentPlan.__table__.insert().values(
            customer_id=docs[0].customer_id,
            status=PlanStatus.PROPOSED,
            currency=docs[0].currency,
            total_cents=total_cents,
            installment_count=count,
            proposed_by=actor,
            proposed_at=now,
            decided_by="",
            reason="",
        )
    ).inserted_primary_key[0]
    conn.execute(PlanItem.__table__.insert(), [{"plan_id": plan_id, "document_id": d.id} for d in docs])
    if dates:
        conn.execute(
            PlanInstallment.__table__.insert(),
            [
                {"plan_id": plan_id, "seq": i + 1, "due_date": due, "amount_cents": cents}
                for i, (due, cents) in enumerate(schedule_on_dates(total_cents, dates))
            ],
        )
    events.record(
        conn,
        at=now,
        kind="plan_proposed",
        actor=actor,
        customer_id=docs[0].customer_id,
        doc_refs=refs,
        text=(
            f"{len(dates)} instalments on {', '.join(d.isoformat() for d in dates)}"
            if dates
            else f"{count} monthly instalments"
        ) + f", {cents_str(total_cents)} {docs[0].currency} in all",
    )
    return plan_id


def decide_plan(
    conn: Connection, plan_id: int, *, approve: bool, actor: str, now: datetime, today: date, reason: str = ""
) -> str:
    """Approve (monthly instalments, the first one month after `today`) or reject a proposed payment
    plan, with the event `plan_approved` / `plan_rejected`, in the caller's transaction; returns the
    new status (PlanStatus). Raises LookupError for no such plan, ValueError when it is not proposed.
    """
    t = PaymentPlan.__table__
    row = conn.execute(
        select(t.c.customer_id, t.c.status, t.c.total_cents, t.c.installment_count).where(t.c.id == plan_id)
    ).first()
    if row is None:
        raise LookupError(f"no payment plan {plan_id}")
    if row.status != PlanStatus.PROPOSED:
        raise ValueError(f"plan {plan_id} is {row.status}, not proposed")
    status = PlanStatus.APPROVED if approve else PlanStatus.REJECTED
    conn.execute(
        update(t).where(t.c.id == plan_id).values(status=status, decided_by=actor, decided_at=now, reason=reason)
    )
    has_dates = conn.execute(
        select(PlanInstallment.__table__.c.id).where(PlanInstallment.__table__.c.plan_id == plan_id).limit(1)
    ).first()
    if approve and not has_dates:  # monthly from approval; a plan on the debtor's own dates keeps them
        conn.execute(
            PlanInstallment.__table__.insert(),
            [
                {"plan_id": plan_id, "seq": i + 1, "due_date": due, "amount_cents": cents}
                for i, (due, cents) in enumerate(schedule(row.total_cents, row.installment_count, today))
            ],
        )
    events.record(
        conn,
        at=now,
        kind=f"plan_{status}",
        actor=actor,
        customer_id=row.customer_id,
        text=reason or f"plan {plan_id} {status}",
    )
    rearm_all(conn, row.customer_id)
    return status
