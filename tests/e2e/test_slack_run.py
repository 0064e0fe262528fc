"""`collectbot run` as its own process with the Slack app in HTTP mode, against the fake Slack Web API.

Signed requests reach `/slack/events` on COLLECTBOT_SLACK_HTTP_PORT; a reply in a customer's case
thread becomes a note in the timeline; a refused token stops `run` with one line and status 1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from storage.engine import make_engine
from storage.tables import Customer, Event, SlackThread
from tests.conftest import COLLECTBOT, cli_env
from tests.fakes import FakeSlack, SlackEventsClient
from tests.handlers.slack.harness import CHANNEL, REP, SECRET, load, make_app, people

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(slack: FakeSlack, database_url: str, port: int, **extra: str) -> dict[str, str]:
    return cli_env(database_url) | {
        "SLACK_BOT_TOKEN": slack.bot_token, "COLLECTBOT_SLACK_API_URL": slack.api_url,
        "SLACK_SIGNING_SECRET": SECRET, "COLLECTBOT_SLACK_HTTP_PORT": str(port),
        "COLLECTBOT_SLACK_CHANNEL": CHANNEL, "COLLECTBOT_CREDIT_STAFF": "U0CREDIT",
        "COLLECTBOT_SWEEP_INTERVAL_MINUTES": "0",
    } | extra


def test_run_serves_signed_slack_requests_in_http_mode(database_url: str, tmp_path: Path) -> None:
    with FakeSlack().in_thread() as slack:
        people(slack)
        app = make_app(database_url, slack)
        load(app, tmp_path)
        root = WebClient(slack.bot_token, base_url=slack.api_url).chat_postMessage(channel=CHANNEL, text="ACME")["ts"]
        with app.engine.begin() as conn:
            cid = conn.execute(select(Customer.id).where(Customer.ref == "ACME")).scalar_one()
            conn.execute(SlackThread.__table__.insert().values(customer_id=cid, channel=CHANNEL, root_ts=root,
                                                               claimed_by="", created_at=datetime.now(UTC)))
        app.engine.dispose()
        port = free_port()
        proc = subprocess.Popen([COLLECTBOT, "run"], env=env_for(slack, database_url, port), cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            events = SlackEventsClient(f"http://127.0.0.1:{port}/slack/events", SECRET)
            deadline = time.monotonic() + 60
            while True:
                try:
                    events.send_sync(slack.message(REP, CHANNEL, "probe", thread_ts=root), secret="wrong")
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        why = proc.stderr.read() if proc.poll() is not None else "no HTTP endpoint"
                        raise AssertionError(why) from None
                    time.sleep(0.2)
            note = slack.message(REP, CHANNEL, "check is in the mail", thread_ts=root)
            assert events.send_sync(note, secret="wrong").status == 401
            assert events.send_sync(note).status == 200
            assert events.send_sync(note, retry_num=1).status == 200
            engine = make_engine(database_url)
            try:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    with engine.connect() as conn:
                        notes = conn.execute(select(Event.text, Event.actor).where(Event.kind == "note_added")).all()
                    if notes:
                        break
                    time.sleep(0.1)
                time.sleep(0.5)
                with engine.connect() as conn:
                    notes = conn.execute(select(Event.text, Event.actor).where(Event.kind == "note_added")).all()
                assert notes == [("check is in the mail", "slack:U0SALES01")]
            finally:
                engine.dispose()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert slack.bot_token not in err and SECRET not in err


def test_run_with_a_refused_token_says_so_in_one_line(database_url: str, tmp_path: Path) -> None:
    with FakeSlack().in_thread() as slack:
        env = env_for(slack, database_url, free_port(), SLACK_BOT_TOKEN="xoxb-not-the-token")
        done = subprocess.run([COLLECTBOT, "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == "error: Slack refused SLACK_BOT_TOKEN (auth.test: invalid_auth)"
    assert "xoxb-not-the-token" not in done.stderr
