"""What the Slack adapter keeps in the database: each customer's case thread, and event ids acted on.

Both are shared by every process on the database, so a restart (or a second `collectbot run`)
finds the same threads and never acts twice on one Slack event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update

from storage.sql import dialect_insert
from storage.tables import SlackEvent, SlackThread

EVENT_MEMORY = timedelta(days=2)  # Slack retries an event for about an hour; older ids are forgotten


def first_delivery(conn: Connection, event_id: str, now: datetime) -> bool:
    """Record `event_id`; True the first time it is seen, False for Slack's retry of the same event.

    Ids older than EVENT_MEMORY are pruned now and then (when the id ends in "0"), so the table
    stays small without a job of its own.
    """
    t = SlackEvent.__table__
    stmt = dialect_insert(conn, t).on_conflict_do_nothing(index_elements=["event_id"]).returning(t.c.event_id)
    new = conn.execute(stmt, {"event_id": event_id[:64], "received_at": now}).first() is not None
    if new and event_id.endswith("0"):
        conn.execute(delete(t).where(t.c.received_at < now - EVENT_MEMORY))
    return new


@dataclass(frozen=True)
class ThreadRow:
    customer_id: int
    channel: str
    root_ts: str  # "" while its root is being posted
    claimed_by: str
    created_at: datetime


def thread_of(conn: Connection, channel: str, customer_id: int) -> ThreadRow | None:
    """The customer's thread in `channel` (its root may still be being posted: root_ts "")."""
    t = SlackThread.__table__
    row = conn.execute(
        select(t.c.customer_id, t.c.channel, t.c.root_ts, t.c.claimed_by, t.c.created_at).where(
            t.c.channel == channel, t.c.customer_id == customer_id
        )
    ).first()
    return None if row is None else ThreadRow(*row)


def reserve_thread(conn: Connection, channel: str, customer_id: int, holder: str, now: datetime,
                   stale_after: timedelta) -> bool:
    """Take the right to post the customer's thread root: True if `holder` may post it now.

    A new row is reserved for `holder`; a reservation whose root never came (its holder died
    between reserving and recording the root) is taken over after `stale_after`.
    """
    t = SlackThread.__table__
    stmt = dialect_insert(conn, t).on_conflict_do_nothing(index_elements=["channel", "customer_id"]).returning(t.c.id)
    row = {"customer_id": customer_id, "channel": channel, "root_ts": "", "claimed_by": holder, "created_at": now}
    if conn.execute(stmt, row).first() is not None:
        return True
    taken = conn.execute(
        update(t)
        .where(t.c.channel == channel, t.c.customer_id == customer_id, t.c.root_ts == "",
               t.c.created_at < now - stale_after)
        .values(claimed_by=holder, created_at=now)
    ).rowcount
    return bool(taken)


def set_root(conn: Connection, channel: str, customer_id: int, root_ts: str) -> None:
    """Record the posted root of the customer's thread."""
    t = SlackThread.__table__
    conn.execute(
        update(t).where(t.c.channel == channel, t.c.customer_id == customer_id).values(root_ts=root_ts, claimed_by="")
    )


def release_thread(conn: Connection, channel: str, customer_id: int, holder: str) -> None:
    """Give up a reservation whose root could not be posted (the next alert tries again)."""
    t = SlackThread.__table__
    conn.execute(
        delete(t).where(t.c.channel == channel, t.c.customer_id == customer_id, t.c.root_ts == "",
                        t.c.claimed_by == holder)
    )


def customer_of_thread(conn: Connection, channel: str, root_ts: str) -> int | None:
    """The customer whose case thread in `channel` has the root `root_ts`, or None."""
    if not root_ts:
        return None
    t = SlackThread.__table__
    return conn.execute(select(t.c.customer_id).where(t.c.channel == channel, t.c.root_ts == root_ts)).scalar()


def forget_root(conn: Connection, channel: str, customer_id: int, root_ts: str) -> None:
    """Forget a thread whose root is gone from Slack (deleted): the next alert opens a new one."""
    t = SlackThread.__table__
    conn.execute(delete(t).where(t.c.channel == channel, t.c.customer_id == customer_id, t.c.root_ts == root_ts))


def message_status(conn: Connection, message_id: int) -> str:
    """The status of one debtor outbox message ("missing" when there is none)."""
    from storage.tables import OutboundMessage

    t = OutboundMessage.__table__
    return conn.execute(select(t.c.status).where(t.c.id == message_id)).scalar() or "missing"
