"""The posting seam: `report ... --post` hands the printed document (and the weekly chart) to the poster.

A recording poster stands in for the Slack one here, plugged in where bot.cli_reports
takes it (bot.handlers.slack.report_poster.slack_poster); tests/handlers/slack test the real one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bot.handlers.slack.report_poster
from bot.cli import app
from bot.config import Settings
from bot.handlers.slack.report_poster import slack_poster
from bot.services.report_post import Report, SlackNotConfigured, missing_slack_settings


@dataclass
class RecordingPoster:
    posted: list[Report] = field(default_factory=list)

    def post_report(self, report: Report) -> str:
        self.posted.append(report)
        return f"C123/{len(self.posted)}"


def test_the_cli_posts_the_document_it_prints_and_the_weekly_chart(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    poster = RecordingPoster()
    monkeypatch.setattr(bot.handlers.slack.report_poster, "slack_poster", lambda settings, **kw: poster)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    env = {"COLLECTBOT_DATABASE_URL": database_url, "COLLECTBOT_TIMEZONE": "UTC"}
    for report in ("weekly", "digest", "prospects", "scorecard"):
        result = runner.invoke(app, ["report", report, "--as-of", "2026-11-23", "--post", "--format", "json"], env=env)
        assert result.exit_code == 0, result.output
        assert poster.posted[-1].kind == report
        assert poster.posted[-1].document == json.loads(result.stdout)
    weekly = poster.posted[0]
    assert weekly.chart_png is not None and weekly.chart_png[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(r.chart_png is None for r in poster.posted[1:])


def test_slack_settings_that_are_missing_or_blank_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "COLLECTBOT_SLACK_CHANNEL", "slack_bot_token", "collectbot_slack_channel"):
        monkeypatch.delenv(name, raising=False)
    assert missing_slack_settings(Settings(_env_file=None)) == ["SLACK_BOT_TOKEN", "COLLECTBOT_SLACK_CHANNEL"]
    blank = Settings(_env_file=None, slack_bot_token=" ", slack_channel="C1")
    assert missing_slack_settings(blank) == ["SLACK_BOT_TOKEN"]
    with pytest.raises(SlackNotConfigured, match="COLLECTBOT_SLACK_CHANNEL"):
        slack_poster(Settings(_env_file=None, slack_bot_token="xoxb-1"))
