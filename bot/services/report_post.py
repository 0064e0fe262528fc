"""Building a report and posting it to the team's Slack channel: the seam between the reports and the Slack app.

A report is a plain document (bot.services.reports, bot.services.digest) plus, for the
weekly summary, the aging chart. `build_report` makes any of them the same way for the
CLI, the Slack commands and the scheduled posts; `post_report(report, poster)` hands
one to a poster. The Slack app provides the poster (bot.handlers.slack.report_poster:
blocks, and the chart uploaded with `files_upload_v2`), so the CLI's
`report ... --post` and the scheduled posts of `collectbot run` go through the same call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from bot.config import Settings
from bot.domain.months import Month
from storage import scheduled_reports
from storage.engine import reading

ReportKind = Literal["digest", "weekly", "prospects", "scorecard"]
REPORT_KINDS: tuple[str, ...] = get_args(ReportKind)


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    document: dict  # the report's JSON document, exactly as `--format json` prints it
    chart_png: bytes | None = None  # the weekly summary's aging chart


def build_report(  # noqa: PLR0913
    conn: Connection,
    kind: ReportKind,
    *,
    day: date,
    tz: ZoneInfo,
    rep_slack_id: str | None = None,
    month: Month | None = None,
    top: int = 10,
    chart: bool = False,
) -> Report:
    """One report for the company date `day` (scorecard: `month`, default the month of `day`).

    `rep_slack_id` limits it to that rep's customers (None: every customer); `chart`
    draws the weekly summary's aging chart. Raises ValueError for an unknown kind.
    """
    from bot.services.digest import digest_document
    from bot.services.reports import prospects_document, scorecard_document, weekly_document

    png = None
    if kind == "digest":
        doc = digest_document(conn, day, tz, rep_slack_id=rep_slack_id)
    elif kind == "weekly":
        doc = weekly_document(conn, day, rep_slack_id=rep_slack_id, top=top)
        if chart:
            from bot.services.aging_chart import aging_chart_png

            png = aging_chart_png(doc)
    elif kind == "prospects":
        doc = prospects_document(conn, day, rep_slack_id=rep_slack_id)
    elif kind == "scorecard":
        doc = scorecard_document(conn, month or Month.of(day), rep_slack_id=rep_slack_id)
    else:
        raise ValueError(f"unknown report {kind!r}; reports: {', '.join(REPORT_KINDS)}")
    return Report(kind, doc, png)


def make_report(  # noqa: PLR0913
    engine: Engine,
    kind: ReportKind,
    *,
    day: date,
    tz: ZoneInfo,
    rep_slack_id: str | None = None,
    month: Month | None = None,
    top: int = 10,
    chart: bool = False,
) -> Report:
    """`build_report` read in one snapshot (its own read-only transaction); same arguments and errors."""
    with reading(engine) as conn:
        return build_report(
            conn, kind, day=day, tz=tz, rep_slack_id=rep_slack_id, month=month, top=top, chart=chart
        )


class ReportPoster(Protocol):
    def post_report(self, report: Report) -> str:
        """Post to the channel; return where it went (e.g. the message's permalink or ts)."""


class SlackNotConfigured(RuntimeError):
    """Posting needs SLACK_BOT_TOKEN and COLLECTBOT_SLACK_CHANNEL."""


class PostingUnavailable(RuntimeError):
    """Slack is configured but refused the token or the post, or cannot be reached (one line, no token)."""


def missing_slack_settings(settings: Settings) -> list[str]:
    """The environment variables posting needs that are not set."""
    missing = []
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value().strip():
        missing.append("SLACK_BOT_TOKEN")
    if not (settings.slack_channel or "").strip():
        missing.append("COLLECTBOT_SLACK_CHANNEL")
    return missing


def post_report(report: Report, poster: ReportPoster) -> str:
    """Post one report through `poster`; returns what the poster returns."""
    return poster.post_report(report)


def claim_scheduled(engine: Engine, kind: str, period: str, holder: str, now: datetime) -> bool:
    """Claim the scheduled `kind` report of `period` (storage.scheduled_reports): True for the one process
    that posts it, False when another process on the database already did (or is doing) it."""
    with engine.begin() as conn:
        return scheduled_reports.claim_report(conn, kind, period, holder, now)


def finish_scheduled(engine: Engine, kind: str, period: str, *, posted: str = "", error: str = "") -> None:
    """Record how the claimed scheduled report went: `posted` ("channel ts") or the `error`."""
    with engine.begin() as conn:
        scheduled_reports.finish_report(conn, kind, period, posted=posted, error=error)
