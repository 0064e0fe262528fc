"""One rate budget for every process on the database: Telegram's and Slack's flood limits.

DESIGN "Reliability": stay under 30 messages/s per bot token and 1/s per chat, and Slack under
1 message/s per channel, across all processes sharing the database (several `collectbot
run`/`sweep` at once share one budget). python-telegram-bot's own AIORateLimiter counts per
process and has no per-chat limit, so it cannot keep that promise; this module can:

- `rate_budget` holds, per key, the earliest wall-clock instant (µs since the epoch) at which
  the next message may go. Reserving a slot is one short write transaction: the caller gets
  `max(now, next_at)` and moves `next_at` one interval past it, so two processes can never
  get the same slot. A slot on a busy chat is not reserved early: the caller waits until the
  chat is free and then takes the next global slot, so a slow chat does not hold back the
  messages to every other chat. A chat's next slot is also pushed a full interval past the
  moment a request to it finished, so one that left late cannot arrive too close to the next.
- Intervals sit a little above the published limits (1/28.8 s, not 1/30 s; 1.05 s per chat)
  so that scheduling jitter of tens of milliseconds between processes cannot push a
  one-second window over the limit. At 28.8/s the budget still uses 96 % of Telegram's rate.
- A 429 answer moves the key's `next_at` past its `retry_after` for everyone, then the
  request is sent again.
- A request that wakes up more than `LATE` after its global slot (a loaded machine) takes a new
  slot instead of going late: late requests bunched with punctual ones put 31 messages into one
  second at the fake Bot API with three processes on two busy cores (tests/faults).

Wall-clock time (not the application clock: `sweep --now` replays planning, not seconds) is
the only time every process on the database can agree on.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import weakref
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from telegram.error import NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.scheduler.dbpool import run_db
from storage.sql import dialect_insert
from storage.tables import RateBudget

log = logging.getLogger("collectbot.ratelimit")

TELEGRAM_INTERVAL = 1 / 28.8  # seconds between two messages of one bot token (limit: 30/s)
CHAT_INTERVAL = 1.05  # seconds between two messages to one chat (limit: 1/s)
SLACK_CHANNEL_INTERVAL = 1.05  # seconds between two posts to one Slack channel (limit: 1/s)
MAX_RETRIES = 5  # 429s in a row before the error reaches the caller
LATE = 0.02  # seconds past its global slot after which a request takes a new slot instead of going late
MAX_IN_FLIGHT = 3  # messages whose request is out at once, per process (DESIGN "Reliability")

Slot = tuple[str, float]  # (budget key, seconds between two uses)


def _digest(secret: str) -> str:
    """A key that names a token without containing it (keys are stored, and may be logged)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def telegram_bot_slot(token: str) -> Slot:
    """The per-bot-token slot: 30 messages/s whatever the chat."""
    return (f"tg:{_digest(token)}", TELEGRAM_INTERVAL)


def telegram_chat_slot(token: str, chat_id: int | str) -> Slot:
    """The per-chat slot: 1 message/s to one chat."""
    return (f"tg:{_digest(token)}:{chat_id}", CHAT_INTERVAL)


def slack_slots(channel: str) -> list[Slot]:
    """The slots of one Slack post: 1 message/s per channel."""
    return [(f"slack:{channel}", SLACK_CHANNEL_INTERVAL)]


class SharedBudget:
    """Slots of a rate budget kept in the database (table `rate_budget`), shared by every process.

    `wall` returns seconds since the epoch (time.time; a test may pass its own). Blocking database
    work runs in bot.scheduler.dbpool's threads, never on the event loop.
    """

    def __init__(self, engine: Engine, *, wall: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.wall = wall

    def try_reserve(self, wait_for: Sequence[Slot], take: Sequence[Slot]) -> tuple[bool, float]:
        """One transaction: if every `wait_for` key is free now, reserve the next slot of all keys.

        Returns (True, the reserved instant) or (False, when the busiest `wait_for` key frees up),
        instants in seconds since the epoch. `take` keys (a global limit) are reserved at
        `max(now, their next_at)` even when that is later than now.
        """
        t = RateBudget.__table__
        keys = {k: interval for k, interval in (*wait_for, *take)}
        now_us = int(self.wall() * 1_000_000)
        with self.engine.begin() as conn:
            conn.execute(
                dialect_insert(conn, t).on_conflict_do_nothing(index_elements=["key"]),
                [{"key": k, "next_at": 0} for k in sorted(keys)],
            )
            query = t.select().where(t.c.key.in_(sorted(keys)))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            next_at = {row.key: row.next_at for row in conn.execute(query)}
            busy = max((next_at[k] for k, _ in wait_for), default=0)
            if busy > now_us:
                return False, busy / 1_000_000
            slot = max([now_us, *(next_at[k] for k, _ in take)])
            for key, interval in keys.items():
                conn.execute(
                    t.update().where(t.c.key == key).values(next_at=slot + int(interval * 1_000_000))
                )
        return True, slot / 1_000_000

    async def acquire(self, *, wait_for: Sequence[Slot] = (), take: Sequence[Slot] = ()) -> None:
        """Wait for a slot on every key, reserve it, and sleep until it comes.

        `wait_for`: keys whose limit is per recipient (a chat, a channel): their slot is reserved
        only once they are free. `take`: keys shared by everything (the bot token).
        """
        while True:
            ok, at = await run_db(self.try_reserve, wait_for, take)
            delay = at - self.wall()
            if ok:
                if delay > 0:
                    await asyncio.sleep(delay)
                if not take or self.wall() - at <= LATE:
                    return
                # Woken too late (a busy loop or machine): sending now would bunch with the slots
                # after this one and put more than the limit into one second. Take a new slot.
                continue
            await asyncio.sleep(max(delay, 0.001))

    def push_back(self, key: str, seconds: float) -> None:
        """Nobody may use `key` for `seconds` from now (a 429's retry_after)."""
        t = RateBudget.__table__
        until = int((self.wall() + seconds) * 1_000_000)
        with self.engine.begin() as conn:
            conn.execute(
                dialect_insert(conn, t).on_conflict_do_nothing(index_elements=["key"]), [{"key": key, "next_at": 0}]
            )
            conn.execute(t.update().where(t.c.key == key, t.c.next_at < until).values(next_at=until))

    async def pause(self, key: str, seconds: float) -> None:
        """`push_back` from the event loop."""
        await run_db(self.push_back, key, seconds)


class BudgetUnavailable(NetworkError):
    """The shared rate budget could not be read or written (the database failed): the request was NOT
    sent. A NetworkError, so the delivery path retries it with backoff and otherwise leaves the message
    pending (DESIGN "Reliability": an error before the request left), never `unknown`."""


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds (PTB 22 gives an int or a timedelta depending on a setting)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramRateLimiter(BaseRateLimiter[int]):
    """python-telegram-bot's rate limiter interface over the shared budget.

    Every request that carries a `chat_id` (a message, an edit, a document) waits for that chat's
    slot and the bot's slot, holding one of this process's MAX_IN_FLIGHT places; other requests
    (getMe, answerCallbackQuery, getUpdates) go at once,
    as in PTB's own AIORateLimiter. A `RetryAfter` (429) pushes the bot's slot back by
    `retry_after` for every process and the request is sent again, up to MAX_RETRIES times (or
    `rate_limit_args` when given); any other error reaches the caller unchanged, as PTB requires.
    A database failure while reserving a slot is `BudgetUnavailable` (nothing was sent: retried).
    """

    def __init__(self, budget: SharedBudget, token: str, *, max_retries: int = MAX_RETRIES) -> None:
        self.budget = budget
        self._bot_slot = telegram_bot_slot(token)
        self._token = token
        self.max_retries = max_retries
        self._in_flight: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def initialize(self) -> None:
        """Nothing to set up: the budget lives in the database."""

    def _sends(self) -> asyncio.Semaphore:
        """This process's places for messages in flight, on the running loop."""
        loop = asyncio.get_running_loop()
        sem = self._in_flight.get(loop)
        if sem is None:
            sem = self._in_flight[loop] = asyncio.Semaphore(MAX_IN_FLIGHT)
        return sem

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict | list[dict]]],
        args: Any,  # noqa: ANN401
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict | list[dict]:
        """Wait for the slots of this request, call it, and on 429 wait `retry_after` and call it again."""
        chat_id = data.get("chat_id")
        chat_slot = None if chat_id is None else telegram_chat_slot(self._token, chat_id)
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            try:
                if chat_slot is None:
                    return await callback(*args, **kwargs)
                # A place first, then the slot: the request leaves at its slot (a request kept
                # waiting for a place after its slot would arrive bunched with later ones).
                async with self._sends():
                    try:
                        await self.budget.acquire(wait_for=[chat_slot], take=[self._bot_slot])
                    except Exception as exc:  # noqa: BLE001 - the database failed: nothing was sent
                        raise BudgetUnavailable(f"rate budget unavailable ({type(exc).__name__})") from exc
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                seconds = retry_after_seconds(exc)
                log.warning("Telegram asked to slow down (%s): waiting %.1f s", endpoint, seconds)
                try:
                    await self.budget.pause(self._bot_slot[0], seconds)
                except Exception as db_exc:  # noqa: BLE001 - a 429 sent nothing
                    raise BudgetUnavailable(f"rate budget unavailable ({type(db_exc).__name__})") from db_exc
                if chat_id is None:
                    await asyncio.sleep(seconds)
            finally:
                if chat_slot is not None:
                    # The chat's next message waits a full interval from when this one was done,
                    # not from its slot: a request that left late (a new connection, a busy
                    # loop) must not arrive less than an interval before the next one. A database
                    # failure here must not turn a message that was sent into an error.
                    try:
                        await self.budget.pause(*chat_slot)
                    except Exception:  # noqa: BLE001
                        log.warning("the rate budget could not be updated after a send to a chat", exc_info=True)
        raise AssertionError("unreachable")
