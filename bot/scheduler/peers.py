"""What one `collectbot run` notices about the other processes on its database: one that died with claims.

A process killed mid-delivery leaves rows it had claimed (a message `sending` or reserved, an alert
`posting`); bot.scheduler.delivery.recover_dead_claims settles them in the next delivery pass. Every
`run` looks every few seconds whether such rows wait (one indexed query, no network) and asks for a
pass when they do, so the dead one's sends are reported `unknown` (and its reserved messages
delivered) within seconds, not at the next scheduled pass — also with
COLLECTBOT_SWEEP_INTERVAL_MINUTES=0, where nothing else would look.
"""

from __future__ import annotations

from sqlalchemy import Engine, or_, select

from bot.scheduler.claims import dead_holders
from storage.engine import reading
from storage.outbound import AlertStatus, MessageStatus
from storage.tables import OutboundMessage, StaffAlert

WATCH_SECONDS = 5.0  # how often `run` looks for claims left by a process that died


def dead_claims_waiting(engine: Engine) -> bool:
    """Whether a message or alert is held by a process or database session that is gone (blocking)."""
    t, a = OutboundMessage.__table__, StaffAlert.__table__
    with reading(engine) as conn:
        holders = set(conn.execute(select(t.c.claimed_by).distinct().where(or_(
            t.c.status == MessageStatus.SENDING,
            (t.c.status == MessageStatus.PENDING) & (t.c.claimed_by != ""),
        ))).scalars())
        holders |= set(conn.execute(select(a.c.claimed_by).distinct().where(a.c.status == AlertStatus.POSTING))
                       .scalars())
        return bool(holders) and bool(dead_holders(conn, holders))
