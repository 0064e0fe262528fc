"""Reports by mention and DM, `report ... --post` as a process, and the scheduled posts, against the fake Slack."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.handlers.slack.report_poster import add_report_jobs, post_scheduled_reports
from tests.conftest import COLLECTBOT, cli_env
from tests.fakes import FakeSlack
from tests.handlers.slack.questions.rig import CHANNEL, CREDIT, NOW, REP2, Rig, all_text, build_app, setup_fake

PNG = b"\x89PNG\r\n\x1a\n"


async def test_reports_by_mention_and_dm_are_posted_where_asked(rig: Rig) -> None:
    aging = await rig.mention(CREDIT, "aging")
    text = all_text(aging.blocks, aging.text)
    assert "Aging as of 2026-11-23" in text and "ACME Corporation" in text and "Big Box" in text
    prospects = await rig.dm(REP2, "prospects")
    assert "for U0REP2's customers" in all_text(prospects.blocks, prospects.text)
    weekly = await rig.mention(CREDIT, "weekly")
    assert "Weekly aging summary as of 2026-11-23" in weekly.text


def run_cli(database_url: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COLLECTBOT, *args], env=cli_env(database_url) | env, text=True, capture_output=True, timeout=180
    )


def slack_env(slack: FakeSlack, channel: str = CHANNEL) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "COLLECTBOT_SLACK_API_URL": slack.api_url,
        "COLLECTBOT_SLACK_CHANNEL": channel,
    }


def test_report_post_sends_the_report_and_the_weekly_chart(
    database_url: str, tmp_path: Path, fake_slack_thread: FakeSlack
) -> None:
    slack = fake_slack_thread
    setup_fake(slack)
    build_app(database_url, tmp_path).engine.dispose()
    proc = run_cli(database_url, slack_env(slack), "report", "weekly", "--as-of", "2026-11-23", "--post")
    assert proc.returncode == 0, proc.stderr
    summary, chart = slack.posts(CHANNEL)
    assert summary.text.startswith("Weekly aging summary as of 2026-11-23") and "BRL" in all_text(summary.blocks)
    assert chart.files and chart.files[0]["name"] == "aging-2026-11-23.png"
    assert slack.uploads[chart.files[0]["id"]]["data"].startswith(PNG)
    assert f"posted the weekly report to Slack ({CHANNEL} {summary.ts})" in proc.stderr
    proc = run_cli(
        database_url,
        slack_env(slack),
        "report",
        "prospects",
        "--as-of",
        "2026-11-23",
        "--post",
        "--rep",
        REP2,
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    assert "for U0REP2's customers" in slack.posts(CHANNEL)[-1].text


def test_report_post_refusals_are_one_line(database_url: str, tmp_path: Path, fake_slack_thread: FakeSlack) -> None:
    slack = fake_slack_thread
    setup_fake(slack)
    slack.add_channel("C0NOTIN", "elsewhere", bot_is_member=False)
    build_app(database_url, tmp_path).engine.dispose()
    proc = run_cli(database_url, slack_env(slack, "C0NOTIN"), "report", "digest", "--post")
    assert (proc.returncode, proc.stderr) == (1, "error: posting to Slack failed: Slack answered not_in_channel\n")
    bad_token = slack_env(slack) | {"SLACK_BOT_TOKEN": "xoxb-wrong-secret"}
    proc = run_cli(database_url, bad_token, "report", "digest", "--post", "--format", "json")
    assert (proc.returncode, proc.stdout) == (1, "")  # checked before any work: nothing printed
    assert proc.stderr == "error: cannot post to Slack: Slack answered invalid_auth\n"


def scheduled_app(database_url: str, tmp_path: Path, slack: FakeSlack, **settings: object) -> App:
    """The rig's ledger, and an App on it configured for Slack (as `collectbot run` would be)."""
    build_app(database_url, tmp_path).engine.dispose()
    values = (
        dict(
            database_url=database_url,
            slack_bot_token=slack.bot_token,
            slack_api_url=slack.api_url,
            slack_channel=CHANNEL,
            _env_file=None,
        )
        | settings
    )
    return App(Settings(**values), clock=FixedClock(NOW))


async def test_scheduled_digest_and_weekly_are_posted(database_url: str, tmp_path: Path, fake_slack: FakeSlack) -> None:
    setup_fake(fake_slack)
    app = scheduled_app(database_url, tmp_path, fake_slack)
    try:
        where = await post_scheduled_reports(app, "digest")
        assert where is not None and fake_slack.posts(CHANNEL)[0].text.startswith("Daily digest for 2026-11-23")
        assert await post_scheduled_reports(app, "weekly") is not None
        files = [m for m in fake_slack.posts(CHANNEL) if m.files]
        assert len(files) == 1 and fake_slack.uploads[files[0].files[0]["id"]]["data"].startswith(PNG)
    finally:
        app.engine.dispose()


async def test_two_instances_post_each_scheduled_report_once_per_day(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Every `collectbot run` on the database fires the same cron jobs at the same time: one post each."""
    from datetime import timedelta

    from sqlalchemy import select

    from storage.tables import ScheduledReport

    setup_fake(fake_slack)
    first = scheduled_app(database_url, tmp_path, fake_slack)
    second = App(first.settings, clock=FixedClock(NOW))
    next_day = App(first.settings, clock=FixedClock(NOW + timedelta(days=1)))
    try:
        posted = await asyncio.gather(*(post_scheduled_reports(app, kind) for app in (first, second)
                                        for kind in ("digest", "weekly")))
        assert sorted(p is not None for p in posted) == [False, False, True, True]
        texts = [m.text for m in fake_slack.posts(CHANNEL) if not m.files]
        assert sum(t.startswith("Daily digest") for t in texts) == 1
        assert sum(t.startswith("Weekly aging summary") for t in texts) == 1
        assert len([m for m in fake_slack.posts(CHANNEL) if m.files]) == 1  # one chart
        assert await post_scheduled_reports(next_day, "digest") is not None  # the next day's comes
        with first.engine.connect() as conn:
            rows = conn.execute(select(ScheduledReport.kind, ScheduledReport.period, ScheduledReport.status)
                                .order_by(ScheduledReport.id)).all()
        assert sorted(rows) == [("digest", "2026-11-23", "posted"), ("digest", "2026-11-24", "posted"),
                                ("weekly", "2026-11-23", "posted")]
    finally:
        for app in (first, second, next_day):
            app.engine.dispose()


@pytest.mark.parametrize(("interval", "slack_on", "jobs"), [(15, True, 2), (0, True, 0), (15, False, 0)])
async def test_report_jobs_follow_the_settings(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack, interval: int, slack_on: bool, jobs: int
) -> None:
    extra = {} if slack_on else {"slack_bot_token": None}
    app = scheduled_app(
        database_url,
        tmp_path,
        fake_slack,
        sweep_interval_minutes=interval,
        slack_digest_at="07:30",
        slack_weekly_on="fri",
        timezone="America/Sao_Paulo",
        **extra,
    )
    scheduler = AsyncIOScheduler(timezone="UTC")
    try:
        assert len(add_report_jobs(scheduler, app)) == jobs
        scheduler.start(paused=True)
        if jobs:
            digest, weekly = scheduler.get_job("report_digest"), scheduler.get_job("report_weekly")
            assert str(digest.trigger) == "cron[hour='7', minute='30']"
            assert str(weekly.trigger) == "cron[day_of_week='fri', hour='7', minute='30']"
            assert str(digest.trigger.timezone) == "America/Sao_Paulo"
        else:
            assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown(wait=False)
        app.engine.dispose()
