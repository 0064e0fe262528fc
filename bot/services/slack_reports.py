"""Reports asked for in Slack (prospects, scorecard, aging, digest, weekly), cut to what the asker may see.

DESIGN "Who sees what": credit staff see every customer; a sales rep sees their own
customers; anyone else sees no report (the caller refuses before calling). For a rep
every report is limited to their customers (`rep_slack_id`):

- `prospects`, `aging`, `weekly`: only their customers' rows and totals;
- `digest`: only the reminders, escalations, promises, disputes and claims of their customers;
- `scorecard`: only their own row (invoiced and collected for their customers): the other
  reps' figures are other customers' money. Credit staff get every rep, zeros included.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from bot.domain.balances import BUCKETS
from bot.domain.money import cents_str
from bot.domain.months import Month
from bot.services.report_post import build_report
from bot.services.reports import scan
from bot.services.visibility import Visibility

KINDS = ("prospects", "scorecard", "aging", "digest", "weekly")


def aging_document_for(conn: Connection, as_of: date, rep_slack_id: str | None = None) -> dict:
    """`report aging --format json`'s document, optionally for one rep's customers only.

    Shape as DESIGN's `report aging`: {"as_of", "rep_slack_id", "reports": [{"currency", "rows":
    [{"customer_ref", "name", "current", "1-30", "31-60", "61-90", "90+", "unapplied_credit",
    "total"}], "totals": {...}}]}; one row per customer with anything open or unapplied.
    """
    keys = (*BUCKETS, "unapplied_credit", "total")
    per_currency: dict[str, list[dict]] = {}
    for s in scan(conn, as_of, rep_slack_id):
        for b in s.balance.balances:
            if not any(b.buckets.values()) and not b.unapplied_credit_cents:
                continue
            values = dict(b.buckets) | {"unapplied_credit": b.unapplied_credit_cents, "total": b.total_open_cents}
            per_currency.setdefault(b.currency, []).append(
                {"customer_ref": s.customer.ref, "name": s.customer.name, **values}
            )
    reports = []
    for currency in sorted(per_currency):
        rows = per_currency[currency]
        totals = {k: sum(r[k] for r in rows) for k in keys}
        reports.append(
            {
                "currency": currency,
                "rows": [{**r, **{k: cents_str(r[k]) for k in keys}} for r in rows],
                "totals": {k: cents_str(v) for k, v in totals.items()},
            }
        )
    return {"as_of": as_of.isoformat(), "rep_slack_id": rep_slack_id, "reports": reports}


def report_for(
    conn: Connection, kind: str, vis: Visibility, *, day: date, tz: ZoneInfo, month: Month | None = None
) -> dict:
    """The document of report `kind` as `vis` may see it (see the module's rules).

    Raises PermissionError for someone who sees nothing, ValueError for an unknown kind.
    """
    if vis.sees_nothing:
        raise PermissionError("no access to reports")
    rep = None if vis.credit_staff else vis.rep_slack_id
    if kind == "aging":
        return aging_document_for(conn, day, rep)
    if kind not in KINDS:
        raise ValueError(f"unknown report {kind!r}")
    return build_report(conn, kind, day=day, tz=tz, rep_slack_id=rep, month=month).document  # type: ignore[arg-type]
