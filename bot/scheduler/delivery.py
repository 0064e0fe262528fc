"""The one delivery path: debtor messages (reminders, decision notices, relayed replies) and staff alerts.

Whoever decides to tell someone something records it first (storage.outbound.enqueue for a
debtor, storage.outbox.add_alert for staff) in the decision's own transaction; this module
sends it after that commits. DESIGN "Reliability and security":

- a message is claimed (reserved under this process's claim token from bot.scheduler.claims,
  still `pending`) in its own short transaction, becomes `sending` in another right before its
  request leaves (after the wait for the rate budget: the channel awaits a `leaving` hook), and
  its result is recorded in a third: no network call ever happens inside a transaction, and a
  failure before the request left (the database included) leaves it `pending`, never `unknown`;
- at most 3 messages are in flight per process (their requests out at once: the rate limiter,
  bot.scheduler.ratelimit.TelegramRateLimiter plugged into python-telegram-bot, holds the
  places), and at most 6 claimed ahead of their answer, so that claiming and waiting for a rate
  slot overlap the sends; the rate budget is the one every process on the database shares, and
  the limiter also waits out a 429's `retry_after` and sends again;
- a 403 (bot blocked, user deactivated, chat never started) marks the contact unreachable (a
  `contact_unreachable` event and staff alert) and the next candidate chat is tried; none left:
  `no_channel`, and for a reminder the sales rep is asked to chase by phone;
- a 5xx or a connection error before the request left is retried with backoff (tenacity);
  still failing, the message goes back to `pending` for the next delivery (the next sweep, or
  `collectbot run`'s next pass): not lost, not duplicated;
- a timeout after the request left (python-telegram-bot's `TimedOut`, unless it timed out
  connecting or waiting for a pooled connection) may have delivered it: `unknown`, never resent,
  and ONE staff alert per message naming its invoices;
- a reminder's `reminder_send` rows follow their message (sent / unknown / no_channel / failed),
  with the `reminder_sent` event;
- a claim whose holder (process or database session) died while `sending` is `unknown`
  (`recover_dead_claims`), and a staff alert left `posting` is `unknown` too: never twice.

Staff alerts (`AlertPoster`) go `pending` -> `posting` -> `posted` through an AlertChannel
(bot.scheduler.channels: the console, or the Slack adapter); `NotPosted` puts one back to
`pending` with a `not_before`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy import Connection, Engine, or_, select, update
from sqlalchemy.exc import DBAPIError
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from tenacity import AsyncRetrying, retry_if_exception, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.clock import SystemClock
from bot.scheduler import compose, ratelimit
from bot.scheduler.channels import (
    AlertChannel,
    ContactUnreachable,
    DebtorChannel,
    NotLeft,
    NotPosted,
    Outgoing,
    StaffPost,
)
from bot.scheduler.claims import claim_holder, dead_holders
from bot.scheduler.dbpool import run_db
from bot.scheduler.ratelimit import retry_after_seconds
from storage import events
from storage.engine import failure_reason, reading
from storage.outbound import SEND_STATUS_OF, AlertStatus, MessageStatus, SendStatus
from storage.outbox import add_alert
from storage.tables import Contact, Customer, OutboundMessage, ReminderSend, StaffAlert

log = logging.getLogger("collectbot.delivery")

MAX_IN_FLIGHT = ratelimit.MAX_IN_FLIGHT  # requests out at once per process (the rate limiter holds them)
CLAIMED_AHEAD = 2 * MAX_IN_FLIGHT  # messages claimed (intent recorded) but not answered yet, per process
RETRIES = 3  # further attempts after a failure before the request left (5xx, refused connection)
BACKOFF = 0.5  # seconds before the first retry, doubled each time (at most BACKOFF_MAX)
BACKOFF_MAX = 8.0
NOT_POSTED_WAIT = 30.0  # seconds before a staff alert whose post failed is tried again (unless told)

T = TypeVar("T")

# What became of one attempt to send to one chat.
UNREACHABLE, NOT_LEFT, LATER, REFUSED, UNKNOWN = "unreachable", "not_left", "later", "refused", "unknown"


def classify(exc: BaseException) -> str:
    """What an error from a send means (DESIGN "Reliability"), one of:

    - `unreachable`: 403 in its three forms (python-telegram-bot's Forbidden), or a chat Telegram
      does not know (400 "chat not found"): this chat will never receive it;
    - `not_left`: a 5xx or a connection error, a timeout while connecting or waiting for a pooled
      connection, the token refused (401/404), or NotLeft (the database failed before the request
      left): nothing was sent, so it may be sent again;
    - `later`: a 429 the rate limiter gave up on: send again after its retry_after;
    - `refused`: any other 400 (the message itself is wrong): resending cannot help;
    - `unknown`: a timeout after the request left, or anything unexpected: it may have arrived.
    """
    if isinstance(exc, Forbidden | ContactUnreachable):
        return UNREACHABLE
    if isinstance(exc, BadRequest):  # a NetworkError subclass in python-telegram-bot: before NetworkError
        return UNREACHABLE if "chat not found" in exc.message.lower() else REFUSED
    if isinstance(exc, RetryAfter):
        return LATER
    if isinstance(exc, TimedOut):
        return NOT_LEFT if isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout) else UNKNOWN
    if isinstance(exc, NetworkError | InvalidToken | EndPointNotFound | NotLeft):  # nothing was sent
        return NOT_LEFT
    return UNKNOWN


def _claimed_ahead() -> asyncio.Semaphore:
    """This process's CLAIMED_AHEAD places on the running loop (one semaphore per loop)."""
    loop = asyncio.get_running_loop()
    sem = _SEMAPHORES.get(loop)
    if sem is None:
        sem = _SEMAPHORES[loop] = asyncio.Semaphore(CLAIMED_AHEAD)
    return sem


_SEMAPHORES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def wall_now() -> datetime:
    """Real time, for `not_before` (a retry_after is real seconds, whatever `--now` says)."""
    return SystemClock().now()


@dataclass(frozen=True)
class Claimed:
    """One outbound message this process claimed (`sending`)."""

    id: int
    customer_id: int
    customer_ref: str
    customer_name: str
    kind: str
    step: str
    doc_refs: tuple[str, ...]
    candidates: tuple[dict, ...]
    token: str


@dataclass
class Delivery:
    """Delivers pending debtor messages through `channel` (Telegram, or the console in the demo).

    `clock` gives the time written into the records (the sweep's `now`; the app clock in `run`);
    `renderer` renders the chase-by-phone alert when every chat of a reminder blocked the bot.
    """

    engine: Engine
    channel: DebtorChannel
    renderer: Any
    clock: Callable[[], datetime]
    backoff: float = BACKOFF
    retries: int = RETRIES

    async def deliver(
        self, ids: Sequence[int] | None = None, *, reserved: bool = True, exclude: Collection[int] = ()
    ) -> dict[int, str]:
        """Deliver these messages (None: every pending one that is due); id -> final status.

        With `ids` None, `reserved` False leaves out messages this process reserved for a delivery
        of its own (a sweep that just recorded them delivers them itself and reports the outcome),
        and `exclude` the ones already tried in this pass (a failure waits for the next one).

        A status is a MessageStatus value; `pending` means not delivered now (a failure before the
        request left, Telegram's retry_after, or a message another live process reserved) and
        `sending` that another process is sending it.

        The database failing (DBAPIError) stops the claiming: what was not claimed stays `pending`,
        what was claimed and had not left is put back (when the database still answers), what is
        out is waited for and its result recorded if it can be; then the first error is raised, so
        that a command ends in one line (DESIGN "Interfaces") with no send left running behind it.
        """
        token = await run_db(self._token)
        if ids is None:
            ids = [i for i in await run_db(self._due_ids, token if reserved else "") if i not in exclude]
        sem = _claimed_ahead()
        failures: list[DBAPIError] = []

        async def one(mid: int) -> tuple[int, str]:
            return mid, await self._deliver_one(mid, token, sem, failures)

        results = dict(await asyncio.gather(*(one(mid) for mid in ids)))
        if failures:
            raise failures[0]
        return results

    # -- database steps (each one short transaction, in bot.scheduler.dbpool's threads) ----------

    def _token(self) -> str:
        return claim_holder(self.engine).token

    def _due_ids(self, token: str) -> list[int]:
        t = OutboundMessage.__table__
        with reading(self.engine) as conn:
            return list(
                conn.execute(
                    select(t.c.id)
                    .where(
                        t.c.status == MessageStatus.PENDING,
                        t.c.claimed_by.in_(["", token]),
                        or_(t.c.not_before.is_(None), t.c.not_before <= wall_now()),
                    )
                    .order_by(t.c.id)
                ).scalars()
            )

    def _claim(self, mid: int, token: str) -> Claimed | None:
        t, c, k = OutboundMessage.__table__, Customer.__table__, Contact.__table__
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(
                update(t)
                .where(
                    t.c.id == mid,
                    t.c.status == MessageStatus.PENDING,
                    t.c.claimed_by.in_(["", token]),
                    or_(t.c.not_before.is_(None), t.c.not_before <= wall_now()),
                )
                .values(claimed_by=token, attempts=t.c.attempts + 1, updated_at=now)
                .returning(t.c.id, t.c.customer_id, t.c.kind, t.c.step, t.c.doc_refs, t.c.candidates)
            ).first()
            if row is None:
                return None
            ref, name = conn.execute(select(c.c.ref, c.c.name).where(c.c.id == row.customer_id)).one()
            reachable = set(
                conn.execute(select(k.c.id).where(k.c.customer_id == row.customer_id, k.c.reachable.is_(True)))
                .scalars()
            )
        candidates = tuple(cand for cand in row.candidates or [] if cand.get("contact_id") in reachable)
        return Claimed(row.id, row.customer_id, ref, name, row.kind, row.step, tuple(row.doc_refs or ()),
                       candidates, token)

    def _status(self, mid: int) -> str:
        t = OutboundMessage.__table__
        with reading(self.engine) as conn:
            return conn.execute(select(t.c.status).where(t.c.id == mid)).scalar() or "missing"

    def _leaving(self, m: Claimed) -> None:
        """Intent: the message may be out from now on (`sending`). NotLeft when the claim is no longer
        this process's (its holder was declared dead and someone else took it): then it is not sent."""
        t = OutboundMessage.__table__
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.id == m.id, t.c.status.in_([MessageStatus.PENDING, MessageStatus.SENDING]),
                       t.c.claimed_by == m.token)
                .values(status=MessageStatus.SENDING, updated_at=self.clock())
            ).rowcount
        if not done:
            raise NotLeft(f"message {m.id}: the claim was lost before it left")

    def _finish(self, m: Claimed, status: MessageStatus, *, chat_id: int | None = None,
                message_id: int | None = None, error: str = "", not_before: datetime | None = None) -> bool:
        """Record the result; False when the claim was no longer this process's (declared dead meanwhile)."""
        t, r = OutboundMessage.__table__, ReminderSend.__table__
        now = self.clock()
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.id == m.id, t.c.status.in_([MessageStatus.SENDING, MessageStatus.PENDING]),
                       t.c.claimed_by == m.token)
                .values(status=status, chat_id=chat_id, telegram_message_id=message_id, error=error[:500],
                        not_before=not_before, claimed_by="" if status == MessageStatus.PENDING else m.token,
                        updated_at=now)
            ).rowcount
            if not done:
                log.warning("message %s: the claim was lost before its result was recorded", m.id)
                return False
            if status == MessageStatus.PENDING:
                conn.execute(update(r).where(r.c.message_id == m.id).values(error=error[:500], updated_at=now))
                return True
            conn.execute(
                update(r)
                .where(r.c.message_id == m.id)
                .values(status=SEND_STATUS_OF[status], channel=self.channel.name if chat_id else "",
                        channel_message_id=str(message_id or ""), error=error[:500], attempts=r.c.attempts + 1,
                        updated_at=now)
            )
            self._outcome_records(conn, m, status, chat_id, now)
        return True

    def _outcome_records(self, conn: Connection, m: Claimed, status: MessageStatus, chat_id: int | None,
                         now: datetime) -> None:
        """The timeline and staff side of a result, in the result's own transaction."""
        reminder = m.kind == "reminder"
        if status == MessageStatus.SENT:
            if reminder:
                events.record(conn, at=now, kind="reminder_sent", actor="system", customer_id=m.customer_id,
                              doc_refs=m.doc_refs, text=f"{m.step} reminder sent")
            else:
                events.record(conn, at=now, kind="message_out", actor="system", customer_id=m.customer_id,
                              doc_refs=m.doc_refs, text=f"{m.kind} to chat {chat_id}")
        elif status == MessageStatus.UNKNOWN:
            unknown_records(conn, m.id, m.customer_id, m.customer_ref, m.customer_name, m.kind, m.step, m.doc_refs,
                            now, why="the answer never came")
        elif status == MessageStatus.NO_CHANNEL:
            if reminder:
                events.record(conn, at=now, kind="reminder_sent", actor="system", customer_id=m.customer_id,
                              doc_refs=m.doc_refs,
                              text=f"{m.step}: every linked chat blocked the bot; sales rep asked to chase by phone")
                text = self._chase_text(conn, m, now)
                if add_alert(conn, key=f"chase:message:{m.id}", customer_id=m.customer_id, kind="chase_by_phone",
                             text=text, at=now, doc_refs=m.doc_refs):
                    events.record(conn, at=now, kind="chase_by_phone", actor="system", customer_id=m.customer_id,
                                  doc_refs=m.doc_refs, text=f"sales rep asked to chase the {m.step} reminder by phone "
                                                              "(every linked chat blocked the bot)")
            else:
                events.record(conn, at=now, kind="message_out", actor="system", customer_id=m.customer_id,
                              doc_refs=m.doc_refs, text=f"{m.kind}: every linked chat blocked the bot; not delivered")
                add_alert(conn, key=f"undelivered:{m.id}", customer_id=m.customer_id, kind="contact_unreachable",
                          text=f"{_who(m.customer_name, m.customer_ref)}: a {m.kind} could not reach the debtor: "
                               "every linked Telegram chat blocked the bot.", at=now, doc_refs=m.doc_refs)
        elif status == MessageStatus.FAILED:
            events.record(conn, at=now, kind="send_failed", actor="system", customer_id=m.customer_id,
                          doc_refs=m.doc_refs, text=f"{m.step or m.kind}: Telegram refused the message")
            add_alert(conn, key=f"failed:{m.id}", customer_id=m.customer_id, kind="send_failed",
                      text=f"{_who(m.customer_name, m.customer_ref)}: Telegram refused {_what(m.kind, m.step)}"
                           f"{_naming(m.doc_refs)}; it was not delivered. Please contact the debtor another way.",
                      at=now, doc_refs=m.doc_refs)

    def _chase_text(self, conn: Connection, m: Claimed, now: datetime) -> str:
        """The chase-by-phone alert, with each invoice's open amount as the ledger has it now."""
        from bot.domain.balances import compute_balance
        from bot.scheduler.sweep import zone
        from bot.services.customers import customers_by_id
        from storage.ledger_reads import ledgers

        c = customers_by_id(conn, [m.customer_id])[m.customer_id]
        docs, pays = ledgers(conn, [m.customer_id])[m.customer_id]
        today = now.astimezone(zone(c.timezone)).date()
        wanted = set(m.doc_refs)
        items = [i for i in compute_balance(docs, pays, today, customer_currency=c.currency).open_items
                 if i.ref in wanted]
        why = "Every linked Telegram chat blocked the bot."
        return compose.staff_text(self.renderer, "chase_by_phone", c, items, m.step or m.kind, None, why)

    def _unreachable(self, m: Claimed, contact_id: int, chat_id: int, why: str) -> None:
        """A chat answered 403: the contact is never tried again; timeline and staff are told once."""
        k = Contact.__table__
        now = self.clock()
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(k).where(k.c.id == contact_id, k.c.reachable.is_(True)).values(reachable=False)
            ).rowcount
            if not changed:
                return
            events.record(conn, at=now, kind="contact_unreachable", actor="system", customer_id=m.customer_id,
                          text=f"chat {chat_id} {why}")
            add_alert(conn, key=f"unreachable:{contact_id}", customer_id=m.customer_id, kind="contact_unreachable",
                      text=f"{_who(m.customer_name, m.customer_ref)}: a linked Telegram chat {why}; "
                           "it will not be tried again.", at=now)

    # -- the send itself -----------------------------------------------------------------------

    async def _deliver_one(self, mid: int, token: str, sem: asyncio.Semaphore, failures: list[DBAPIError]) -> str:
        """Claim, send (each candidate in turn), record: the claim and the send hold one of this
        process's CLAIMED_AHEAD places, so no more than that are ever `sending` at once (the
        rate limiter lets MAX_IN_FLIGHT of them have their request out); the result is recorded
        after the place is given back. A database error is added to `failures` (see `deliver`)."""
        async with sem:
            if failures:  # the database failed meanwhile: claim nothing more
                return MessageStatus.PENDING
            try:
                m = await run_db(self._claim, mid, token)
                if m is None:
                    return await run_db(self._status, mid)
            except DBAPIError as exc:  # nothing was sent; a reservation made all the same dies with this process
                failures.append(exc)
                return MessageStatus.PENDING
            status, result = await self._attempt(m, failures)
        try:
            await self._record(m, status, result)
        except DBAPIError as exc:  # still failing after the retries: the claim dies with this process
            failures.append(exc)
            log.warning("message %s: its result (%s) could not be recorded: %s", m.id, status.value,
                        failure_reason(exc))
        return status

    async def _record(self, m: Claimed, status: MessageStatus, result: dict) -> None:
        """`_finish`, retried with backoff while the database fails (a cut session, SQLite locked past
        its busy timeout): the send is done, and a result left unrecorded would keep the message
        `sending` under this live process's claim, unseen, for as long as it runs."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(DBAPIError),
            stop=stop_after_attempt(self.retries + 2),
            wait=wait_exponential(multiplier=self.backoff, max=BACKOFF_MAX),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await run_db(self._finish, m, status, **result)

    async def _attempt(self, m: Claimed, failures: list[DBAPIError]) -> tuple[MessageStatus, dict]:
        """Try the candidates in order; (final status, what `_finish` records with it)."""
        for cand in m.candidates:
            outgoing = Outgoing(m.customer_ref, cand["chat_id"], cand["text"], cand.get("buttons"))
            try:
                message_id = await self._send(outgoing, m)
            except Exception as exc:  # noqa: BLE001 - each kind of failure is recorded
                kind = classify(exc)
                error = self._describe(exc)
                if kind == UNREACHABLE:
                    try:
                        await run_db(self._unreachable, m, cand["contact_id"], cand["chat_id"], _why_unreachable(exc))
                    except DBAPIError as db_exc:  # not recorded: the chat is tried (and refuses) again next time
                        failures.append(db_exc)
                        return MessageStatus.PENDING, {"error": error}
                    continue
                if kind == NOT_LEFT:
                    if isinstance(exc.__cause__, DBAPIError):  # the database failed: claim nothing more
                        failures.append(exc.__cause__)
                    log.warning("message %s not sent (%s); it stays pending for the next delivery", m.id, error)
                    return MessageStatus.PENDING, {"error": error}
                if kind == LATER:
                    wait = retry_after_seconds(exc)  # type: ignore[arg-type]
                    return MessageStatus.PENDING, {"error": error, "not_before": wall_now() + timedelta(seconds=wait)}
                if kind == REFUSED:
                    log.error("message %s refused by Telegram: %s", m.id, error)
                    return MessageStatus.FAILED, {"chat_id": cand["chat_id"], "error": error}
                log.warning("message %s: the result of the send is unknown (%s); it will not be resent", m.id, error)
                return MessageStatus.UNKNOWN, {"chat_id": cand["chat_id"], "error": error}
            return MessageStatus.SENT, {"chat_id": cand["chat_id"], "message_id": message_id}
        return MessageStatus.NO_CHANNEL, {"error": "no reachable linked chat"}

    def _describe(self, exc: BaseException) -> str:
        return _describe(exc, getattr(self.channel, "redact", lambda s: s))

    async def _send(self, outgoing: Outgoing, m: Claimed) -> int | None:
        """One send, retried with exponential backoff while it failed before the request left. The
        message becomes `sending` just before the request leaves (after the wait for the rate
        budget): a database failure until then leaves it `pending` for a later pass."""

        async def leaving() -> None:
            try:
                await run_db(self._leaving, m)
            except DBAPIError as exc:
                raise NotLeft(f"the database failed before the message left ({failure_reason(exc)})") from exc

        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda exc: classify(exc) == NOT_LEFT),
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=self.backoff, max=BACKOFF_MAX),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                result = await self.channel.send(outgoing, leaving)
                return _as_int(result)
        raise AssertionError("unreachable")  # pragma: no cover


def _as_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _describe(exc: BaseException, redact: Callable[[str], str] = lambda s: s) -> str:
    """An error in one line, without the bot token (python-telegram-bot may name it)."""
    return redact(f"{type(exc).__name__}: {exc}".replace("\n", " "))


def _why_unreachable(exc: BaseException) -> str:
    text = str(exc).lower()
    if "deactivated" in text:
        return "belongs to a deactivated account"
    if "initiate" in text:
        return "never started the bot"
    if "not found" in text:
        return "does not exist"
    return "blocked the bot"


def _who(name: str, ref: str) -> str:
    return f"*{compose.slack_escape(name)}* (`{compose.slack_escape(ref)}`)"


def _what(kind: str, step: str) -> str:
    return f"the *{compose.slack_escape(step)}* reminder" if kind == "reminder" else f"a {kind}"


def _naming(doc_refs: Sequence[str]) -> str:
    return f" about {', '.join(f'`{compose.slack_escape(r)}`' for r in doc_refs)}" if doc_refs else ""


def unknown_records(conn: Connection, mid: int, customer_id: int, ref: str, name: str, kind: str, step: str,
                    doc_refs: Sequence[str], now: datetime, *, why: str) -> None:
    """A message that may or may not have arrived: its timeline event and ONE staff alert naming its invoices."""
    events.record(conn, at=now, kind="send_unknown", actor="system", customer_id=customer_id, doc_refs=doc_refs,
                  text=f"{step or kind}: {why}; not resent")
    add_alert(
        conn, key=f"unknown_message:{mid}", customer_id=customer_id, kind="send_unknown",
        text=f"{_who(name, ref)}: {_what(kind, step)}{_naming(doc_refs)} may or may not have reached the debtor "
             f"({why}); it will not be resent.",
        at=now, doc_refs=doc_refs,
    )


# -- claims whose holder died --------------------------------------------------------------------


def recover_dead_claims(engine: Engine, now: datetime) -> int:
    """Rows left in flight by a dead process or database session (bot.scheduler.claims.dead_holders).

    - a message `sending` (intent recorded, result lost) becomes `unknown`: never resent, its
      reminder_send rows `unknown`, a `send_unknown` event and ONE staff alert naming its invoices;
    - a message still `pending` but reserved by a dead holder is freed for any deliverer;
    - a staff alert `posting` becomes `unknown` (it may have been posted: never posted twice);
    - reminder_send rows `sending` without a message (databases from before the debtor outbox)
      become `unknown`, one alert per message they made up.
    Returns how many debtor messages became unknown. One transaction, no network.
    """
    t, r, a, c = OutboundMessage.__table__, ReminderSend.__table__, StaffAlert.__table__, Customer.__table__
    count = 0
    with engine.begin() as conn:
        rows = conn.execute(
            select(t.c.id, t.c.customer_id, t.c.kind, t.c.step, t.c.doc_refs, t.c.claimed_by, t.c.status,
                   c.c.ref, c.c.name)
            .join(c, c.c.id == t.c.customer_id)
            .where(or_(t.c.status == MessageStatus.SENDING,
                       (t.c.status == MessageStatus.PENDING) & (t.c.claimed_by != "")))
        ).all()
        legacy = conn.execute(
            select(r.c.id, r.c.customer_id, r.c.step, r.c.message_key, r.c.claimed_by, r.c.document_id,
                   c.c.ref, c.c.name)
            .join(c, c.c.id == r.c.customer_id)
            .where(r.c.status == SendStatus.SENDING, r.c.message_id.is_(None))
        ).all()
        posting = conn.execute(select(a.c.id, a.c.claimed_by).where(a.c.status == AlertStatus.POSTING)).all()
        dead = dead_holders(conn, {x.claimed_by for x in (*rows, *legacy, *posting)})
        for x in rows:
            if x.claimed_by not in dead:
                continue
            if x.status == MessageStatus.PENDING:
                conn.execute(update(t).where(t.c.id == x.id, t.c.claimed_by == x.claimed_by).values(claimed_by=""))
                continue
            changed = conn.execute(
                update(t).where(t.c.id == x.id, t.c.status == MessageStatus.SENDING, t.c.claimed_by == x.claimed_by)
                .values(status=MessageStatus.UNKNOWN, error="the sender stopped before recording the result",
                        updated_at=now)
            ).rowcount
            if not changed:
                continue
            conn.execute(update(r).where(r.c.message_id == x.id).values(status=SendStatus.UNKNOWN, updated_at=now))
            unknown_records(conn, x.id, x.customer_id, x.ref, x.name, x.kind, x.step, x.doc_refs or (), now,
                            why="the sender stopped before recording the result")
            count += 1
        groups: dict[tuple[int, str], list] = {}
        for x in legacy:
            if x.claimed_by in dead:
                groups.setdefault((x.customer_id, x.message_key or str(x.id)), []).append(x)
        from storage.tables import Document

        d = Document.__table__
        for (_cid, _key), group in groups.items():
            ids = [x.id for x in group]
            conn.execute(update(r).where(r.c.id.in_(ids), r.c.status == SendStatus.SENDING)
                         .values(status=SendStatus.UNKNOWN, updated_at=now))
            doc_ids = [x.document_id for x in group if x.document_id is not None]
            refs = list(conn.execute(select(d.c.ref).where(d.c.id.in_(doc_ids)).order_by(d.c.ref)).scalars())
            x = group[0]
            events.record(conn, at=now, kind="send_unknown", actor="system", customer_id=x.customer_id,
                          doc_refs=refs, text=f"{x.step}: the sender stopped before recording the result; not resent")
            add_alert(conn, key=f"unknown:{x.id}", customer_id=x.customer_id, kind="send_unknown",
                      text=f"{_who(x.name, x.ref)}: {_what('reminder', x.step)}{_naming(refs)} may or may not have "
                           "reached the debtor; it will not be resent.", at=now, doc_refs=refs)
            count += 1
        for x in posting:
            if x.claimed_by in dead:
                conn.execute(update(a).where(a.c.id == x.id, a.c.status == AlertStatus.POSTING).values(
                    status=AlertStatus.UNKNOWN, error="the poster stopped before recording the result"))
                log.warning("staff alert %s may or may not have been posted (its poster died); not posted again", x.id)
    return count


# -- staff alerts ----------------------------------------------------------------------------


@dataclass
class AlertPoster:
    """Posts pending staff alerts through `channel`, one at a time and oldest first, after their commit."""

    engine: Engine
    channel: AlertChannel
    clock: Callable[[], datetime]
    posted: int = 0

    async def post_pending(self) -> int:
        """Post every alert that is due; returns how many were posted by this call."""
        token = await run_db(lambda: claim_holder(self.engine).token)
        ids = await run_db(self._due_ids, token)
        done = 0
        for aid in ids:
            alert = await run_db(self._claim, aid, token)
            if alert is None:
                continue
            try:
                receipt = await self.channel.post(alert)
            except NotPosted as exc:
                wait = exc.retry_after if exc.retry_after is not None else NOT_POSTED_WAIT
                log.warning("staff alert %s not posted (%s); trying again in %.0f s", aid, exc, wait)
                await run_db(self._finish, aid, token, AlertStatus.PENDING, error=str(exc),
                             not_before=wall_now() + timedelta(seconds=wait))
                continue
            except Exception as exc:  # noqa: BLE001 - it may have been posted: never twice
                log.exception("staff alert %s: the post's result is unknown; it will not be posted again", aid)
                await run_db(self._finish, aid, token, AlertStatus.UNKNOWN, error=_describe(exc))
                continue
            await run_db(self._finish, aid, token, AlertStatus.POSTED, channel=receipt.channel, ts=receipt.ts)
            done += 1
        self.posted += done
        return done

    def _due_ids(self, token: str) -> list[int]:
        a = StaffAlert.__table__
        with reading(self.engine) as conn:
            return list(conn.execute(
                select(a.c.id).where(
                    a.c.status == AlertStatus.PENDING,
                    a.c.claimed_by.in_(["", token]),
                    or_(a.c.not_before.is_(None), a.c.not_before <= wall_now()),
                ).order_by(a.c.id)
            ).scalars())

    def _claim(self, aid: int, token: str) -> StaffPost | None:
        a, c = StaffAlert.__table__, Customer.__table__
        with self.engine.begin() as conn:
            row = conn.execute(
                update(a)
                .where(a.c.id == aid, a.c.status == AlertStatus.PENDING, a.c.claimed_by.in_(["", token]))
                .values(status=AlertStatus.POSTING, claimed_by=token, attempts=a.c.attempts + 1)
                .returning(a.c.id, a.c.kind, a.c.text, a.c.customer_id, a.c.doc_refs, a.c.payload)
            ).first()
            if row is None:
                return None
            ref = name = None
            if row.customer_id is not None:
                ref, name = conn.execute(select(c.c.ref, c.c.name).where(c.c.id == row.customer_id)).one()
        return StaffPost(alert_id=row.id, kind=row.kind, text=row.text, customer_id=row.customer_id,
                         customer_ref=ref, customer_name=name, doc_refs=tuple(row.doc_refs or ()),
                         payload=dict(row.payload or {}))

    def _finish(self, aid: int, token: str, status: AlertStatus, *, error: str = "", channel: str = "",
                ts: str = "", not_before: datetime | None = None) -> None:
        a = StaffAlert.__table__
        values: dict[str, object] = {"status": status, "error": error[:500], "not_before": not_before}
        if status == AlertStatus.POSTED:
            values.update(posted_at=self.clock(), slack_channel=channel[:32], slack_ts=ts[:32])
        if status == AlertStatus.PENDING:
            values["claimed_by"] = ""
        with self.engine.begin() as conn:
            conn.execute(update(a).where(a.c.id == aid, a.c.status == AlertStatus.POSTING, a.c.claimed_by == token)
                         .values(**values))


# -- running coroutines from synchronous code ---------------------------------------------------


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion from synchronous code (the CLI, tests, the demo).

    On a thread that already runs an event loop (an async test calling the synchronous sweep),
    the coroutine runs on a fresh loop in a helper thread instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="collectbot-sync")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


@dataclass
class Outflow:
    """Everything waiting to go out, delivered in passes: `collectbot run`'s delivery job and kicks.

    One pass at a time: dead claims recovered, pending debtor messages delivered (when Telegram is
    on), pending staff alerts posted. `kick()` asks for a pass soon (e.g. after a Slack decision
    recorded a notice) without waiting for it.
    """

    engine: Engine
    debtor: DebtorChannel | None
    staff: AlertChannel
    renderer: Any
    clock: Callable[[], datetime]
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: set = field(default_factory=set)
    _waiting: int = 0  # kicked passes not yet started

    async def flush(self) -> dict[int, str]:
        """One pass: dead claims made unknown, pending debtor messages delivered, pending alerts posted;
        message id -> status of what was delivered."""
        async with self._lock:
            recovered = await run_db(recover_dead_claims, self.engine, self.clock())
            if recovered:
                log.warning("%d message(s) left in flight by a stopped process are now unknown", recovered)
            results: dict[int, str] = {}
            if self.debtor is not None:
                results = await Delivery(self.engine, self.debtor, self.renderer, self.clock).deliver()
            await AlertPoster(self.engine, self.staff, self.clock).post_pending()
            return results

    async def _kicked(self) -> dict[int, str]:
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        self._lock.release()  # flush takes it again at once (nothing else runs in between on this loop)
        try:
            return await self.flush()
        except DBAPIError as exc:  # nobody awaits a kick: one line, and the next pass tries again
            log.warning("a delivery pass stopped: the database failed (%s)", failure_reason(exc))
            return {}

    async def sweep(self, sweeper, now: datetime):  # noqa: ANN001, ANN201
        """A whole sweep (record, deliver, post) as one pass: never beside another pass of this process."""
        async with self._lock:
            return await sweeper.run(now)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait (up to `timeout` seconds) for the pass in progress, so that nothing is cut mid-send."""
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout)
        except TimeoutError:
            log.warning("a delivery pass was still running after %.0f s; stopping anyway", timeout)
            return
        self._lock.release()

    def kick(self) -> None:
        """Start a pass soon on the running loop, without waiting for it (a notice just recorded).
        Kicks while a pass is already waiting for its turn are one: that pass starts after them and
        sees what they recorded."""
        if self._waiting:
            return
        task = asyncio.get_running_loop().create_task(self._kicked())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
