"""SEAM: sending the debtor notices a decision on the command line recorded, from that same process.

DESIGN "Chat behaviour": a decision taken on the CLI (`plan approve`, `payment confirm`,
`dispute resolve`) reaches the debtor from that same CLI process. The decision's transaction
records the notice in the debtor outbox (bot.services.notices); after it commits, `deliver_now`
sends it. This is a small stand-in for the sweep's delivery path (bot.scheduler, issue 12 §1):
when that lands, `deliver_now` becomes a call into it, and the rules below are the same ones:

- the row is claimed (pending -> sending, this process's claim token) in its own short
  transaction, then sent, then its result recorded in another: no network call inside a
  transaction, and a row another process claimed is left alone;
- each candidate chat in order; a 403 (blocked, deactivated, never started) marks that contact
  unreachable and moves on; none left: `no_channel`;
- 429 is waited out by the rate limiter (the shared budget); an error before the request left
  (a connection refused, a 5xx) puts the row back to `pending` for the next delivery; a
  timeout after it left is `unknown`, never sent again, and staff are told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy import select, update
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import Forbidden, NetworkError, TelegramError, TimedOut

from bot.app import App
from bot.handlers.telegram.botapi import TelegramUnavailable, check_bot, redact, telegram_bot
from bot.scheduler.claims import claim_holder
from bot.scheduler.dbpool import run_db
from storage import events
from storage.outbox import add_alert
from storage.tables import Contact, OutboundMessage

log = logging.getLogger("collectbot.delivery")


def deliver_now(app: App, message_ids: Sequence[int | None]) -> dict[int, str]:
    """Send these outbox messages now (blocking); id -> status (sent, no_channel, unknown, pending).

    Without Telegram (no token, refused, out of reach) every message stays `pending` and the
    reason is logged: `collectbot run` or the next sweep delivers it.
    """
    ids = [i for i in message_ids if i is not None]
    if not ids:
        return {}
    try:
        return asyncio.run(_deliver(app, ids))
    except TelegramUnavailable as exc:
        log.warning("debtor notices not sent now (%s); they stay in the outbox", exc)
        return dict.fromkeys(ids, "pending")


async def _deliver(app: App, ids: list[int]) -> dict[int, str]:
    bot = telegram_bot(app)
    try:
        await check_bot(bot, app)
        return {mid: await _deliver_one(app, bot, mid) for mid in ids}
    finally:
        try:
            await bot.shutdown()
        except TelegramError:
            pass


def _claim(app: App, mid: int) -> OutboundMessage | None:
    t = OutboundMessage.__table__
    now = app.now()
    with app.engine.begin() as conn:
        row = conn.execute(
            update(t)
            .where(t.c.id == mid, t.c.status == "pending")
            .values(status="sending", claimed_by=claim_holder(app.engine).token, attempts=t.c.attempts + 1,
                    updated_at=now)
            .returning(t.c.id, t.c.customer_id, t.c.candidates, t.c.doc_refs, t.c.kind)
        ).first()
    return row


def _finish(app: App, row, status: str, *, chat_id: int | None = None, message_id: int | None = None,  # noqa: ANN001
            error: str = "", text: str = "") -> None:
    t = OutboundMessage.__table__
    now = app.now()
    with app.engine.begin() as conn:
        conn.execute(
            update(t)
            .where(t.c.id == row.id, t.c.status == "sending")
            .values(status=status, chat_id=chat_id, telegram_message_id=message_id, error=error[:500],
                    claimed_by="" if status == "pending" else t.c.claimed_by, updated_at=now)
        )
        if status == "sent":
            events.record(conn, at=now, kind="message_out", actor="system", customer_id=row.customer_id,
                          doc_refs=row.doc_refs, text=f"{row.kind} to chat {chat_id}")
        elif status == "unknown":
            events.record(conn, at=now, kind="send_unknown", actor="system", customer_id=row.customer_id,
                          doc_refs=row.doc_refs, text=f"{row.kind}: the answer never came; not resent")
            add_alert(conn, key=f"unknown_message:{row.id}", customer_id=row.customer_id, kind="send_unknown",
                      text=f"A {row.kind} to the debtor may or may not have been delivered; it will not be resent.",
                      at=now, doc_refs=row.doc_refs)


def _unreachable(app: App, row, contact_id: int, chat_id: int) -> None:  # noqa: ANN001
    c = Contact.__table__
    now = app.now()
    with app.engine.begin() as conn:
        conn.execute(update(c).where(c.c.id == contact_id).values(reachable=False))
        events.record(conn, at=now, kind="contact_unreachable", actor="system", customer_id=row.customer_id,
                      text=f"chat {chat_id} blocked the bot")


async def _deliver_one(app: App, bot, mid: int) -> str:  # noqa: ANN001
    row = await run_db(_claim, app, mid)
    if row is None:
        return await run_db(_status, app, mid)
    for candidate in row.candidates:
        buttons = candidate.get("buttons")
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in r] for r in buttons]
        ) if buttons else None
        try:
            sent = await bot.send_message(candidate["chat_id"], candidate["text"], parse_mode=ParseMode.HTML,
                                          reply_markup=markup)
        except Forbidden:
            await run_db(_unreachable, app, row, candidate["contact_id"], candidate["chat_id"])
            continue
        except TimedOut as exc:
            await run_db(_finish, app, row, "unknown", error=redact(str(exc), app))
            return "unknown"
        except (NetworkError, TelegramError) as exc:
            log.warning("notice %s not sent (%s); it stays pending", mid, redact(str(exc), app))
            await run_db(_finish, app, row, "pending", error=redact(str(exc), app))
            return "pending"
        await run_db(_finish, app, row, "sent", chat_id=candidate["chat_id"], message_id=sent.message_id)
        return "sent"
    await run_db(_finish, app, row, "no_channel", error="every linked chat blocked the bot")
    return "no_channel"


def _status(app: App, mid: int) -> str:
    t = OutboundMessage.__table__
    with app.engine.connect() as conn:
        return conn.execute(select(t.c.status).where(t.c.id == mid)).scalar() or "missing"
