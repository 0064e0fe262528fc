"""PTB's side of every update: read it into plain values, answer a button at once, run one step of the
conversation off the event loop, then send the replies (after the commit)."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import fields, replace

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut

from bot.handlers.telegram.context import CollectContext
from bot.handlers.telegram.conversation import Inbound, Outcome, Reply
from bot.scheduler.dbpool import run_db

log = logging.getLogger("collectbot.telegram")


def inbound_of(update: Update) -> Inbound | None:
    """The update as plain values; None for anything but a private chat's message or button.

    NUL characters are dropped from every text: PostgreSQL cannot store them, and no person means one
    (a message holding one used to fail with the error line)."""
    inbound = _inbound_of(update)
    if inbound is None:
        return None
    texts = {f.name: getattr(inbound, f.name) for f in fields(inbound) if isinstance(getattr(inbound, f.name), str)}
    return replace(inbound, **{k: v.replace("\x00", "") for k, v in texts.items() if "\x00" in v})


def _inbound_of(update: Update) -> Inbound | None:
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        return None
    user = update.effective_user
    common = {
        "update_id": update.update_id,
        "chat_id": chat.id,
        "language_code": (user.language_code or "") if user else "",
        "first_name": (user.first_name or "") if user else "",
    }
    if update.callback_query is not None:
        return Inbound(kind="button", data=update.callback_query.data or "", **common)
    message = update.message
    if message is None:
        return None
    if message.photo:
        return Inbound(kind="photo", file_id=message.photo[-1].file_id, text=message.caption or "", **common)
    if message.document is not None:
        return Inbound(kind="document", file_id=message.document.file_id, text=message.caption or "", **common)
    text = message.text or ""
    if text.startswith("/"):
        head, _, rest = text.partition(" ")
        name = head[1:].split("@", 1)[0].lower()
        return Inbound(kind="command", command=name, text=rest.strip(), **common)
    if text:
        return Inbound(kind="text", text=text, **common)
    return Inbound(kind="other", **common)


async def on_update(update: Update, context: CollectContext) -> None:
    """Every handler of the debtor's bot is this one: the routing is in the conversation (one transaction)."""
    inbound = inbound_of(update)
    query = update.callback_query
    if query is not None:
        await _answer(query)  # at once: the debtor's client shows a spinner until then
    if inbound is None:
        return
    outcome: Outcome = await run_db(context.services.process, inbound)
    outflow = getattr(context.services.app, "outflow", None)  # set by `collectbot run`
    if outflow is not None:
        outflow.kick()  # a dispute, claim or message to a person reaches staff now, not at the next pass
    try:
        await send(context, inbound.chat_id, outcome, query)
    except Forbidden:  # blocked the bot right after writing: reminders stop trying this chat
        await run_db(context.services.mark_unreachable, inbound.chat_id)
    except (TimedOut, NetworkError) as exc:
        if isinstance(exc, BadRequest):
            raise  # a message Telegram refuses is a bug: the error handler reports it
        # The answer is recorded; the reply was lost (or, after a timeout, may have arrived): the
        # debtor's next message gets the current question again, so nothing is sent twice here.
        log.warning("reply to chat %s not delivered: %s", inbound.chat_id, type(exc).__name__)


async def _answer(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except BadRequest as exc:  # too old ("query is too old"): nothing to spin any more
        log.info("callback query not answered: %s", exc.message)


def _markup(buttons: list[list[tuple[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in buttons]
    )


def _not_modified(exc: BadRequest) -> bool:
    return "not modified" in exc.message.lower()


def split_html(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long message at line ends (our templates never open a tag on one line and close it on another)."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single over-long line: cut it (plain text only reaches this)
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


async def send(context: CollectContext, chat_id: int, outcome: Outcome, query: CallbackQuery | None) -> None:
    """Send the replies in order; a reply marked `edit` replaces the pressed message's text and buttons."""
    bot = context.bot
    edited = False
    for reply in outcome.replies:
        if reply.edit and query is not None and query.message is not None:
            edited = True
            try:
                await query.edit_message_text(
                    reply.text, parse_mode=ParseMode.HTML, reply_markup=_markup(reply.buttons)
                )
            except BadRequest as exc:
                if not _not_modified(exc):
                    raise
        else:
            await _send_new(bot, chat_id, reply)
    if outcome.clear_keyboard and not edited and query is not None and query.message is not None:
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as exc:
            if not _not_modified(exc):
                log.info("buttons not removed: %s", exc.message)


RETRIES = 3  # sends that failed before the request left (a 5xx, a refused connection)
BACKOFF = 0.5  # seconds, doubled at each retry


async def _retrying(call: Callable[[], Awaitable[object]]) -> object:
    """DESIGN "Reliability": a 5xx or a connection error is retried with backoff; a timeout is not
    (the message may have arrived), nor is a refusal (BadRequest, Forbidden); 429 is the limiter's."""
    for attempt in range(RETRIES + 1):
        try:
            return await call()
        except (BadRequest, TimedOut):
            raise
        except NetworkError:
            if attempt == RETRIES:
                raise
            await asyncio.sleep(BACKOFF * 2**attempt)
    raise AssertionError("unreachable")


async def _send_new(bot, chat_id: int, reply: Reply) -> None:  # noqa: ANN001
    chunks = split_html(reply.text)
    for i, chunk in enumerate(chunks):
        markup = _markup(reply.buttons) if i == len(chunks) - 1 else None
        await _retrying(lambda chunk=chunk, markup=markup: bot.send_message(
            chat_id, chunk, parse_mode=ParseMode.HTML, reply_markup=markup))
    if reply.document is not None:
        name, content = reply.document
        await _retrying(lambda: bot.send_document(chat_id, InputFile(io.BytesIO(content), filename=name)))


__all__ = ["TelegramError", "inbound_of", "on_update", "send", "split_html"]
