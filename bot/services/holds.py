"""Holds: a stop on reminders for a customer or one document, with a reason and an end date."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select, update

from bot.services.customers import CustomerRow, customers_by_id, resolve_exact
from storage import events
from storage.ledger_writes import rearm_all
from storage.tables import Document, Hold


def target(conn: Connection, what: str) -> tuple[CustomerRow, int | None, str | None]:
    """CUSTOMER|DOC of a command that changes something: an exact document ref first, else a customer
    by exact ref, name or alias (`resolve_exact`: raises CustomerNotExact for a lenient match)."""
    d = Document.__table__
    row = conn.execute(select(d.c.id, d.c.customer_id, d.c.ref).where(d.c.ref == what)).first()
    if row is not None:
        return customers_by_id(conn, [row.customer_id])[row.customer_id], row.id, row.ref
    return resolve_exact(conn, what), None, None


def set_hold(conn: Connection, what: str, *, until: date, reason: str, actor: str, now: datetime) -> str:
    customer, doc_id, ref = target(conn, what)
    conn.execute(
        Hold.__table__.insert(),
        [
            {
                "customer_id": customer.id,
                "document_id": doc_id,
                "until": until,
                "reason": reason,
                "status": "active",
                "requested_by": actor,
                "approved_by": actor,
                "created_at": now,
            }
        ],
    )
    subject = ref or customer.ref
    events.record(
        conn,
        at=now,
        kind="hold_set",
        actor=actor,
        customer_id=customer.id,
        doc_refs=[ref] if ref else [],
        text=f"reminders held until {until}: {reason}",
    )
    return f"{subject} ({customer.name}): reminders held until {until} inclusive"


def release_hold(conn: Connection, what: str, *, actor: str, now: datetime) -> str:
    customer, doc_id, ref = target(conn, what)
    h = Hold.__table__
    cond = [h.c.customer_id == customer.id, h.c.status == "active"]
    cond.append(h.c.document_id == doc_id if doc_id else h.c.document_id.is_(None))
    n = conn.execute(update(h).where(*cond).values(status="released", ended_at=now)).rowcount
    if not n:
        raise LookupError(f"{ref or customer.ref} has no active hold")
    rearm_all(conn, customer.id)
    events.record(
        conn,
        at=now,
        kind="hold_ended",
        actor=actor,
        customer_id=customer.id,
        doc_refs=[ref] if ref else [],
        text="hold released",
    )
    return f"{ref or customer.ref} ({customer.name}): hold released"
