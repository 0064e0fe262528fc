"""The Slack app as the team meets it: the real Bolt AsyncApp, started as `collectbot run` starts it,
against the fake Slack Web API (and the fake Telegram Bot API for the debtor's side).

`SlackRig` owns the ledger of the Telegram harness (ACME is named `ACME <Corp> & Sons`), an App
on it with a fixed clock, and the running Slack app (`start_slack`: HTTP mode on a free port,
or Socket Mode). Tests act as people on the fake Slack (`send`: a signed request to
/slack/events) and read what the app posted there and recorded in the database. `post_alerts`
stands in for the staff alert outbox's poster: it posts every pending alert through
SlackAlertChannel.post, as the delivery path does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.handlers.slack import SlackHandle, start_slack, stop_slack
from bot.scheduler.channels import PostReceipt, StaffPost
from bot.services.customers import customers_by_id
from storage.engine import reading
from storage.tables import Contact, Customer, Event, OutboundMessage, StaffAlert
from tests.fakes import FakeSlack, SlackEventsClient
from tests.fakes.slack_state import SlackMessage
from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.telegram.harness import load_ledger

CHANNEL = "C0CASES"
SECRET = "fake-signing-secret"
CREDIT, REP, OTHER_REP, STRANGER = "U0CREDIT", "U0SALES01", "U0SALES02", "U0OTHER"
NOW = datetime(2026, 3, 16, 13, 0, tzinfo=UTC)  # a Monday
ACME_CHAT = 5001


def make_app(database_url: str, slack: FakeSlack, tg: FakeTelegram | None = None, *, socket: bool = False,
             **overrides: Any) -> App:
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_bot_token": slack.bot_token,
        "slack_api_url": slack.api_url,
        "slack_signing_secret": SECRET,
        "slack_http_port": 0,
        "slack_channel": CHANNEL,
        "credit_staff": f"{CREDIT}, U0CREDIT2",
    }
    if socket:
        values["slack_app_token"] = slack.app_token
    if tg is not None:
        values.update(telegram_bot_token=tg.token, telegram_api_url=tg.api_url, telegram_file_url=tg.file_url)
    values.update(overrides)
    return App(Settings(_env_file=None, **values), clock=FixedClock(NOW))


def people(slack: FakeSlack) -> None:
    slack.add_channel(CHANNEL, "collections", members={CREDIT, "U0CREDIT2", REP, OTHER_REP, STRANGER})
    for uid, name in ((CREDIT, "carla"), ("U0CREDIT2", "cora"), (REP, "sam"), (OTHER_REP, "sue"),
                      (STRANGER, "olga")):
        slack.add_user(uid, name)


@dataclass
class SlackRig:
    app: App
    slack: FakeSlack
    tg: FakeTelegram | None = None
    handle: SlackHandle | None = None
    events: SlackEventsClient | None = None
    receipts: dict[int, PostReceipt] = field(default_factory=dict)

    async def deliver(self, ids: list[int]) -> None:
        """What `collectbot run` does after a Slack decision: deliver its debtor messages now (Telegram)."""
        if ids and self.app.settings.telegram_bot_token is not None:
            from bot.handlers.telegram.delivery import _deliver

            await _deliver(self.app, ids)

    async def start(self) -> SlackRig:
        self.handle = await start_slack(self.app, deliver=self.deliver)
        assert self.handle is not None
        if self.handle.mode == "http":
            self.events = SlackEventsClient(f"http://127.0.0.1:{self.handle.port}/slack/events", SECRET)
        return self

    async def stop(self) -> None:
        handle, self.handle = self.handle, None
        await stop_slack(handle)

    # -- the ledger
    def customer_id(self, ref: str) -> int:
        with reading(self.app.engine) as conn:
            return conn.execute(select(Customer.id).where(Customer.ref == ref)).scalar_one()

    def customer(self, ref: str):  # noqa: ANN201
        cid = self.customer_id(ref)
        with reading(self.app.engine) as conn:
            return customers_by_id(conn, [cid])[cid]

    def link(self, ref: str, chat: int = ACME_CHAT, locale: str = "en") -> None:
        """A verified linked Telegram chat for the customer (and the user on the fake Telegram)."""
        assert self.tg is not None
        if chat not in self.tg.users:
            self.tg.add_user(chat, "Ana", language_code=locale)
        with self.app.engine.begin() as conn:
            conn.execute(Contact.__table__.insert().values(
                customer_id=self.customer_id(ref), name="Ana", telegram_chat_id=chat, locale=locale, verified=True,
                reachable=True, linked_at=self.app.now()))

    def events_of(self, ref: str, kind: str | None = None) -> list[Event]:
        with reading(self.app.engine) as conn:
            q = select(Event).where(Event.customer_id == self.customer_id(ref)).order_by(Event.id)
            rows = [Event(**r._mapping) for r in conn.execute(q)]
        return [e for e in rows if kind is None or e.kind == kind]

    def outbound(self, kind: str | None = None) -> list[Any]:
        t = OutboundMessage.__table__
        with reading(self.app.engine) as conn:
            rows = conn.execute(select(t).order_by(t.c.id)).all()
        return [r for r in rows if kind is None or r.kind == kind]

    # -- the staff alert outbox's poster (a stand-in for the delivery path)
    async def post_alerts(self) -> list[SlackMessage]:
        """Post every pending staff alert through SlackAlertChannel; the messages posted, in order."""
        assert self.handle is not None and self.handle.alerts is not None
        t = StaffAlert.__table__
        with reading(self.app.engine) as conn:
            rows = conn.execute(select(t).where(t.c.status == "pending").order_by(t.c.id)).all()
            customers = customers_by_id(conn, [r.customer_id for r in rows if r.customer_id])
        out = []
        for r in rows:
            c = customers.get(r.customer_id)
            post = StaffPost(alert_id=r.id, kind=r.kind, text=r.text, customer_id=r.customer_id,
                             customer_ref=c.ref if c else None, customer_name=c.name if c else None,
                             doc_refs=tuple(r.doc_refs or ()), payload=dict(r.payload or {}))
            receipt = await self.handle.alerts.post(post)
            self.receipts[r.id] = receipt
            with self.app.engine.begin() as conn:
                conn.execute(update(t).where(t.c.id == r.id).values(status="posted", slack_channel=receipt.channel,
                                                                    slack_ts=receipt.ts, posted_at=self.app.now()))
            out.append(self.slack.find(receipt.channel, receipt.ts))
        return out

    # -- people in Slack
    async def send(self, payload: dict, **signing: Any) -> int:
        """Deliver a payload as Slack would (signed HTTP, or an envelope over the socket); the HTTP status."""
        if self.events is None:
            self.slack.socket_send(payload)
            return 200
        return (await self.events.send(payload, **signing)).status

    async def settle(self, timeout: float = 30.0) -> None:  # generous: parallel workers on a loaded machine
        """Until the work the app started after its acks is done."""
        assert self.handle is not None
        deadline = asyncio.get_running_loop().time() + timeout
        await asyncio.sleep(0.05)
        while self.handle.services.tasks:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the Slack app did not finish its work")
            await asyncio.wait(list(self.handle.services.tasks), timeout=0.5)
            await asyncio.sleep(0.02)

    async def click(self, user: str, message: SlackMessage, label: str | None = None, **kw: Any) -> int:
        status = await self.send(self.slack.block_action(user, message, text=label, **kw))
        await self.settle()
        return status

    async def reply(self, user: str, root_ts: str, text: str) -> int:
        status = await self.send(self.slack.message(user, CHANNEL, text, thread_ts=root_ts))
        await self.settle()
        return status


def roots(slack: FakeSlack) -> list[SlackMessage]:
    """The app's top-level posts in the cases channel (the case threads' roots)."""
    return [m for m in slack.posts(CHANNEL) if m.thread_ts is None and not m.deleted]


def visible_text(message: SlackMessage) -> str:
    """Everything of a message people could read: its text and every text of its blocks."""
    parts = [message.text]

    def walk(node: Any) -> None:  # noqa: ANN401
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks or [])
    return "\n".join(parts)


def load(app: App, directory: Path) -> None:
    load_ledger(app, directory)
