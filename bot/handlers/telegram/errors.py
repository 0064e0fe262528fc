"""The one error handler (PTB's errorhandlerbot.py): the log gets the traceback, staff an alert, and
the debtor a polite line in their language, never a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.handlers.telegram.context import CollectContext
from bot.scheduler.dbpool import run_db
from messages.chat import say

log = logging.getLogger("collectbot.telegram")


async def on_error(update: object, context: CollectContext) -> None:
    error = context.error
    log.error("a Telegram update failed", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return  # polling and network trouble: PTB retries by itself
    try:
        await run_db(context.services.record_failure, update.update_id, error or Exception("unknown"))
    except Exception:  # noqa: BLE001 - the database may be what failed; the log has it already
        log.warning("the staff alert for a failed update could not be recorded")
    user = update.effective_user
    locale = (user.language_code or "en") if user else "en"
    try:
        await context.bot.send_message(update.effective_chat.id, say("common.sorry", locale), parse_mode=ParseMode.HTML)
    except TelegramError:
        log.warning("could not tell the debtor that their message failed")
