"""`collectbot run` says at start which channels are on and which are off, one line each, and keeps
APScheduler's own bookkeeping ("Added job", "Running job") out of its INFO log (issue 11 §3)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.run_status import slack_line, status_lines
from tests.conftest import COLLECTBOT, cli_env
from tests.fakes.telegram_api import FakeTelegram

READY = "collectbot is running"


def run_until_ready(env: dict[str, str], cwd: Path, timeout: float = 60.0) -> tuple[list[str], int]:
    """Start `collectbot run`, read stderr until it says it is running, send SIGTERM; (stderr lines, exit status)."""
    proc = subprocess.Popen(
        [COLLECTBOT, "run"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    try:
        while True:
            line = lines.get(timeout=timeout)
            if line is None:
                break
            seen.append(line)
            if READY in line:
                os.killpg(proc.pid, signal.SIGTERM)
        status = proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return seen, status


def messages(lines: list[str]) -> list[str]:
    """The log lines' messages (after "collectbot.run: ")."""
    return [line.split("collectbot.run: ", 1)[1] for line in lines if "collectbot.run: " in line]


def test_telegram_on_slack_off_no_scheduler(
    fake_telegram_thread: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    tg = fake_telegram_thread
    env = cli_env(database_url) | {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "COLLECTBOT_TELEGRAM_API_URL": tg.api_url,
        "COLLECTBOT_TELEGRAM_FILE_URL": tg.file_url,
        "COLLECTBOT_SWEEP_INTERVAL_MINUTES": "0",
    }
    lines, status = run_until_ready(env, tmp_path)
    said = messages(lines)
    assert status == 0, "\n".join(lines)
    start = said.index(f"Telegram: on as @{tg.bot_username}")
    assert said[start + 1] == "Slack: off: SLACK_BOT_TOKEN not set (staff alerts go to the log)"
    assert said[start + 2] == "scheduler: off: COLLECTBOT_SWEEP_INTERVAL_MINUTES=0 (run `collectbot sweep` yourself)"
    assert tg.token not in "\n".join(lines)


def test_telegram_off_and_a_scheduled_sweep_without_apschedulers_chatter(database_url: str, tmp_path: Path) -> None:
    env = cli_env(database_url) | {"COLLECTBOT_SWEEP_INTERVAL_MINUTES": "15", "TELEGRAM_BOT_TOKEN": ""}  # as in a .env
    lines, status = run_until_ready(env, tmp_path)
    said = messages(lines)
    assert status == 0, "\n".join(lines)
    assert "Telegram: off: TELEGRAM_BOT_TOKEN not set" in said
    assert any(m.startswith("scheduler: sweep every 15 minutes (the first at ") for m in said)
    log = "\n".join(lines)
    for chatter in (
        "apscheduler",
        "Added job",
        "Scheduler started",
        "Running job",
        "executed successfully",
        "setup plugin",
    ):
        assert chatter not in log


@pytest.mark.parametrize(
    "env,mode,line",
    [
        ({}, None, "Slack: off: SLACK_BOT_TOKEN not set (staff alerts go to the log)"),
        (
            {"slack_bot_token": "xoxb-1"},
            None,
            "Slack: off: neither SLACK_APP_TOKEN (socket mode) nor SLACK_SIGNING_SECRET (http) is set "
            "(staff alerts go to the log)",
        ),
        ({"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"}, "socket", "Slack: on (socket mode)"),
        (
            {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s", "slack_http_port": 3001},
            "http",
            "Slack: on (http, port 3001, /slack/events)",
        ),
        (
            {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s", "slack_http_port": 3001},
            "http-waiting",
            "Slack: on (http, port 3001 in use by another instance: this one listens when it is free; "
            "alerts posted meanwhile)",
        ),
        (
            {"slack_bot_token": "xoxb-1"},
            "alerts",
            "Slack: alerts only: neither SLACK_APP_TOKEN (socket mode) nor SLACK_SIGNING_SECRET (http) is set "
            "(alerts and reports posted, nothing received from Slack)",
        ),
    ],
)
def test_slack_line(env: dict, mode: str | None, line: str) -> None:
    settings = Settings(_env_file=None, **{k: SecretStr(v) if isinstance(v, str) else v for k, v in env.items()})
    assert slack_line(settings, mode) == line


def test_the_first_sweep_is_named_in_company_time() -> None:
    settings = Settings(_env_file=None, timezone="Europe/Madrid", sweep_interval_minutes=1)
    lines = status_lines(
        settings, telegram_username="acme_bot", slack_mode=None, first_sweep=datetime(2026, 11, 30, 9, 1, tzinfo=UTC)
    )
    assert lines[0] == "Telegram: on as @acme_bot"
    assert lines[2] == "scheduler: sweep every minute (the first at 10:01 CET)"
