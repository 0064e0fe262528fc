"""The debtor's bot as a debtor meets it: the real PTB Application polling the fake Bot API over HTTP.

`BotRig` owns a small ledger (four customers in four languages), an App on it with a fixed
clock, and the Application started the way `collectbot run` starts it (initialize, post_init,
start, updater.start_polling). Tests act as users on the fake (`send`, `click`) and read what
the bot said there, and what it recorded in the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram.ext import Application, ExtBot
from telegram.request import HTTPXRequest

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.handlers.telegram import build_application
from bot.importer import import_file
from bot.services.linking import new_token
from storage.tables import Customer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_state import ChatMessage

CUSTOMERS = [
    "customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,"
    "country,sales_rep_slack_id,aliases",
    "ACME,ACME <Corp> & Sons,default,USD,50000.00,30,en,UTC,US,U0SALES01,",
    "BETA,Beta Ltda,default,BRL,,30,pt,America/Sao_Paulo,BR,U0SALES02,",
    "GAMA,Gama S.L.,default,EUR,,30,es,Europe/Madrid,ES,U0SALES03,",
    "PARS,پارس تجارت,default,IRR,,30,fa,Asia/Tehran,IR,U0SALES04,",
]
DOCUMENTS = [
    "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref",
    "INV-1,ACME,invoice,2026-01-05,2026-02-04,1200.00,USD,",
    "INV-2,ACME,invoice,2026-02-10,2026-03-12,300.50,USD,",
    "CN-1,ACME,credit_note,2026-02-20,,100.00,USD,INV-1",
    "BR-1,BETA,invoice,2026-01-10,2026-02-09,5000.00,BRL,",
    "BR-2,BETA,invoice,2026-02-10,2026-03-12,1234.56,BRL,",
    "ES-1,GAMA,invoice,2026-01-10,2026-02-09,2500.00,EUR,",
    "FA-1,PARS,invoice,2026-01-10,2026-02-09,9000000.00,IRR,",
]
PAYMENTS = [
    "payment_ref,customer_ref,date,amount,currency,method,applies_to",
    "PAY-1,ACME,2026-03-01,200.00,USD,wire,INV-1:200.00",
]
NOW = datetime(2026, 3, 16, 13, 0, tzinfo=UTC)  # a Monday
ACME_CHAT, BETA_CHAT, GAMA_CHAT, PARS_CHAT, STRANGER = 5001, 5002, 5003, 5004, 6666


def load_ledger(app: App, directory: Path) -> None:
    ctx = app.import_context()
    for kind, lines in (("customers", CUSTOMERS), ("documents", DOCUMENTS), ("payments", PAYMENTS)):
        path = directory / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        import_file(app.engine, kind, path, ctx)


def make_app(database_url: str, tg: FakeTelegram, now: datetime = NOW) -> App:
    settings = Settings(
        database_url=database_url,
        telegram_bot_token=tg.token,
        telegram_api_url=tg.api_url,
        telegram_file_url=tg.file_url,
        _env_file=None,
    )
    return App(settings, clock=FixedClock(now))


def link_token(app: App, customer_ref: str, contact: str = "") -> str:
    with app.engine.begin() as conn:
        cid = conn.execute(select(Customer.id).where(Customer.ref == customer_ref)).scalar_one()
        return new_token(conn, cid, contact_name=contact, now=app.now())


@dataclass
class BotRig:
    app: App
    tg: FakeTelegram
    application: Application | None = None

    async def start(self, *, rate_limited: bool = False) -> BotRig:
        """Start a fresh Application (as `collectbot run` does); `rate_limited` uses the shared budget."""
        bot = None if rate_limited else ExtBot(
            self.tg.token, base_url=self.tg.api_url, base_file_url=self.tg.file_url,
            request=HTTPXRequest(read_timeout=2.0),  # short: the timeout tests wait this long
        )
        application = build_application(self.app, bot=bot)
        await application.initialize()
        await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        self.application = application
        return self

    async def stop(self) -> None:
        application, self.application = self.application, None
        if application is None:
            return
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

    async def settle(self, timeout: float = 10.0) -> None:
        """Until every pushed update was fetched and handled, and the replies are sent."""
        assert self.application is not None
        deadline = asyncio.get_running_loop().time() + timeout
        calm = 0
        while calm < 3:
            busy = (
                bool(self.tg.updates)
                or not self.application.update_queue.empty()
                or self.application.update_processor.current_concurrent_updates > 0
            )
            calm = 0 if busy else calm + 1
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the bot did not finish handling the updates")
            await asyncio.sleep(0.02)

    def link(self, chat: int, customer_ref: str, *, name: str = "Ana", language: str | None = "en",
             contact: str = "") -> str:
        if chat not in self.tg.users:
            self.tg.add_user(chat, name, language_code=language)
        return link_token(self.app, customer_ref, contact)

    async def send(self, chat: int, text: str) -> list[ChatMessage]:
        """The user writes `text`; the bot's new messages to that chat."""
        before = len(self.tg.sent(chat))
        self.tg.user_sends(chat, text)
        await self.settle()
        return self.tg.sent(chat)[before:]

    async def click(self, chat: int, label: str | None = None, *, data: str | None = None,
                    message: ChatMessage | None = None, forge: bool = False) -> list[ChatMessage]:
        """The user taps a button (by label, on the bot's last message with buttons unless `message`)."""
        target = message or self.last_with_buttons(chat)
        before = len(self.tg.sent(chat))
        self.tg.user_clicks(chat, target.message_id, data, button=label, forge=forge)
        await self.settle()
        return self.tg.sent(chat)[before:]

    def last_with_buttons(self, chat: int) -> ChatMessage:
        for message in reversed(self.tg.sent(chat)):
            if message.buttons:
                return message
        raise AssertionError(f"no bot message with buttons in chat {chat}")

    def said(self, chat: int) -> str:
        """The last thing the bot said in the chat, as the user reads it."""
        return self.tg.last(chat).plain_text


def texts(messages: Iterable[ChatMessage]) -> str:
    return "\n---\n".join(m.plain_text for m in messages)


@asynccontextmanager
async def running_rig(
    database_url: str, tmp_path: Path, tg: FakeTelegram, rig_class: type[BotRig] = BotRig
) -> AsyncIterator[BotRig]:
    """The small ledger and the real Application polling `tg` (a started FakeTelegram), stopped after;
    the fake must have answered every call without an internal error."""
    app = make_app(database_url, tg)
    load_ledger(app, tmp_path)
    the_rig = rig_class(app, tg)
    await the_rig.start()
    try:
        yield the_rig
    finally:
        await the_rig.stop()
        app.engine.dispose()
    assert not tg.internal_errors, tg.internal_errors


@pytest.fixture
async def rig(database_url: str, tmp_path: Path) -> AsyncIterator[BotRig]:
    """The rig: a fake Bot API on the test's loop, the small ledger, the real Application polling it.

    chat_burst: the conversation tests answer faster than a person would; the shared rate budget
    (its own tests, and test_rate_budget_keeps_replies_under_the_chat_limit) keeps 1/s."""
    async with FakeTelegram(chat_burst=30) as tg, running_rig(database_url, tmp_path, tg) as the_rig:
        yield the_rig
