"""Disputes, promises and payment plans: the debtor's answers and the staff's decisions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select, update

from bot.domain.plans import schedule
from storage import events
from storage.ledger_writes import rearm_all
from storage.tables import (
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


def open_dispute(conn: Connection, refs: list[str], *, reason: str, text: str, actor: str, now: datetime) -> int:
    docs = [_doc(conn, r) for r in refs]
    cid = docs[0].customer_id
    dispute_id = conn.execute(
        Dispute.__table__.insert().values(
            customer_id=cid,
            status="open",
            reason=reason,
            text=text,
            resolution="",
            opened_by=actor,
            opened_at=now,
        )
    ).inserted_primary_key[0]
    conn.execute(DisputeItem.__table__.insert(), [{"dispute_id": dispute_id, "document_id": d.id} for d in docs])
    events.record(
        conn, at=now, kind="dispute_opened", actor=actor, customer_id=cid, doc_refs=refs, text=f"{reason}: {text}"
    )
    return dispute_id


def resolve_dispute(
    conn: Connection, dispute_id: int, *, valid: bool, resolution: str, actor: str, now: datetime
) -> None:
    t = Dispute.__table__
    row = conn.execute(select(t.c.customer_id).where(t.c.id == dispute_id, t.c.status == "open")).first()
    if row is None:
        raise LookupError(f"no open dispute {dispute_id}")
    conn.execute(
        update(t)
        .where(t.c.id == dispute_id)
        .values(status="valid" if valid else "not_valid", resolution=resolution, resolved_at=now)
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


def make_promise(conn: Connection, ref: str, *, promised: date, amount_cents: int, actor: str, now: datetime) -> int:
    doc = _doc(conn, ref)
    pid = conn.execute(
        Promise.__table__.insert().values(
            customer_id=doc.customer_id,
            document_id=doc.id,
            promised_date=promised,
            amount_cents=amount_cents,
            currency=doc.currency,
            status="open",
            made_by=actor,
            made_at=now,
        )
    ).inserted_primary_key[0]
    events.record(
        conn,
        at=now,
        kind="promise_made",
        actor=actor,
        customer_id=doc.customer_id,
        doc_refs=[ref],
        text=f"promised to pay by {promised}",
    )
    return pid


def propose_plan(conn: Connection, refs: list[str], *, total_cents: int, count: int, actor: str, now: datetime) -> int:
    docs = [_doc(conn, r) for r in refs]
    plan_id = conn.execute(
        PaymentPlan.__table__.insert().values(
            customer_id=docs[0].customer_id,
            status="proposed",
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
    events.record(
        conn,
        at=now,
        kind="plan_proposed",
        actor=actor,
        customer_id=docs[0].customer_id,
        doc_refs=refs,
        text=f"{count} monthly instalments",
    )
    return plan_id


def decide_plan(
    conn: Connection, plan_id: int, *, approve: bool, actor: str, now: datetime, today: date, reason: str = ""
) -> str:
    t = PaymentPlan.__table__
    row = conn.execute(
        select(t.c.customer_id, t.c.status, t.c.total_cents, t.c.installment_count).where(t.c.id == plan_id)
    ).first()
    if row is None:
        raise LookupError(f"no payment plan {plan_id}")
    if row.status != "proposed":
        raise ValueError(f"plan {plan_id} is {row.status}, not proposed")
    status = "approved" if approve else "rejected"
    conn.execute(
        update(t).where(t.c.id == plan_id).values(status=status, decided_by=actor, decided_at=now, reason=reason)
    )
    if approve:
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
