"""The fingerprint of the policy that armed the items (bot.domain.ladder.ladder_fingerprint).

Items' next-action dates are computed under a policy. When the policy the sweep reads differs
from the one stored here, every open item is re-armed, so a change (an offset, a step, a
segment) takes effect at the next sweep for every open item (DESIGN "Ladder dates and windows").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from storage.arming import REARM_DATE
from storage.sql import dialect_insert
from storage.tables import Document, SweepSetting

KEY = "policy_fingerprint"
_S = SweepSetting.__table__


def stored(conn: Connection) -> str | None:
    """The fingerprint the items were armed under; None: none recorded yet."""
    return conn.execute(select(_S.c.value).where(_S.c.key == KEY)).scalar()


def remember_if_absent(conn: Connection, fingerprint: str) -> None:
    """An import arms items under the current policy: record it, unless one is recorded already
    (then items armed before may be older: the next sweep compares and re-arms if needed)."""
    conn.execute(dialect_insert(conn, _S).on_conflict_do_nothing(index_elements=["key"]),
                 {"key": KEY, "value": fingerprint})


def adopt(conn: Connection, fingerprint: str, now: datetime) -> bool:
    """In the caller's transaction: if the stored fingerprint is not `fingerprint`, re-arm every item
    not settled by `now` (next_action_on = REARM_DATE) and store it. True if it re-armed.

    Two sweepers adopting at once: only the one whose write changes the row re-arms (the other's
    conditional update finds the new value); re-arming twice would only cost a look.
    """
    if stored(conn) == fingerprint:
        return False
    inserted = conn.execute(
        dialect_insert(conn, _S).on_conflict_do_nothing(index_elements=["key"]).returning(_S.c.key),
        {"key": KEY, "value": fingerprint},
    ).first()
    if inserted is None:
        changed = conn.execute(
            update(_S).where(_S.c.key == KEY, _S.c.value != fingerprint).values(value=fingerprint)
        ).rowcount
        if not changed:
            return False
    d = Document.__table__
    day = (now - timedelta(days=2)).date()  # settled in no time zone at `now`
    conn.execute(
        update(d)
        .where(d.c.type.in_(("invoice", "debit_note")), (d.c.settled_on.is_(None)) | (d.c.settled_on > day))
        .values(next_action_on=REARM_DATE)
    )
    return True
