"""Payments the debtor reports in Telegram ("I paid") and credit staff's decision on them.

A claim is a `payment` row with status `claimed` and source `debtor`, allocated to the invoices
the debtor chose; while it is claimed it pauses dunning on them (storage.pauses) and does not
count in balances (only confirmed payments do). Confirmed, it counts until the ERP's import
brings the same payment (bot.domain.claimed_payments); rejected, it never counts and dunning
resumes. Its ref is `CLAIM-<id>`: an ERP export that keeps that ref updates the same row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, select, text, update

from bot.domain.claimed_payments import allocate_claim
from bot.domain.money import cents_str
from bot.domain.statuses import PaymentStatus
from bot.services.alerts import staff_alert
from bot.services.customers import CustomerRow, customers_by_id
from bot.services.notices import Decided, notify_debtor
from storage import events
from storage.engine import reading
from storage.ledger_writes import rearm_all
from storage.tables import DEBTOR_CLAIMS, Allocation, Customer, Payment

CLAIM_PREFIX = "CLAIM-"
STATUSES = tuple(PaymentStatus)


@dataclass(frozen=True)
class Claim:
    """What the debtor said: `items` are (doc ref, open cents) of the chosen invoices, oldest first."""

    items: tuple[tuple[str, int], ...]
    amount_cents: int
    currency: str
    paid_on: date
    reference: str
    receipt_file_id: str = ""
    receipt_kind: str = ""  # "" | photo | document


def claim_payment(conn: Connection, customer: CustomerRow, claim: Claim, *, actor: str, now: datetime) -> int:
    """Record the claim (event `payment_claimed`, a staff alert with Confirm / Reject) and return its id."""
    p = Payment.__table__
    pid = conn.execute(
        p.insert().values(
            ref=f"{CLAIM_PREFIX}pending-{uuid.uuid4().hex}",  # renamed to CLAIM-<id> below
            customer_id=customer.id,
            date=claim.paid_on,
            amount_cents=claim.amount_cents,
            currency=claim.currency,
            method="telegram",
            status=PaymentStatus.CLAIMED,
            source="debtor",
            reference=claim.reference[:255],
            created_at=now,
            claimed_by=actor,
            receipt_file_id=claim.receipt_file_id,
            receipt_kind=claim.receipt_kind,
            decided_by="",
            decision_reason="",
        )
    ).inserted_primary_key[0]
    ref = f"{CLAIM_PREFIX}{pid}"
    conn.execute(update(p).where(p.c.id == pid).values(ref=ref))
    shares = allocate_claim(claim.items, claim.amount_cents)
    if shares:
        conn.execute(
            Allocation.__table__.insert(),
            [
                {"payment_id": pid, "document_ref": doc, "amount_cents": cents, "position": i}
                for i, (doc, cents) in enumerate(shares)
            ],
        )
    refs = [doc for doc, _ in claim.items]
    events.record(
        conn,
        at=now,
        kind="payment_claimed",
        actor=actor,
        customer_id=customer.id,
        doc_refs=refs,
        text=(
            f"{ref}: {cents_str(claim.amount_cents)} {claim.currency} paid on {claim.paid_on.isoformat()}, "
            f"reference {claim.reference}{'; receipt attached' if claim.receipt_file_id else ''}"
        ),
    )
    staff_alert(
        conn,
        key=f"payment_claimed:{pid}",
        customer=customer,
        kind="payment_claimed",
        now=now,
        doc_refs=refs,
        payload={"decision": "payment", "id": pid},
        payment={
            "id": pid,
            "ref": ref,
            "amount_cents": claim.amount_cents,
            "currency": claim.currency,
            "paid_on": claim.paid_on,
            "reference": claim.reference,
            "receipt": claim.receipt_kind,
        },
        doc_list=refs,
    )
    rearm_all(conn, customer.id)
    return pid


def decide_payment(
    conn: Connection, payment_id: int, *, confirm: bool, reason: str, actor: str, now: datetime
) -> tuple[str, int | None]:
    """Confirm or reject a claimed payment; returns (new status, id of the notice to the debtor or None).

    Raises LookupError for no such claim, ValueError when it was decided already.
    """
    p, a = Payment.__table__, Allocation.__table__
    row = conn.execute(select(p).where(p.c.id == payment_id, p.c.source == "debtor")).first()
    if row is None:
        raise LookupError(f"no claimed payment {payment_id}")
    if row.status != PaymentStatus.CLAIMED:
        raise ValueError(f"payment {payment_id} is {row.status}, not claimed")
    status = PaymentStatus.CONFIRMED if confirm else PaymentStatus.REJECTED
    conn.execute(
        update(p)
        .where(p.c.id == payment_id)
        .values(status=status, decided_by=actor, decided_at=now, decision_reason=reason)
    )
    refs = list(conn.execute(select(a.c.document_ref).where(a.c.payment_id == payment_id).order_by(a.c.position))
                .scalars())
    events.record(
        conn,
        at=now,
        kind=f"payment_{status}",
        actor=actor,
        customer_id=row.customer_id,
        doc_refs=refs,
        text=f"{row.ref} {status}{f': {reason}' if reason else ''}",
    )
    rearm_all(conn, row.customer_id)
    customer = customers_by_id(conn, [row.customer_id])[row.customer_id]
    notice = notify_debtor(
        conn,
        key=f"notice:payment:{payment_id}",
        customer=customer,
        phrase=f"notices.payment_{status}",
        now=now,
        doc_refs=refs,
        amount_cents=row.amount_cents,
        currency=row.currency,
        paid_on=row.date,
        reference=row.reference,
        invoices=refs,
        reason=reason,
    )
    return status, notice


def list_claims(conn: Connection, status: str | None = None) -> list[dict]:
    """The debtors' payment claims (oldest first) in the CLI's JSON shape; amounts as "1234.50"."""
    p, a, c = Payment.__table__, Allocation.__table__, Customer.__table__
    q = (
        select(p, c.c.ref.label("customer_ref"))
        .join(c, c.c.id == p.c.customer_id)
        .where(text(DEBTOR_CLAIMS))  # through the claims' own index
        .order_by(p.c.id)
    )
    if status:
        q = q.where(p.c.status == status)
    rows = conn.execute(q).all()
    shares: dict[int, list[dict]] = {}
    ids = [r.id for r in rows]
    for i in range(0, len(ids), 900):
        for pid, doc, cents in conn.execute(
            select(a.c.payment_id, a.c.document_ref, a.c.amount_cents)
            .where(a.c.payment_id.in_(ids[i : i + 900]))
            .order_by(a.c.payment_id, a.c.position)
        ):
            shares.setdefault(pid, []).append({"doc_ref": doc, "amount": cents_str(cents)})
    return [
        {
            "id": r.id,
            "ref": r.ref,
            "customer_ref": r.customer_ref,
            "status": r.status,
            "date": r.date.isoformat(),
            "amount": cents_str(r.amount_cents),
            "currency": r.currency,
            "reference": r.reference,
            "doc_refs": [s["doc_ref"] for s in shares.get(r.id, [])],
            "allocations": shares.get(r.id, []),
            "receipt": r.receipt_kind or None,
            "claimed_by": r.claimed_by,
            "claimed_at": r.created_at.isoformat() if r.created_at else None,
            "decided_by": r.decided_by or None,
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "reason": r.decision_reason or None,
        }
        for r in rows
    ]


def decide_claim(
    engine: Engine, payment_id: int, *, confirm: bool, reason: str, actor: str, now: datetime
) -> Decided:
    """`decide_payment` in its own transaction. Raises LookupError (no such claim) / ValueError
    (decided already), and then nothing is written."""
    with engine.begin() as conn:
        return Decided(*decide_payment(conn, payment_id, confirm=confirm, reason=reason, actor=actor, now=now))


def claims(engine: Engine, status: str | None = None) -> list[dict]:
    """`list_claims` read in one snapshot (its own read-only transaction)."""
    with reading(engine) as conn:
        return list_claims(conn, status)


def unmatched_claims(conn: Connection, *, now: datetime, wait_days: int) -> list[dict]:
    """Claims (not rejected) reported at least `wait_days` days before `now` that no imported payment matches.

    "Matches" is bot.domain.claimed_payments' rule (the debtor's bank reference, else the same
    amount within the matching window), applied to all of the customer's claims at once so that
    each imported payment stands in for one claim only. A claim whose own ref `CLAIM-<id>` came
    back in an import (confirmed, decided by nobody) is the ERP's record of it: matched.
    Each: {"id", "ref", "customer_id", "amount_cents", "currency", "paid_on", "reference",
    "status", "created_at", "doc_refs"}, oldest first.
    """
    from bot.domain.claimed_payments import PaymentFact, superseded_claims

    p, a = Payment.__table__, Allocation.__table__
    live = (PaymentStatus.CLAIMED, PaymentStatus.CONFIRMED)
    cutoff = now - timedelta(days=wait_days)
    old = conn.execute(
        select(p.c.customer_id)
        .where(text(DEBTOR_CLAIMS), p.c.status.in_(live), p.c.created_at <= cutoff)  # the claims' own index
        .distinct()
    ).scalars().all()
    out: list[dict] = []
    for i in range(0, len(old), 900):
        ids = old[i : i + 900]
        rows = conn.execute(
            select(p).where(p.c.customer_id.in_(ids), p.c.status.in_(live)).order_by(p.c.id)
        ).all()
        by_customer: dict[int, list] = {}
        for r in rows:
            by_customer.setdefault(r.customer_id, []).append(r)
        for rs in by_customer.values():
            erp_booked = [r.status == PaymentStatus.CONFIRMED and not r.decided_by for r in rs]
            claims = [r for r, booked in zip(rs, erp_booked, strict=True) if r.source == "debtor" and not booked]
            imported = [PaymentFact(r.ref, r.date, r.amount_cents, r.currency) for r in rs
                        if r.source != "debtor" and r.status == PaymentStatus.CONFIRMED]
            facts = [PaymentFact(r.ref, r.date, r.amount_cents, r.currency, r.reference or "") for r in claims]
            matched = superseded_claims(facts, imported)
            for r in claims:
                if r.ref in matched or r.created_at is None or r.created_at > cutoff:
                    continue
                refs = list(conn.execute(
                    select(a.c.document_ref).where(a.c.payment_id == r.id).order_by(a.c.position)).scalars())
                out.append({
                    "id": r.id, "ref": r.ref, "customer_id": r.customer_id, "amount_cents": r.amount_cents,
                    "currency": r.currency, "paid_on": r.date, "reference": r.reference, "status": str(r.status),
                    "created_at": r.created_at, "doc_refs": refs,
                })
    return sorted(out, key=lambda c: (c["created_at"], c["id"]))


def alert_unmatched_claims(conn: Connection, *, now: datetime, wait_days: int) -> int:
    """Tell credit staff, once per claim, of each claimed payment no imported payment matches after
    `wait_days` days (policy `unmatched_claim_days`; issue 13 §9): a staff alert `payment_unmatched`
    in the customer's thread (with Confirm / Reject while the claim waits for a decision) and an
    `escalated` event in the timeline. Returns how many alerts this call recorded.

    Same call shape as bot.services.disputes.remind_missing_credit_notes: for the sweep, in its own
    short transaction.
    """
    late = unmatched_claims(conn, now=now, wait_days=wait_days)
    customers = customers_by_id(conn, sorted({c["customer_id"] for c in late}))
    count = 0
    for c in late:
        customer = customers[c["customer_id"]]
        waiting = c["status"] == PaymentStatus.CLAIMED
        payload = {"decision": "payment", "id": c["id"]} if waiting else {"payment": c["id"]}
        if staff_alert(
            conn,
            key=f"payment_unmatched:{c['id']}",
            customer=customer,
            kind="payment_unmatched",
            now=now,
            doc_refs=c["doc_refs"],
            payload=payload,
            payment={
                "id": c["id"], "ref": c["ref"], "amount_cents": c["amount_cents"], "currency": c["currency"],
                "paid_on": c["paid_on"], "reference": c["reference"], "status": c["status"],
                "reported_on": c["created_at"].date(), "days": wait_days,
            },
            doc_list=c["doc_refs"],
        ):
            events.record(
                conn,
                at=now,
                kind="escalated",
                actor="system",
                customer_id=customer.id,
                doc_refs=c["doc_refs"],
                text=f"{c['ref']} ({cents_str(c['amount_cents'])} {c['currency']}, reference {c['reference']}) "
                f"claimed on {c['created_at'].date().isoformat()}: no imported payment matches it after "
                f"{wait_days} days; credit staff told",
            )
            count += 1
    return count
