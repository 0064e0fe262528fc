"""The Bot API down for a while, then back; Slack down, then back (issue 14 §2).

DESIGN "Reliability and security": a 5xx or a connection error before the request left is retried
with backoff and otherwise stays pending for the next sweep (not lost, not duplicated); stay under
30 messages/s per bot and 1/s per chat; staff alerts are posted after their commit, a failed post
is retried later, never lost and never posted twice. Catch-up after downtime is one step per
invoice per sweep: a step that has not reached the debtor holds the invoice's ladder, so the
debtor never gets "first" and "second" reminder of one invoice at once.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine, select

from bot.scheduler.channels import NotPosted, PostReceipt, StaffPost
from bot.scheduler.delivery import AlertPoster
from bot.scheduler.ratelimit import SharedBudget, slack_slots
from storage.outbox import add_alert
from storage.tables import ReminderSend, StaffAlert
from tests.conftest import COLLECTBOT
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.faults.rig import CHAT0, at_local, env, ledger, off, per_chat, statuses, sweep_args

N = 20


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: connections are refused


def _sweep(database_url: str, tmp_path: Path, tg: FakeTelegram, now: datetime, **extra: str) -> dict:
    done = subprocess.run([COLLECTBOT, *sweep_args(now)], env=env(database_url, tg, **extra), cwd=tmp_path,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout) | {"stderr": done.stderr}


def _steps(engine: Engine) -> Counter[tuple[str, str]]:
    t = ReminderSend.__table__
    with engine.connect() as conn:
        return Counter(conn.execute(select(t.c.step, t.c.status).where(t.c.status != "skipped")).all())


def test_bot_api_down_then_back_catches_up_one_step_per_invoice_without_a_burst(
    database_url: str, tmp_path: Path, fake_telegram_thread: FakeTelegram
) -> None:
    tg = fake_telegram_thread
    w = ledger(database_url, tmp_path, tg, N)

    # Day 8: the first step is due; the Bot API refuses connections. Recorded, pending, nothing lost.
    down = f"http://127.0.0.1:{_closed_port()}/bot"
    out = _sweep(database_url, tmp_path, tg, at_local(off(8), 10), COLLECTBOT_TELEGRAM_API_URL=down)
    assert "stay pending" in out["stderr"]
    assert {m["status"] for m in out["messages"]} == {"deferred"} and len(out["messages"]) == N
    assert _steps(w.engine) == {("first", "pending"): N}

    # Day 16: the second step's date has come; the Bot API answers 502 to everything. The invoices
    # wait for their first step: nothing new is recorded, nothing sent.
    tg.fail_next(502, times=10**6)
    out = _sweep(database_url, tmp_path, tg, at_local(off(16), 10))
    assert out["messages"] == []
    assert _steps(w.engine) == {("first", "pending"): N}
    assert tg.stats()["messages"] == 0

    # Back, but flaky for a moment (5xx and dropped connections mid-delivery): each chat gets the
    # first step once, at most one message per chat, no 429 from the fake's 30/s and 1/s limits.
    tg.faults.clear()
    tg.fail_next(502, method="sendMessage", times=3)
    tg.drop_next(method="sendMessage", times=2)
    out = _sweep(database_url, tmp_path, tg, at_local(off(16), 11))
    assert per_chat(tg, N) == Counter({CHAT0 + i: 1 for i in range(N)})
    assert _steps(w.engine) == {("first", "sent"): N}
    assert all(m.text.startswith("Hello") and "INV-" in m.plain_text for i in range(N) for m in tg.sent(CHAT0 + i))
    after_first = [tg.sent(CHAT0 + i)[0].text for i in range(N)]

    # Same day, another sweep: nothing more (the ladder moves on only after the gap from the catch-up).
    _sweep(database_url, tmp_path, tg, at_local(off(16), 15))
    assert per_chat(tg, N) == Counter({CHAT0 + i: 1 for i in range(N)})

    # Three days later: the second step, one message per chat again.
    _sweep(database_url, tmp_path, tg, at_local(off(19), 10))
    assert per_chat(tg, N) == Counter({CHAT0 + i: 2 for i in range(N)})
    assert _steps(w.engine) == {("first", "sent"): N, ("second", "sent"): N}
    assert [tg.sent(CHAT0 + i)[1].text for i in range(N)] != after_first
    stats = tg.stats()
    assert stats["answered_429"] == 0 and stats["rate"] <= 30.0
    assert statuses(w.engine) == {"sent": 2 * N}


# ---------------------------------------------------------------- Slack down


class SlackAlerts:
    """An AlertChannel posting to a Slack channel with slack_sdk, as the Slack adapter does: the shared
    per-channel budget (1/s across processes), and NotPosted when Slack is unreachable or failing."""

    name = "slack"

    def __init__(self, client: AsyncWebClient, channel: str, budget: SharedBudget) -> None:
        self.client, self.channel, self.budget = client, channel, budget

    async def post(self, alert: StaffPost) -> PostReceipt:
        await self.budget.acquire(wait_for=slack_slots(self.channel))
        try:
            answer = await self.client.chat_postMessage(channel=self.channel, text=alert.text)
        except SlackApiError as exc:
            if exc.response.status_code >= 500 or exc.response.status_code == 429:
                raise NotPosted(f"Slack answered {exc.response.status_code}", retry_after=0.2) from exc
            raise
        except (aiohttp.ClientConnectionError, ConnectionError) as exc:
            raise NotPosted("Slack unreachable", retry_after=0.2) from exc
        return PostReceipt(self.channel, answer["ts"])


def _alert_rows(engine: Engine) -> list[tuple[str, str, str]]:
    a = StaffAlert.__table__
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(a.c.key, a.c.status, a.c.slack_ts).order_by(a.c.id))]


async def test_slack_down_alerts_wait_in_their_outbox_and_all_arrive_once_when_it_is_back(
    engine: Engine, fake_slack: FakeSlack
) -> None:
    import asyncio

    slack = fake_slack
    slack.add_channel("C0CASES", "collections")
    when = datetime(2026, 3, 12, 10, tzinfo=UTC)
    keys = [f"heads_up:{i}" for i in range(4)]
    with engine.begin() as conn:
        for key in keys:
            add_alert(conn, key=key, customer_id=None, kind="heads_up", text=f"alert {key}", at=when)
    client = AsyncWebClient(slack.bot_token, base_url=slack.api_url, timeout=3, retry_handlers=[])
    poster = AlertPoster(engine, SlackAlerts(client, "C0CASES", SharedBudget(engine)), lambda: when)

    slack.fail_next(503, method="chat.postMessage", times=10**6)  # Slack down for several passes
    for _ in range(2):
        assert await poster.post_pending() == 0
        await asyncio.sleep(0.25)
    assert {s for _k, s, _t in _alert_rows(engine)} == {"pending"}
    assert slack.posts("C0CASES") == []

    slack.faults.clear()
    slack.drop_next(method="chat.postMessage", times=2)  # back, with a few connections still dropped
    deadline = asyncio.get_running_loop().time() + 30
    while {s for _k, s, _t in _alert_rows(engine)} != {"posted"}:
        assert asyncio.get_running_loop().time() < deadline, _alert_rows(engine)
        await poster.post_pending()
        await asyncio.sleep(0.2)
    for _ in range(2):  # later passes post nothing again
        assert await poster.post_pending() == 0
    texts = Counter(p.text for p in slack.posts("C0CASES"))
    assert texts == Counter({f"alert {k}": 1 for k in keys})  # all arrive, once each
    assert sorted(t for _k, _s, t in _alert_rows(engine)) == sorted(p.ts for p in slack.posts("C0CASES"))
    assert slack.rate_limited == 0  # 1 post/s per channel held
