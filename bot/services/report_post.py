"""Posting a report to the team's Slack channel: the one seam between the reports and the Slack app.

A report is a plain document (bot.services.reports, bot.services.digest) plus, for the
weekly summary, the aging chart. `post_report(report, poster)` hands it to a poster;
the Slack app provides the poster (rendering blocks and uploading the chart with
`files_upload_v2`), so the CLI's `report ... --post` and the scheduled posts of
`collectbot run` go through the same call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bot.config import Settings

ReportKind = Literal["digest", "weekly", "prospects", "scorecard"]


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    document: dict  # the report's JSON document, exactly as `--format json` prints it
    chart_png: bytes | None = None  # the weekly summary's aging chart


class ReportPoster(Protocol):
    def post_report(self, report: Report) -> str:
        """Post to the channel; return where it went (e.g. the message's permalink or ts)."""


class SlackNotConfigured(RuntimeError):
    """Posting needs SLACK_BOT_TOKEN and COLLECTBOT_SLACK_CHANNEL."""


class PostingUnavailable(RuntimeError):
    """Slack is configured, but this build has no poster for reports yet."""


def missing_slack_settings(settings: Settings) -> list[str]:
    """The environment variables posting needs that are not set."""
    missing = []
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value().strip():
        missing.append("SLACK_BOT_TOKEN")
    if not (settings.slack_channel or "").strip():
        missing.append("COLLECTBOT_SLACK_CHANNEL")
    return missing


def slack_poster(settings: Settings) -> ReportPoster:
    """The poster for `settings`. Raises SlackNotConfigured naming what to set, or
    PostingUnavailable until the Slack app (issue 13) plugs its poster in here."""
    missing = missing_slack_settings(settings)
    if missing:
        raise SlackNotConfigured(f"posting to Slack needs {' and '.join(missing)} set")
    raise PostingUnavailable("posting reports to Slack comes with the Slack app, which this build does not have yet")


def post_report(report: Report, poster: ReportPoster) -> str:
    """Post one report through `poster`; returns what the poster returns."""
    return poster.post_report(report)
