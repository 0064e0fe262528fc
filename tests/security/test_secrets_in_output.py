"""No secret in any log line or error: every token and a database password set, every command run.

DESIGN "Reliability and security": secrets come from the environment and never reach logs.
The commands run as real processes with TELEGRAM_BOT_TOKEN, SLACK_BOT_TOKEN, SLACK_APP_TOKEN,
SLACK_SIGNING_SECRET set (Telegram is the fake Bot API, so the token is really used), also
against a Bot API that refuses the token or cannot be reached, and with a PostgreSQL URL that
carries a password (a server that is not there, a wrong password). `collectbot` has no
verbosity option; to see what a DEBUG log would show, the same entry point also runs under a
root logger set to DEBUG. (Slack is not wired on main yet: its tokens are only set here; the
Slack adapter's own log lines are for its tests.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import COLLECTBOT, POSTGRES_URL, cli_env
from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.telegram.harness import link_token, load_ledger, make_app

pytestmark = pytest.mark.slow

TG_TOKEN = "987654321:AAtg-SECRET-token_0123456789abcdef"
SECRETS = {
    "TELEGRAM_BOT_TOKEN": TG_TOKEN,
    "SLACK_BOT_TOKEN": "xoxb-1111-SECRET-slack-bot-token",
    "SLACK_APP_TOKEN": "xapp-1-A0FAKE-SECRET-slack-app-token",
    "SLACK_SIGNING_SECRET": "SECRETsigningsecret0123456789abcd",
}
DB_PASSWORD = "pw-SECRET-h0rse_battery"
# The token's secret half and the password are what must never show (the bot id before ":" is public).
NEEDLES = [TG_TOKEN, TG_TOKEN.split(":", 1)[1], *list(SECRETS.values())[1:], DB_PASSWORD, "SECRET"]
DEBUG = "import logging, sys; logging.basicConfig(level=logging.DEBUG); sys.argv[0] = 'collectbot'; " \
        "from bot.cli import main; main()"


def leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[tuple[FakeTelegram, dict[str, str]]]:
    with FakeTelegram(token=TG_TOKEN).in_thread() as tg:
        app = make_app(database_url, tg)
        load_ledger(app, tmp_path)
        token = link_token(app, "BETA")
        app.engine.dispose()
        tg.add_user(5002, "Bia", language_code="pt")
        tg.user_sends(5002, f"/start {token}")
        env = cli_env(database_url) | SECRETS | {
            "COLLECTBOT_TELEGRAM_API_URL": tg.api_url,
            "COLLECTBOT_TELEGRAM_FILE_URL": tg.file_url,
            "COLLECTBOT_SWEEP_INTERVAL_MINUTES": "0",
            "COLLECTBOT_SLACK_API_URL": "http://127.0.0.1:9/api/",
            "COLLECTBOT_SLACK_CHANNEL": "C0CASES",
        }
        yield tg, env


def run(env: dict[str, str], cwd: Path, *args: str, debug: bool = False) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", DEBUG, *args] if debug else [COLLECTBOT, *args]
    return subprocess.run(argv, env=env, cwd=cwd, text=True, capture_output=True, timeout=120)


def run_then_stop(env: dict[str, str], cwd: Path, *, debug: bool = False, wait_for: str = "collectbot is running",
                  tg: FakeTelegram | None = None) -> tuple[int, str]:
    """`collectbot run` until it says it is running (a debtor writes meanwhile), then SIGTERM: (status, output)."""
    argv = [sys.executable, "-c", DEBUG, "run"] if debug else [COLLECTBOT, "run"]
    log = cwd / f"run-{time.monotonic_ns()}.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, text=True, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and wait_for not in log.read_text():
            time.sleep(0.05)
        if proc.poll() is None and tg is not None:  # a debtor talks to the running bot: its lines are logged too
            before = len(tg.sent(5002))
            tg.user_sends(5002, "/menu")
            tg.wait_for(lambda: len(tg.sent(5002)) > before, 20, "the bot's answer")
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode, log.read_text()


COMMANDS = [
    ("balance", "ACME"),
    ("report", "aging", "--format", "csv"),
    ("sweep", "--now", "2026-03-16T13:00:00+00:00"),
    ("link", "ACME"),
    ("link", "--all-unlinked", "--format", "csv"),
    ("policy", "check", "/nonexistent/policy.toml"),
    ("balance", "NOBODY"),
]


def test_no_command_prints_a_secret_even_at_debug(world: tuple[FakeTelegram, dict[str, str]], tmp_path: Path) -> None:
    """Before bot.logsafe, PTB's DEBUG line "Set Bot API URL: .../bot<token>" showed the token."""
    tg, env = world
    for args in COMMANDS:
        res = run(env, tmp_path, *args, debug=True)
        assert "Traceback" not in res.stderr, (args, res.stderr)
        assert leaks(res.stdout + res.stderr) == [], (args, res.stdout, res.stderr)
    assert tg.calls_to("getMe"), "the token was really used"


def test_run_never_logs_a_secret_even_at_debug(world: tuple[FakeTelegram, dict[str, str]], tmp_path: Path) -> None:
    tg, env = world
    status, output = run_then_stop(env, tmp_path, debug=True, tg=tg)
    assert "collectbot is running" in output and status == 0, output
    assert tg.calls_to("getUpdates"), "the bot polled with the token"
    assert leaks(output) == [], output


def test_a_refused_or_unreachable_bot_api_is_one_line_without_the_token(
    world: tuple[FakeTelegram, dict[str, str]], tmp_path: Path
) -> None:
    tg, env = world
    unreachable = f"http://127.0.0.1:{free_port()}/bot"
    wrong = "123:AAwrong-SECRET-token"
    for api, command, debug in ((tg.api_url, "link", False), (tg.api_url, "run", True),
                                (unreachable, "link", True), (unreachable, "run", False)):
        bad = env | {"TELEGRAM_BOT_TOKEN": wrong, "COLLECTBOT_TELEGRAM_API_URL": api}
        if command == "run":
            status, output = run_then_stop(bad, tmp_path, debug=debug)
        else:
            res = run(bad, tmp_path, "link", "ACME", debug=debug)
            status, output = res.returncode, res.stdout + res.stderr
        assert status == 1, output
        assert wrong.split(":")[1] not in output and leaks(output) == [], output
        if not debug:
            assert "Traceback" not in output
            assert output.strip().splitlines()[-1].startswith("error: "), output


def postgres_urls() -> list[str]:
    """A server that is not there; and, when one is, a user it does not know and a database it lacks."""
    urls = [f"postgresql+psycopg://collect:{DB_PASSWORD}@127.0.0.1:{free_port()}/ledger"]
    if POSTGRES_URL:
        from sqlalchemy.engine import make_url

        base = make_url(POSTGRES_URL)
        urls.append(base.set(password=DB_PASSWORD, username="collectbot_nobody").render_as_string(hide_password=False))
        urls.append(base.set(password=DB_PASSWORD, database="collectbot_no_such_db")
                    .render_as_string(hide_password=False))
    return urls


@pytest.mark.parametrize("url", postgres_urls(), ids=lambda u: u.split("@")[1].split("/")[0].split(":")[0] + (
    "-user" if "nobody" in u else "-db" if "no_such" in u else "-down"))
def test_a_database_password_never_shows(tmp_path: Path, url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTBOT_", "TELEGRAM_", "SLACK_"))}
    env |= SECRETS | {"COLLECTBOT_DATABASE_URL": url, "COLLECTBOT_SWEEP_INTERVAL_MINUTES": "0",
                      "COLLECTBOT_TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}/bot"}
    res = run(env, tmp_path, "balance", "ACME")
    assert res.returncode == 1 and res.stdout == "" and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert res.stderr.startswith("error: ") and leaks(res.stderr) == [], res.stderr
    res = run(env, tmp_path, "sweep", "--dry-run", debug=True)
    assert res.returncode == 1 and leaks(res.stdout + res.stderr) == [], res.stderr
    status, output = run_then_stop(env, tmp_path, debug=True)
    assert status == 1 and leaks(output) == [], output
