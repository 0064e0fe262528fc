"""Holds: a stop on reminders for a customer or one document, with a reason and an end date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

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


# -- hold requests from Slack: a sales rep asks, credit staff decide (DESIGN "Who uses it") ---------------

HOLD_REQUEST_DAYS = 7  # the heads-up's "Hold 7 days" button


def request_hold(
    conn: Connection,
    customer: CustomerRow,
    *,
    days: int,
    reason: str,
    requester: str,
    actor: str,
    now: datetime,
    doc_refs: list[str] | tuple[str, ...] = (),
) -> int | None:
    """A sales rep's request to hold the customer's reminders for `days` days: until the customer's local
    date today + `days`, inclusive (the rest of today and `days` whole days). Status `requested`, which pauses
    nothing until credit staff approve it; event `hold_requested`; a staff alert `hold_requested`
    in the customer's thread with Approve / Reject (payload {"decision": "hold", "id"}).

    `requester` is the Slack user id (mentioned in the alert), `actor` the timeline's `slack:<id>`.
    Returns the new request's id, or None when a request for this customer is already waiting.
    """
    from zoneinfo import ZoneInfo

    from bot.services.alerts import staff_alert

    h = Hold.__table__
    waiting = conn.execute(
        select(h.c.id).where(h.c.customer_id == customer.id, h.c.status == HoldStatus.REQUESTED).limit(1)
    ).scalar()
    if waiting is not None:
        return None
    until = now.astimezone(ZoneInfo(customer.timezone)).date() + timedelta(days=days)
    hold_id = conn.execute(
        h.insert().values(
            customer_id=customer.id,
            document_id=None,
            until=until,
            reason=reason,
            status=HoldStatus.REQUESTED,
            requested_by=actor,
            approved_by="",
            created_at=now,
        )
    ).inserted_primary_key[0]
    events.record(
        conn,
        at=now,
        kind="hold_requested",
        actor=actor,
        customer_id=customer.id,
        doc_refs=doc_refs,
        text=f"asks to hold reminders until {until.isoformat()}: {reason}",
    )
    staff_alert(
        conn,
        key=f"hold_requested:{hold_id}",
        customer=customer,
        kind="hold_requested",
        now=now,
        doc_refs=doc_refs,
        payload={"decision": "hold", "id": hold_id},
        hold={"id": hold_id, "until": until, "reason": reason, "requester": requester},
    )
    return hold_id


def decide_hold(conn: Connection, hold_id: int, *, approve: bool, actor: str, now: datetime, reason: str = "") -> str:
    """Credit staff's decision on a hold request: `active` (event `hold_set`: reminders pause until its
    date, inclusive) or `rejected` (event `hold_rejected`). Returns the new status.

    Raises LookupError for no such hold, ValueError when it is not a request waiting for a decision.
    """
    h = Hold.__table__
    row = conn.execute(select(h).where(h.c.id == hold_id)).first()
    if row is None:
        raise LookupError(f"no hold request {hold_id}")
    if row.status != HoldStatus.REQUESTED:
        raise ValueError(f"hold {hold_id} is {row.status}, not requested")
    status = HoldStatus.ACTIVE if approve else HoldStatus.REJECTED
    conn.execute(
        update(h)
        .where(h.c.id == hold_id)
        .values(status=status, approved_by=actor if approve else "", ended_at=None if approve else now)
    )
    why = f": {reason}" if reason else ""
    if approve:
        events.record(
            conn, at=now, kind="hold_set", actor=actor, customer_id=row.customer_id,
            text=f"reminders held until {row.until} (requested by {row.requested_by}): {row.reason}",
        )
    else:
        events.record(
            conn, at=now, kind="hold_rejected", actor=actor, customer_id=row.customer_id,
            text=f"hold request {hold_id} (until {row.until}) rejected{why}",
        )
    rearm_all(conn, row.customer_id)
    return str(status)
