"""Disputes a debtor opens in Telegram, credit staff's resolution, and the credit note a valid one awaits.

Open: dunning pauses on the invoice (storage.pauses). Resolved not valid: dunning resumes.
Resolved valid: the ERP stays the book of record, so collectbot writes no credit note; the
invoice stays paused until the ERP's credit note naming it is imported (any credit note beyond
those it had when disputed), so the disputed amount is never dunned again. If none has come
`credit_note_wait_days` (policy) after the decision, credit staff are reminded, once
(`remind_missing_credit_notes`, which the sweep calls). The debtor is told either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from bot.domain.statuses import DisputeStatus
from bot.services import cases
from bot.services.alerts import staff_alert
from bot.services.customers import CustomerRow, customers_by_id
from bot.services.notices import Decided, notify_debtor
from messages.words import words
from storage import events
from storage.engine import reading
from storage.tables import Customer, Dispute, DisputeItem, Document

REASONS = (
    "not_received",
    "damaged",
    "wrong_price",
    "already_paid",
    "returned",
    "balance_differs",
    "other",
)
STATUSES = tuple(DisputeStatus)


def open_debtor_dispute(
    conn: Connection, customer: CustomerRow, ref: str, *, reason: str, text: str, actor: str, now: datetime
) -> int:
    """The debtor's dispute of one invoice (event `dispute_opened`, staff alert with Valid / Not valid)."""
    if reason not in REASONS:
        raise ValueError(f"unknown dispute reason {reason!r}")
    dispute_id = cases.open_dispute(conn, [ref], reason=reason, text=text, actor=actor, now=now)
    staff_alert(
        conn,
        key=f"dispute_opened:{dispute_id}",
        customer=customer,
        kind="dispute_opened",
        now=now,
        doc_refs=[ref],
        payload={"decision": "dispute", "id": dispute_id},
        dispute={"id": dispute_id, "ref": ref, "reason": words(reason, "reason"), "text": text},
    )
    return dispute_id


def _dispute_refs(conn: Connection, dispute_id: int) -> list[str]:
    di, d = DisputeItem.__table__, Document.__table__
    return list(
        conn.execute(
            select(d.c.ref).join(di, di.c.document_id == d.c.id).where(di.c.dispute_id == dispute_id).order_by(d.c.ref)
        ).scalars()
    )


def resolve(
    conn: Connection, dispute_id: int, *, valid: bool, reason: str, actor: str, now: datetime
) -> tuple[str, int | None]:
    """Resolve an open dispute; returns (status, id of the notice to the debtor or None). LookupError if not open."""
    cases.resolve_dispute(conn, dispute_id, valid=valid, resolution=reason, actor=actor, now=now)
    t = Dispute.__table__
    row = conn.execute(select(t.c.customer_id, t.c.reason).where(t.c.id == dispute_id)).one()
    customer = customers_by_id(conn, [row.customer_id])[row.customer_id]
    refs = _dispute_refs(conn, dispute_id)
    status = DisputeStatus.VALID if valid else DisputeStatus.NOT_VALID
    notice = notify_debtor(
        conn,
        key=f"notice:dispute:{dispute_id}",
        customer=customer,
        phrase=f"notices.dispute_{status}",
        now=now,
        doc_refs=refs,
        invoices=refs,
        reason=reason,
    )
    return status, notice


def list_disputes(conn: Connection, status: str | None = None) -> list[dict]:
    """Disputes oldest first in the CLI's JSON shape; `awaiting_credit_note` for a valid one still waiting."""
    t, c = Dispute.__table__, Customer.__table__
    q = select(t, c.c.ref.label("customer_ref")).join(c, c.c.id == t.c.customer_id).order_by(t.c.id)
    if status:
        q = q.where(t.c.status == status)
    rows = conn.execute(q).all()
    waiting = _waiting(conn)
    return [
        {
            "id": r.id,
            "customer_ref": r.customer_ref,
            "status": r.status,
            "reason": r.reason,
            "text": r.text,
            "doc_refs": _dispute_refs(conn, r.id),
            "opened_by": r.opened_by,
            "opened_at": r.opened_at.isoformat(),
            "resolution": r.resolution or None,
            "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
            "awaiting_credit_note": r.id in waiting,
        }
        for r in rows
    ]


def _waiting(conn: Connection, resolved_before: datetime | None = None) -> dict[int, tuple[int, datetime]]:
    """dispute id -> (customer id, resolved at) of valid disputes with an item whose credit note has not come."""
    t, di, d = Dispute.__table__, DisputeItem.__table__, Document.__table__
    cn = Document.__table__.alias("cn")
    credited = (
        select(func.coalesce(func.sum(cn.c.amount_cents), 0))
        .where(cn.c.customer_id == t.c.customer_id, cn.c.type == "credit_note", cn.c.related_ref == d.c.ref)
        .scalar_subquery()
    )
    q = (
        select(t.c.id, t.c.customer_id, t.c.resolved_at)
        .join(di, di.c.dispute_id == t.c.id)
        .join(d, d.c.id == di.c.document_id)
        .where(t.c.status == DisputeStatus.VALID, di.c.credited_cents >= credited)
        .distinct()
    )
    if resolved_before is not None:
        q = q.where(t.c.resolved_at <= resolved_before)
    return {r.id: (r.customer_id, r.resolved_at) for r in conn.execute(q)}


@dataclass(frozen=True)
class MissingCreditNote:
    dispute_id: int
    customer_id: int
    resolved_at: datetime
    doc_refs: tuple[str, ...]


def missing_credit_notes(conn: Connection, *, now: datetime, wait_days: int) -> list[MissingCreditNote]:
    """Valid disputes resolved at least `wait_days` days before `now` whose credit note has not been imported."""
    found = _waiting(conn, resolved_before=now - timedelta(days=wait_days))
    return [
        MissingCreditNote(dispute_id, cid, at, tuple(_dispute_refs(conn, dispute_id)))
        for dispute_id, (cid, at) in sorted(found.items())
    ]


def remind_missing_credit_notes(conn: Connection, *, now: datetime, wait_days: int) -> int:
    """Remind credit staff, once per dispute, of each credit note still missing (policy
    `credit_note_wait_days`); the reminder is in the customer's timeline too (kind `escalated`).
    Returns how many reminders this call recorded. For the sweep, in its own short transaction."""
    count = 0
    late = missing_credit_notes(conn, now=now, wait_days=wait_days)
    customers = customers_by_id(conn, sorted({m.customer_id for m in late}))
    for m in late:
        customer = customers[m.customer_id]
        if staff_alert(
            conn,
            key=f"credit_note_missing:{m.dispute_id}",
            customer=customer,
            kind="credit_note_missing",
            now=now,
            doc_refs=m.doc_refs,
            payload={"dispute": m.dispute_id},
            dispute={"id": m.dispute_id, "resolved_on": m.resolved_at.date(), "days": wait_days},
            doc_list=list(m.doc_refs),
        ):
            events.record(
                conn,
                at=now,
                kind="escalated",
                actor="system",
                customer_id=customer.id,
                doc_refs=m.doc_refs,
                text=f"dispute {m.dispute_id} was found valid on {m.resolved_at.date().isoformat()}; "
                f"no credit note imported after {wait_days} days: credit staff reminded",
            )
            count += 1
    return count


def resolve_now(
    engine: Engine, dispute_id: int, *, valid: bool, reason: str, actor: str, now: datetime
) -> Decided:
    """`resolve` in its own transaction (status `valid` or `not_valid`). Raises LookupError when the
    dispute is not open, and then nothing is written."""
    with engine.begin() as conn:
        return Decided(*resolve(conn, dispute_id, valid=valid, reason=reason, actor=actor, now=now))


def disputes(engine: Engine, status: str | None = None) -> list[dict]:
    """`list_disputes` read in one snapshot (its own read-only transaction)."""
    with reading(engine) as conn:
        return list_disputes(conn, status)
