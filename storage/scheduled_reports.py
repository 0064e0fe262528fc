"""Scheduled Slack reports claimed per (kind, period): posted once across every process on the database.

Every `collectbot run` schedules the daily digest and the weekly summary at the same company time; the
first to insert the period's row posts it, the others see the row and do nothing. A row left
`posting` by a process that died is not posted again (it may have been posted): at most once, like
the staff alerts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from storage.sql import dialect_insert
from storage.tables import ScheduledReport


def claim_report(conn: Connection, kind: str, period: str, holder: str, now: datetime) -> bool:
    """Claim the `kind` report of `period` for `holder`: True for the one claimer that posts it."""
    t = ScheduledReport.__table__
    stmt = dialect_insert(conn, t).on_conflict_do_nothing(index_elements=["kind", "period"]).returning(t.c.id)
    row = {"kind": kind, "period": period, "status": "posting", "claimed_by": holder, "slack_ts": "", "error": "",
           "created_at": now}
    return conn.execute(stmt, row).first() is not None


def finish_report(conn: Connection, kind: str, period: str, *, posted: str = "", error: str = "") -> None:
    """Record the claimed report's result: `posted` ("channel ts"), or the `error` that stopped it."""
    t = ScheduledReport.__table__
    conn.execute(update(t).where(t.c.kind == kind, t.c.period == period).values(
        status="posted" if posted else "failed", slack_ts=posted[:64], error=error[:500]))


def report_claims(conn: Connection) -> list[tuple[str, str, str, str]]:
    """(kind, period, status, slack_ts) of every scheduled report claimed, oldest first."""
    t = ScheduledReport.__table__
    return [tuple(r) for r in conn.execute(  # type: ignore[misc]
        select(t.c.kind, t.c.period, t.c.status, t.c.slack_ts).order_by(t.c.id))]
