"""One rate budget for every process on the database: Telegram's and Slack's flood limits.

DESIGN "Reliability": stay under 30 messages/s per bot token and 1/s per chat, and Slack under
1 message/s per channel, across all processes sharing the database (several `collectbot
run`/`sweep` at once share one budget). Telegram documents "no more than 30 messages per second
or so" for a bot, "avoid more than one message per second" in a chat (and 20 a minute in a group:
collectbot only writes to private chats, so that one never applies); its test double
(tests/fakes/telegram_api.py) holds us to the strict reading: 429 as soon as any sliding second
holds a 31st message, as Telegram counts them, i.e. when each request reaches it.
python-telegram-bot's AIORateLimiter (aiolimiter) and the `limits` package count per process or
in Redis/memcached, and at the moment a request is scheduled, not when it reached the server:
neither can keep that promise across processes through the database. This module can:

- `rate_budget` holds, per key, the earliest wall-clock instant (µs since the epoch) at which
  the key may be used again. Every reservation is one short write transaction.
- A bot token has PERMITS (30) permit rows. A message takes a free one (its `next_at` passed),
  holds it while its request is out (`next_at` = now + LEASE, in case the process dies), and
  gives it back as free one WINDOW (1 s) after the request was DONE (the answer came, or the
  error). A request reaches Telegram between the moment it left and the moment it was done, so
  two messages on one permit reach Telegram at least a second apart, and any one second holds at
  most 30 of them, however late a request left or travelled (a loaded machine, a busy event
  loop, a slow server): measured at send time, not at slot time. The cost is only the time a
  request takes (30 messages per 1 s + its round trip: about 98 % of 30/s on a local fake).
- The bot's own key spaces the messages 1/30 s apart where the permits allow (no burst of 30 at
  once), and a 429 moves it past the `retry_after` for everyone before the request is sent again.
- A chat's key is held the same way: while a message to it is out, and CHAT_INTERVAL after it
  was done. A message to a busy chat waits without taking anything, so a slow chat does not hold
  back the messages to every other chat. Slack channels use the plain `acquire`/`pause` pair.

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
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from telegram.error import NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.scheduler.claims import claim_holder, dead_holders
from bot.scheduler.dbpool import run_db
from storage.engine import failure_reason
from storage.sql import dialect_insert
from storage.tables import RateBudget

log = logging.getLogger("collectbot.ratelimit")

TELEGRAM_INTERVAL = 1 / 45  # seconds at least between two messages of one bot (no burst; permits set the rate)
PERMITS = 30  # messages of one bot token in any WINDOW (Telegram: about 30/s)
WINDOW = 1.0  # seconds
WINDOW_MARGIN = 0.005  # added to WINDOW: wall clocks of two processes may be slewed apart by NTP
AHEAD = 0.1  # seconds before a permit is free at which a message may take it (and wait for it)
LEASE = 40.0  # seconds a permit (or chat) stays taken if never given back (a dead process): longer than a request lasts
CHAT_INTERVAL = 1.05  # seconds from a message to one chat being done to the next one going (limit: 1/s)
SLACK_CHANNEL_INTERVAL = 1.05  # seconds between two posts to one Slack channel (limit: 1/s)
MAX_RETRIES = 5  # 429s in a row before the error reaches the caller
MAX_IN_FLIGHT = 3  # messages whose request is out at once, per process (DESIGN "Reliability")

Slot = tuple[str, float]  # (budget key, seconds between two uses)


def _unless_dead(conn: Connection, rows: Sequence[Any], now_us: int) -> dict[str, int]:
    """key -> next_at (µs) of budget rows (locked by the caller's transaction). A key leased by a
    process (or database session) that is gone is given back on its behalf, free after its interval
    from now, as if its request had just been done: a dead process has no request out, and the
    lease (LEASE, 40 s) would keep a debtor's chat silent after a crash. Who is gone:
    bot.scheduler.claims.dead_holders (one query for all)."""
    next_at = {row.key: row.next_at for row in rows}
    leased = {row.holder for row in rows if row.holder and row.next_at > now_us}
    dead = dead_holders(conn, leased) if leased else set()
    t = RateBudget.__table__
    for row in rows:
        if row.holder in dead and row.next_at > now_us:
            after = _us(WINDOW + WINDOW_MARGIN) if "/permit" in row.key else _us(CHAT_INTERVAL)
            next_at[row.key] = now_us + after
            conn.execute(t.update().where(t.c.key == row.key).values(next_at=next_at[row.key], holder=""))
    return next_at


def _us(seconds: float) -> int:
    return int(seconds * 1_000_000)


def _digest(secret: str) -> str:
    """A key that names a token without containing it (keys are stored, and may be logged)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def telegram_bot_slot(token: str) -> Slot:
    """The per-bot-token slot: 30 messages/s whatever the chat."""
    return (f"tg:{_digest(token)}", TELEGRAM_INTERVAL)


def telegram_permits(token: str) -> list[str]:
    """The keys of a bot token's PERMITS permits (module docstring)."""
    return [f"tg:{_digest(token)}/permit{i}" for i in range(PERMITS)]


def telegram_chat_slot(token: str, chat_id: int | str) -> Slot:
    """The per-chat slot: 1 message/s to one chat."""
    return (f"tg:{_digest(token)}:{chat_id}", CHAT_INTERVAL)


def slack_slots(channel: str) -> list[Slot]:
    """The slots of one Slack post: 1 message/s per channel."""
    return [(f"slack:{channel}", SLACK_CHANNEL_INTERVAL)]


@dataclass(frozen=True)
class Lease:
    """A message's place under the bot's permits: `chat` and `permit` held until `held` (µs), to send at `at`."""

    chat: str
    permit: str
    held: int
    at: float


@dataclass(frozen=True)
class Busy:
    """No place now: the chat (`chat` True) or every permit of the bot is taken until `until`."""

    chat: bool
    until: float


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
        only once they are free. `take`: keys shared by everything, reserved at their next slot.
        """
        while True:
            ok, at = await run_db(self.try_reserve, wait_for, take)
            delay = at - self.wall()
            if ok:
                if delay > 0:
                    await asyncio.sleep(delay)
                return
            await asyncio.sleep(max(delay, 0.001))

    def try_send(self, chat: str, bot: str, interval: float, permits: Sequence[str]) -> Lease | Busy:
        """One transaction: take a message's place under a bot's permits (module docstring).

        `chat`'s key must be free now, and one of `permits` free within AHEAD seconds (else Busy says
        which and until when, taking nothing); then the chat and that permit are held for LEASE
        seconds, and the message's slot is the first instant at which the permit is free and the
        bot's key `interval` past the previous slot (the Lease says when to send: taking the permit
        a little ahead keeps this transaction's own time out of the rate). Instants in seconds
        since the epoch.
        """
        t = RateBudget.__table__
        keys = sorted({chat, bot, *permits})
        me = claim_holder(self.engine).token  # before the transaction: it may open its own session
        now_us = int(self.wall() * 1_000_000)
        with self.engine.begin() as conn:
            # Rows locked in one order by every process (a scan's order would deadlock two of them).
            query = t.select().where(t.c.key.in_(keys)).order_by(t.c.key)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            rows = list(conn.execute(query))
            missing = [k for k in keys if k not in {row.key for row in rows}]
            if missing:
                conn.execute(dialect_insert(conn, t).on_conflict_do_nothing(index_elements=["key"]),
                             [{"key": k, "next_at": 0, "holder": ""} for k in missing])
                rows = list(conn.execute(query))
            next_at = _unless_dead(conn, rows, now_us)
            # A key held by a request still out is free again no sooner than its interval from now.
            if next_at[chat] > now_us:
                return Busy(chat=True, until=min(next_at[chat], now_us + _us(CHAT_INTERVAL)) / 1_000_000)
            permit = min(permits, key=lambda k: (next_at[k], k))
            if next_at[permit] > now_us + _us(AHEAD):
                until = min(next_at[permit], now_us + _us(WINDOW + WINDOW_MARGIN)) - _us(AHEAD)
                return Busy(chat=False, until=until / 1_000_000)
            slot = max(now_us, next_at[permit], next_at[bot])
            held = now_us + _us(LEASE)
            conn.execute(t.update().where(t.c.key == bot).values(next_at=slot + _us(interval)))
            conn.execute(t.update().where(t.c.key.in_([chat, permit])).values(next_at=held, holder=me))
        return Lease(chat, permit, held, slot / 1_000_000)

    def give_back(self, lease: Lease, done: float) -> None:
        """The request of `lease` was done at `done`: its permit is free again WINDOW later, its chat
        CHAT_INTERVAL later (unless someone took them over meanwhile, after LEASE)."""
        t = RateBudget.__table__
        with self.engine.begin() as conn:
            for key, after in ((lease.permit, WINDOW + WINDOW_MARGIN), (lease.chat, CHAT_INTERVAL)):
                conn.execute(t.update().where(t.c.key == key, t.c.next_at == lease.held)
                             .values(next_at=_us(done + after), holder=""))

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


@dataclass(frozen=True)
class BeforeSend:
    """`rate_limit_args` of one request: `leaving` is awaited once its places are taken, right before
    it is sent (the delivery path records there that the message may be out; if it raises, nothing
    is sent); `retries` as the plain int form."""

    leaving: Callable[[], Coroutine[Any, Any, None]] | Callable[[], Any] | None = None
    retries: int | None = None


class TelegramRateLimiter(BaseRateLimiter["int | BeforeSend"]):
    """python-telegram-bot's rate limiter interface over the shared budget.

    Every request that carries a `chat_id` (a message, an edit, a chat action) holds one of this
    process's MAX_IN_FLIGHT places, then waits for its chat and one of the bot's permits
    (`SharedBudget.try_send`; one waiter per process asks the database for the bot's permits, the
    others queue behind it), goes at its slot, and gives both back when it is done, whatever the
    outcome. Other requests (getMe, answerCallbackQuery, getUpdates) go at once, as in PTB's own
    AIORateLimiter. A `RetryAfter` (429) pushes the bot's slot back by `retry_after` for every
    process and the request is sent again, up to MAX_RETRIES times (or `rate_limit_args` when
    given); any other error reaches the caller unchanged, as PTB requires. A database failure
    while taking a place is `BudgetUnavailable` (nothing was sent: retried).
    """

    def __init__(self, budget: SharedBudget, token: str, *, max_retries: int = MAX_RETRIES) -> None:
        self.budget = budget
        self._bot_slot = telegram_bot_slot(token)
        self._permits = telegram_permits(token)
        self._token = token
        self.max_retries = max_retries
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[asyncio.Semaphore, asyncio.Lock]] = (
            weakref.WeakKeyDictionary()
        )

    async def initialize(self) -> None:
        """Nothing to set up: the budget lives in the database."""

    def _local(self) -> tuple[asyncio.Semaphore, asyncio.Lock]:
        """This process's places for messages in flight, and its turn at the bot's permits, on the running loop."""
        loop = asyncio.get_running_loop()
        local = self._loops.get(loop)
        if local is None:
            local = self._loops[loop] = (asyncio.Semaphore(MAX_IN_FLIGHT), asyncio.Lock())
        return local

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def _take(self, chat: str, turn: asyncio.Lock) -> Lease:
        """Wait for the chat and a permit and take them (the Lease says when to send)."""
        bot, interval = self._bot_slot
        while True:
            async with turn:
                while True:
                    got = await run_db(self.budget.try_send, chat, bot, interval, self._permits)
                    if isinstance(got, Lease) or got.chat:
                        break
                    await asyncio.sleep(max(got.until - self.budget.wall(), 0.001))
            if isinstance(got, Lease):
                return got
            await asyncio.sleep(max(got.until - self.budget.wall(), 0.001))  # the chat is busy: not in turn

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict | list[dict]]],
        args: Any,  # noqa: ANN401
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | BeforeSend | None,
    ) -> bool | dict | list[dict]:
        """Wait for the places of this request, call it, give them back; on 429 wait `retry_after` and call again."""
        chat_id = data.get("chat_id")
        before = rate_limit_args if isinstance(rate_limit_args, BeforeSend) else BeforeSend(retries=rate_limit_args)
        retries = self.max_retries if before.retries is None else before.retries
        for attempt in range(retries + 1):
            try:
                if chat_id is None:
                    if before.leaving is not None:
                        await before.leaving()
                    return await callback(*args, **kwargs)
                return await self._send(callback, args, kwargs, telegram_chat_slot(self._token, chat_id)[0],
                                        before.leaving)
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
        raise AssertionError("unreachable")

    async def _send(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,  # noqa: ANN401
                    kwargs: dict[str, Any], chat: str, leaving: Callable[[], Any] | None) -> Any:  # noqa: ANN401
        places, turn = self._local()
        lease: Lease | None = None
        done = 0.0
        try:
            try:
                lease = await self._take(chat, turn)
            except Exception as exc:  # noqa: BLE001 - the database failed: nothing was sent
                raise BudgetUnavailable(f"rate budget unavailable ({type(exc).__name__})") from exc
            if leaving is not None:
                await leaving()  # its error reaches the caller: nothing was sent (the permit comes back)
            delay = lease.at - self.budget.wall()
            if delay > 0:
                await asyncio.sleep(delay)
            # The place after the slot: waiting for a slot is not being in flight. A request that
            # then waits for a place goes late, which the permits make harmless.
            async with places:
                try:
                    return await callback(*args, **kwargs)
                finally:
                    done = self.budget.wall()
        finally:
            # After the place is free again. A database failure here must not turn a message that
            # was sent into an error: the permit and the chat then come back after LEASE.
            if lease is not None:
                try:
                    await run_db(self.budget.give_back, lease, done)
                except Exception as exc:  # noqa: BLE001
                    log.warning("the rate budget could not be updated after a send (%s: %s)", type(exc).__name__,
                                failure_reason(exc))
