"""Posting reports to COLLECTBOT_SLACK_CHANNEL: `collectbot report ... --post` and the scheduled posts of `run`.

One rendering for both (bot.handlers.slack.report_blocks), one Web API base
(COLLECTBOT_SLACK_API_URL, slack_sdk's `base_url`). The weekly summary's aging chart is
uploaded with `files_upload_v2` right after the summary, in the channel. Each post waits
for the channel's slot in the shared rate budget (1 message/s per channel across every
process on the database, bot.scheduler.ratelimit), and a 429 is retried after its
Retry-After by slack_sdk's rate-limit retry handler.

Scheduled posts (`add_report_jobs`): the digest every day at COLLECTBOT_SLACK_DIGEST_AT
(company time, COLLECTBOT_TIMEZONE), the weekly summary on COLLECTBOT_SLACK_WEEKLY_ON at
the same time; none when COLLECTBOT_SWEEP_INTERVAL_MINUTES is 0 (no periodic job at all)
or Slack is not configured. Both report the company's date of the moment they run, and each is
posted once per date however many `collectbot run`s share the database (claimed first).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.handlers.slack.report_blocks import report_blocks
from bot.scheduler.claims import claim_holder
from bot.scheduler.ratelimit import SLACK_CHANNEL_INTERVAL, SharedBudget, slack_slots
from bot.services import staff_questions
from bot.services.report_post import (
    PostingUnavailable,
    Report,
    SlackNotConfigured,
    claim_scheduled,
    finish_scheduled,
    missing_slack_settings,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("collectbot.slack.reports")
SCHEDULED = ("digest", "weekly")


def _why(exc: Exception) -> str:
    """One line about a failed call, never the token (slack_sdk's messages do not carry it)."""
    if isinstance(exc, SlackApiError):
        return f"Slack answered {exc.response.get('error') or exc.response.status_code}"
    return f"cannot reach the Slack Web API ({type(exc).__name__})"


def _chart_name(report: Report) -> str:
    return f"aging-{report.document.get('as_of', 'chart')}.png"


@dataclass
class SlackReportPoster:
    """bot.services.report_post.ReportPoster for the CLI (blocking: slack_sdk's WebClient)."""

    client: WebClient
    channel: str
    budget: SharedBudget | None = None

    def _done(self) -> None:
        """After a post: the channel's next slot is a full interval past this moment (a late post stays apart)."""
        if self.budget is not None:
            for key, interval in slack_slots(self.channel):
                self.budget.push_back(key, interval)

    def _slot(self) -> None:
        if self.budget is None:
            return
        while True:
            ok, at = self.budget.try_reserve(slack_slots(self.channel), ())
            delay = at - self.budget.wall()
            if ok:
                if delay > 0:
                    time.sleep(delay)
                return
            time.sleep(max(delay, 0.001))

    def post_report(self, report: Report) -> str:
        """Post the report (and the weekly chart); returns "channel ts". Raises PostingUnavailable (one line)."""
        text, blocks = report_blocks(report.kind, report.document)
        try:
            self._slot()
            posted = self.client.chat_postMessage(channel=self.channel, text=text, blocks=blocks)
            self._done()
            if report.chart_png is not None:
                self._slot()
                self.client.files_upload_v2(
                    channel=posted["channel"],
                    file=report.chart_png,
                    filename=_chart_name(report),
                    title=f"Aging chart as of {report.document.get('as_of')}",
                )
                self._done()
        except (SlackApiError, SlackClientError, OSError) as exc:
            raise PostingUnavailable(f"posting to Slack failed: {_why(exc)}") from None
        return f"{posted['channel']} {posted['ts']}"


def slack_poster(settings: Settings, engine: Engine | None = None) -> SlackReportPoster:
    """The poster for `settings`, its token checked (auth.test) before any work.

    Raises SlackNotConfigured naming the settings to set, or PostingUnavailable (Slack refused
    the token or cannot be reached), each one line without the token."""
    missing = missing_slack_settings(settings)
    if missing:
        raise SlackNotConfigured(f"posting to Slack needs {' and '.join(missing)} set")
    assert settings.slack_bot_token is not None and settings.slack_channel
    client = WebClient(settings.slack_bot_token.get_secret_value().strip(), base_url=settings.slack_api_url, timeout=15)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    try:
        client.auth_test()
    except (SlackApiError, SlackClientError, OSError) as exc:
        raise PostingUnavailable(f"cannot post to Slack: {_why(exc)}") from None
    return SlackReportPoster(client, settings.slack_channel.strip(), None if engine is None else SharedBudget(engine))


async def post_scheduled_reports(app, kind: str) -> str | None:  # noqa: ANN001  (bot.app.App)
    """Post today's `kind` report ("digest" or "weekly", with its chart) to the channel; for the scheduler.

    Once per (kind, company date) across every process on the database: the report is claimed
    first (bot.services.report_post.claim_scheduled), and an instance that finds it claimed does
    nothing. Builds the report off the loop (bot.scheduler.dbpool), then posts with the async
    client. Returns "channel ts", or None when Slack is not configured or another instance has it.
    A failure is logged and recorded, not raised (the next day's post comes anyway)."""
    from bot.scheduler.dbpool import run_db

    settings = app.settings
    if kind not in SCHEDULED:
        raise ValueError(f"unknown scheduled report {kind!r}")
    if missing_slack_settings(settings):
        return None

    day = app.today()
    period = day.isoformat()
    holder = await run_db(lambda: claim_holder(app.engine).token)
    if not await run_db(claim_scheduled, app.engine, kind, period, holder, app.now()):
        log.info("the %s report of %s is already posted (once per day, by any instance on this database)", kind, period)
        return None

    def build() -> Report:
        return staff_questions.scheduled_report(app.engine, kind, day=day, tz=app.company_tz)

    client = AsyncWebClient(settings.slack_bot_token.get_secret_value().strip(), base_url=settings.slack_api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    channel = settings.slack_channel.strip()
    budget = SharedBudget(app.engine)
    try:
        report = await run_db(build)
        text, blocks = report_blocks(report.kind, report.document)
        await budget.acquire(wait_for=slack_slots(channel))
        posted = await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        await budget.pause(f"slack:{channel}", SLACK_CHANNEL_INTERVAL)
        if report.chart_png is not None:
            await budget.acquire(wait_for=slack_slots(channel))
            await client.files_upload_v2(
                channel=posted["channel"],
                file=report.chart_png,
                filename=_chart_name(report),
                title=f"Aging chart as of {report.document.get('as_of')}",
            )
            await budget.pause(f"slack:{channel}", SLACK_CHANNEL_INTERVAL)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.error("posting the %s report failed: %s", kind, _why(exc))
        await run_db(partial(finish_scheduled, app.engine, kind, period, error=_why(exc)))
        return None
    receipt = f"{posted['channel']} {posted['ts']}"
    await run_db(partial(finish_scheduled, app.engine, kind, period, posted=receipt))
    log.info("posted the %s report to %s", kind, channel)
    return receipt


def add_report_jobs(scheduler, app) -> list[str]:  # noqa: ANN001  (an APScheduler AsyncIOScheduler, bot.app.App)
    """Schedule the daily digest and the weekly summary on `scheduler`; returns the job ids added.

    None when COLLECTBOT_SWEEP_INTERVAL_MINUTES is 0 (no periodic job at all) or Slack is not
    configured (SLACK_BOT_TOKEN and COLLECTBOT_SLACK_CHANNEL)."""
    from apscheduler.triggers.cron import CronTrigger

    settings = app.settings
    if settings.sweep_interval_minutes == 0 or missing_slack_settings(settings):
        return []
    hour, minute = (int(x) for x in settings.slack_digest_at.split(":"))
    tz = settings.timezone
    jobs = {
        "report_digest": ("digest", CronTrigger(hour=hour, minute=minute, timezone=tz)),
        "report_weekly": (
            "weekly",
            CronTrigger(day_of_week=settings.slack_weekly_on, hour=hour, minute=minute, timezone=tz),
        ),
    }
    for job_id, (kind, trigger) in jobs.items():
        scheduler.add_job(
            post_scheduled_reports,
            trigger,
            args=[app, kind],
            id=job_id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
            replace_existing=True,
        )
    return list(jobs)
