"""The staff's questions as staff meet them: the real Bolt AsyncApp, served over HTTP, against the fake Slack.

`ask_rig` builds a small ledger (reps U0REP1 and U0REP2, credit staff U0CREDIT, a
stranger U0NOBODY), an App on it with a fixed clock, and a minimal AsyncApp whose client
talks to the fake Slack, with `bot.handlers.slack.questions.register` called on it and
served by Bolt's own aiohttp adapter. Tests send signed requests (`SlackEventsClient`)
and read what the bot posted, updated or responded on the fake.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.handlers.slack.questions import register
from bot.importer import import_file
from tests.fakes import FakeSlack, SlackEventsClient

SECRET = "fake-signing-secret"
CHANNEL = "C0CASES"
CREDIT, REP1, REP2, STRANGER = "U0CREDIT", "U0REP1", "U0REP2", "U0NOBODY"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday
MONEY = re.compile(r"\d[\d,]*\.\d\d")  # any amount, as the answers write money

CUSTOMERS = [
    "customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,country,"
    "sales_rep_slack_id,aliases",
    f"ACME,ACME Corporation,default,USD,50000.00,30,en,UTC,US,{REP1},ACME Corp",
    f"CADIZ6,Comercial Cádiz 6 S.L.U.,default,EUR,20000.00,30,es,Europe/Madrid,ES,{REP1},",
    f"CADIZ7,Comercial Cádiz 7 S.L.U.,default,EUR,20000.00,30,es,Europe/Madrid,ES,{REP2},",
    f"CADIZ8,Comercial Cádiz 8 S.L.U.,default,EUR,20000.00,30,es,Europe/Madrid,ES,{REP1},",
    f"EVIL,<!channel>,default,USD,1000.00,30,en,UTC,US,{REP1},",
    f"LINKY,<http://x|click> & Co,default,USD,,30,en,UTC,US,{REP2},",
    f"BIGBOX,Big Box Distribuição Ltda,default,BRL,900000.00,30,pt,America/Sao_Paulo,BR,{REP2},",
    "NOREP,Orphan Trading,default,USD,,30,en,UTC,US,,",
]
DOCUMENTS = [
    "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref",
    "INV-1,ACME,invoice,2026-09-01,2026-10-01,1000.00,USD,",
    "INV-2,ACME,invoice,2026-11-15,2026-12-15,500.00,USD,",
    "INV-C6,CADIZ6,invoice,2026-10-01,2026-10-31,600.00,EUR,",
    "INV-C7,CADIZ7,invoice,2026-10-01,2026-10-31,700.00,EUR,",
    "INV-C8,CADIZ8,invoice,2026-10-01,2026-10-31,800.00,EUR,",
    "INV-EV,EVIL,invoice,2026-10-01,2026-10-31,123.45,USD,",
    "INV-LK,LINKY,invoice,2026-10-01,2026-10-31,67.89,USD,",
    "INV-NR,NOREP,invoice,2026-10-01,2026-10-31,55.00,USD,",
]
BIG_ITEMS = 500


def big_documents() -> list[str]:
    """500 open invoices of Big Box, one a day back from 2026-11-20 (so most are overdue)."""
    rows = []
    for n in range(BIG_ITEMS):
        due = date(2026, 11, 20) - timedelta(days=n)
        issue = due - timedelta(days=30)
        rows.append(f"BB-{n:04d},BIGBOX,invoice,{issue},{due},{100 + n}.25,BRL,")
    return rows


def build_app(database_url: str, tmp_path: Path) -> App:
    app = App(Settings(database_url=database_url, credit_staff=CREDIT, _env_file=None), clock=FixedClock(NOW))
    ctx = app.import_context()
    for kind, lines in (("customers", CUSTOMERS), ("documents", DOCUMENTS + big_documents())):
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        import_file(app.engine, kind, path, ctx)
    return app


def setup_fake(slack: FakeSlack) -> None:
    slack.add_channel(CHANNEL, "collections")
    for user, name in ((CREDIT, "carla"), (REP1, "rui"), (REP2, "rosa"), (STRANGER, "nobody")):
        slack.add_user(user, name)


@dataclass
class Rig:
    app: App
    slack: FakeSlack
    events: SlackEventsClient
    bolt: AsyncApp

    async def send(self, payload: dict[str, Any]) -> None:
        reply = await self.events.send(payload)
        assert reply.status == 200, reply.text

    async def mention(self, user: str, text: str, *, thread_ts: str | None = None) -> Any:
        """@collectbot in the channel; returns the bot's answer (a fake SlackMessage) in that thread."""
        payload = self.slack.mention(user, CHANNEL, text, thread_ts=thread_ts)
        root = thread_ts or payload["event"]["ts"]
        before = len(self.slack.posts(CHANNEL, thread_ts=root))
        await self.send(payload)
        return await self.slack.until(
            lambda: (
                len(self.slack.posts(CHANNEL, thread_ts=root)) > before
                and self.slack.posts(CHANNEL, thread_ts=root)[before]
            ),
            timeout=15,
        )

    async def dm(self, user: str, text: str) -> Any:
        channel = self.slack.dm_channel(user).id
        before = len(self.slack.posts(channel))
        await self.send(self.slack.dm(user, text))
        return await self.slack.until(
            lambda: len(self.slack.posts(channel)) > before and self.slack.posts(channel)[before], timeout=15
        )

    async def command(self, user: str, command: str, text: str) -> dict:
        """A slash command; returns what the bot sent to its response_url."""
        before = len(self.slack.responses)
        await self.send(self.slack.slash_command(user, CHANNEL, command, text))
        return await self.slack.until(
            lambda: len(self.slack.responses) > before and self.slack.responses[before], timeout=15
        )

    async def click(self, user: str, message: Any, action_id: str | None = None, **kw: Any) -> None:
        await self.send(self.slack.block_action(user, message, action_id, **kw))


async def serve(app: App, slack: FakeSlack) -> AsyncIterator[Rig]:
    client = AsyncWebClient(slack.bot_token, base_url=slack.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))  # as `collectbot run` has it
    bolt = AsyncApp(client=client, signing_secret=SECRET)
    register(bolt, app)
    runner = web.AppRunner(bolt.web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Rig(app, slack, SlackEventsClient(f"http://127.0.0.1:{port}/slack/events", SECRET), bolt)
    finally:
        await runner.cleanup()


def all_text(blocks: list[dict] | None, text: str = "") -> str:
    """Every string a person can read in a message: its text and each block's texts, fields and labels."""
    out = [text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text",) and isinstance(value, str):
                    out.append(value)
                elif key != "value":
                    walk(value)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(blocks or [])
    return "\n".join(out)


def button_values(blocks: list[dict] | None) -> list[str]:
    return [
        el.get("value", "")
        for b in blocks or []
        for el in b.get("elements", []) + ([b["accessory"]] if "accessory" in b else [])
        if el.get("type") == "button"
    ]


@pytest.fixture
async def rig(database_url: str, tmp_path: Path, fake_slack: FakeSlack) -> AsyncIterator[Rig]:
    """Import it in a test module (`from tests.handlers.slack.questions.rig import rig`) to use it."""
    setup_fake(fake_slack)
    app = build_app(database_url, tmp_path)
    try:
        async for r in serve(app, fake_slack):
            yield r
    finally:
        app.engine.dispose()
