"""The shared rate budget in front of the real python-telegram-bot, against the fake Bot API's limits.

DESIGN "Reliability and security": stay under 30 messages/s per bot token and 1/s per chat
across all processes sharing the database; on 429, wait retry_after and send again. The fake
answers 429 as soon as any 1-second window holds more than 30 messages (or 2 to one chat).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import Engine
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.scheduler.ratelimit import SharedBudget, TelegramRateLimiter
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


def _bot(tg: FakeTelegram, engine: Engine) -> ExtBot:
    limiter = TelegramRateLimiter(SharedBudget(engine), tg.token)
    return ExtBot(tg.token, base_url=tg.api_url, base_file_url=tg.file_url, rate_limiter=limiter)


async def test_a_burst_to_many_chats_stays_under_both_limits(engine: Engine) -> None:
    with FakeTelegram().in_thread() as tg:
        chats = list(range(5001, 5021))
        for chat in chats:
            tg.add_user(chat, f"user {chat}")
        started = time.monotonic()
        async with _bot(tg, engine) as bot:
            # 60 messages at once, three to each chat: the limiter alone spaces them
            await asyncio.gather(*(bot.send_message(chat, f"n{i}") for i in range(3) for chat in chats))
        took = time.monotonic() - started
        stats = tg.stats()
    assert stats["answered_429"] == 0
    assert sorted(len(tg.sent(chat)) for chat in chats) == [3] * 20
    assert took >= 2.0  # 60 messages cannot leave in under two seconds at 30/s (and 3 per chat take 2 s)


async def test_a_429_is_waited_out_and_the_message_sent_again(engine: Engine) -> None:
    with FakeTelegram().in_thread() as tg:
        tg.add_user(6001, "Ana")
        tg.rate_limit_next(retry_after=1, method="sendMessage")
        async with _bot(tg, engine) as bot:
            started = time.monotonic()
            await bot.send_message(6001, "hello")
            await bot.send_message(6001, "again")
            took = time.monotonic() - started
        texts = [m.text for m in tg.sent(6001)]
    assert texts == ["hello", "again"]  # the refused one went out again, once
    assert took >= 2.0  # 1 s of retry_after, then 1 s between two messages to one chat


SENDER = """
    import asyncio, os
    from telegram.ext import ExtBot
    from storage.engine import make_engine
    from bot.scheduler.ratelimit import SharedBudget, TelegramRateLimiter

    async def main():
        token = os.environ["TOKEN"]
        limiter = TelegramRateLimiter(SharedBudget(make_engine(os.environ["URL"])), token)
        chats = [int(c) for c in os.environ["CHATS"].split(",")]
        async with ExtBot(token, base_url=os.environ["API"], rate_limiter=limiter) as bot:
            sem = asyncio.Semaphore(3)  # the delivery path's bound on sends in flight
            async def one(chat, i):
                async with sem:
                    await bot.send_message(chat, f"{os.environ['NAME']} {i}")
            await asyncio.gather(*(one(chat, i) for i in range(2) for chat in chats))
        print("done", flush=True)

    asyncio.run(main())
"""


def test_two_processes_share_one_budget(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    with FakeTelegram().in_thread() as tg:
        chats = list(range(7001, 7031))
        for chat in chats:
            tg.add_user(chat, f"user {chat}")
        env = dict(os.environ, URL=url, TOKEN=tg.token, API=tg.api_url, PYTHONPATH=str(ROOT))
        env["CHATS"] = ",".join(map(str, chats))
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(SENDER)],
                env=dict(env, NAME=name),
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("first", "second")
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0 and out.strip() == "done", err
        stats = tg.stats()
        per_chat = sorted(len(tg.sent(chat)) for chat in chats)
    assert stats["answered_429"] == 0  # 120 messages to 30 chats from two processes at once
    assert per_chat == [4] * 30



class LateOnTheWire(HTTPXRequest):
    """Every message leaves the rate limiter on time but reaches the Bot API `late` seconds later:
    what a loaded machine, a stalled event loop or a slow network does to the requests out."""

    def __init__(self, late: float) -> None:
        super().__init__(connection_pool_size=8)
        self.late = late

    async def do_request(self, url, method, request_data=None, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        if url.endswith("/sendMessage"):
            await asyncio.sleep(self.late)
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def test_messages_reaching_telegram_late_never_make_31_in_one_second(engine: Engine) -> None:
    # Three senders share the budget (three processes): one sends 90 messages at full rate and
    # reaches the fake on time; a second later the two others send three each, which reach it
    # half a second after they left. Telegram counts messages as they arrive: a budget that
    # spaces them when they leave lets those six land in a second already holding its thirty.
    with FakeTelegram().in_thread() as tg:
        chats = list(range(8001, 8097))
        for chat in chats:
            tg.add_user(chat, f"user {chat}")

        def bot(request: HTTPXRequest | None = None) -> ExtBot:
            limiter = TelegramRateLimiter(SharedBudget(engine), tg.token)
            return ExtBot(tg.token, base_url=tg.api_url, request=request, rate_limiter=limiter)

        async def stream(sender: ExtBot, to: list[int], after: float = 0.0) -> None:
            await asyncio.sleep(after)
            await asyncio.gather(*(sender.send_message(chat, "hello") for chat in to))

        started = time.monotonic()
        async with bot() as steady, bot(LateOnTheWire(0.5)) as slow1, bot(LateOnTheWire(0.5)) as slow2:
            await asyncio.gather(stream(steady, chats[:90]), stream(slow1, chats[90:93], 1.0),
                                 stream(slow2, chats[93:], 1.0))
        took = time.monotonic() - started
        stats = tg.stats()
    assert stats["answered_429"] == 0
    assert sorted(len(tg.sent(chat)) for chat in chats) == [1] * 96
    assert took < 96 / 20  # and close to 30/s all the same (about 3.5 s; 4.8 s allows a loaded machine)


def test_a_chat_leased_by_a_killed_process_is_free_after_its_interval_not_the_whole_lease(engine: Engine) -> None:
    """A `run` killed with a reply out held the debtor's chat (and a permit) for the whole lease (40 s):
    the conversation, resumed by the next process, stayed silent that long. The lease names its
    holder; a holder that is gone gives it back, free one chat interval later."""
    from bot.scheduler.ratelimit import CHAT_INTERVAL, LEASE, Busy, telegram_chat_slot, telegram_permits

    token = "42:TEST"
    chat, _ = telegram_chat_slot(token, 9001)
    bot, permits = f"tg:{chat.split(':')[1]}", telegram_permits(token)
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        clock = [1_000_000.0]
        budget = SharedBudget(engine, wall=lambda: clock[0])
        lease = budget.try_send(chat, bot, 1 / 30, permits)
        assert not isinstance(lease, Busy)
        from bot.scheduler.claims import process_token
        from storage.tables import RateBudget

        t = RateBudget.__table__
        with engine.begin() as conn:  # the lease as a process that is about to die took it
            conn.execute(t.update().where(t.c.key.in_([chat, lease.permit])).values(holder=process_token(killed.pid)))
        clock[0] += 2.0
        busy = budget.try_send(chat, bot, 1 / 30, permits)
        assert isinstance(busy, Busy) and busy.chat  # its holder lives: its request may still be out
    finally:
        killed.kill()
        killed.wait()
    clock[0] += 0.5
    busy = budget.try_send(chat, bot, 1 / 30, permits)
    assert isinstance(busy, Busy) and busy.chat and busy.until <= clock[0] + CHAT_INTERVAL + 0.001
    clock[0] = busy.until
    again = budget.try_send(chat, bot, 1 / 30, permits)  # one interval later, not LEASE
    assert not isinstance(again, Busy), again
    assert busy.until - 1_000_000.0 < LEASE
