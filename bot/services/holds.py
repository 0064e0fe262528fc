"""Holds: a stop on reminders for a customer or one document, with a reason and an end date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, select, update

from bot.domain.statuses import HoldStatus
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


@dataclass(frozen=True)
class HoldChange:
    """A hold set or released: the customer, the document (None: the whole customer) and, for a hold
    set, its last day (inclusive, the customer's local date)."""

    customer: CustomerRow
    doc_ref: str | None
    until: date | None = None

    @property
    def subject(self) -> str:
        """The document's ref, else the customer's."""
        return self.doc_ref or self.customer.ref


def set_hold(conn: Connection, what: str, *, until: date, reason: str, actor: str, now: datetime) -> HoldChange:
    """Hold reminders for CUSTOMER|DOC (`target`: an exact match) until `until` inclusive
    (DESIGN "Dunning policy", holds): an active Hold row and the event `hold_set`, in the caller's
    transaction. Raises CustomerNotFound / CustomerNotExact / CustomerAmbiguous."""
    customer, doc_id, ref = target(conn, what)
    conn.execute(
        Hold.__table__.insert(),
        [
            {
                "customer_id": customer.id,
                "document_id": doc_id,
                "until": until,
                "reason": reason,
                "status": HoldStatus.ACTIVE,
                "requested_by": actor,
                "approved_by": actor,
                "created_at": now,
            }
        ],
    )
    events.record(
        conn,
        at=now,
        kind="hold_set",
        actor=actor,
        customer_id=customer.id,
        doc_refs=[ref] if ref else [],
        text=f"reminders held until {until}: {reason}",
    )
    return HoldChange(customer, ref, until)


def release_hold(conn: Connection, what: str, *, actor: str, now: datetime) -> HoldChange:
    """End the active hold of CUSTOMER|DOC (event `hold_ended`); its items are armed again so the
    next sweep plans them. Raises LookupError when none is active, and like `target`."""
    customer, doc_id, ref = target(conn, what)
    h = Hold.__table__
    cond = [h.c.customer_id == customer.id, h.c.status == HoldStatus.ACTIVE]
    cond.append(h.c.document_id == doc_id if doc_id else h.c.document_id.is_(None))
    n = conn.execute(update(h).where(*cond).values(status=HoldStatus.RELEASED, ended_at=now)).rowcount
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
    return HoldChange(customer, ref)


def hold(engine: Engine, what: str, *, until: date, reason: str, actor: str, now: datetime) -> HoldChange:
    """`set_hold` in its own transaction (nothing is written when it raises)."""
    with engine.begin() as conn:
        return set_hold(conn, what, until=until, reason=reason, actor=actor, now=now)


def release(engine: Engine, what: str, *, actor: str, now: datetime) -> HoldChange:
    """`release_hold` in its own transaction (nothing is written when it raises)."""
    with engine.begin() as conn:
        return release_hold(conn, what, actor=actor, now=now)
