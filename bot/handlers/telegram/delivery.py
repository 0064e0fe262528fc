"""Telegram as a DebtorChannel, and sending a CLI decision's notices from that same process.

`TelegramDebtorChannel` sends one rendered outbox message (HTML, inline buttons) through a
python-telegram-bot Bot; the rules of what an error means and what is recorded are the one
delivery path's (bot.scheduler.delivery). The Bot carries the rate limiter every process on the
database shares (bot.handlers.telegram.botapi.telegram_bot).

DESIGN "Chat behaviour": a decision taken on the CLI (`plan approve`, `payment confirm`,
`dispute resolve`) reaches the debtor from that same CLI process: its transaction records the
notice in the debtor outbox (bot.services.notices); after it commits, `deliver_now` sends it
through the same delivery path as the sweep's reminders.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.app import App
from bot.handlers.telegram.botapi import TelegramUnavailable, check_bot, redact, telegram_bot
from bot.scheduler.channels import Leaving, Outgoing
from bot.scheduler.delivery import Delivery, run_sync
from bot.scheduler.ratelimit import BeforeSend

log = logging.getLogger("collectbot.delivery")


def markup(buttons: list[list[dict]] | None) -> InlineKeyboardMarkup | None:
    """`[[{"text", "callback_data"}]]` (the outbox's form) as an inline keyboard."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row] for row in buttons]
    )


@dataclass
class TelegramDebtorChannel:
    """Sends outbox messages through `bot` (python-telegram-bot); errors reach the delivery path as they come.

    Built by `for_app`, it owns its Bot: `open()` checks the token (getMe; TelegramUnavailable in
    one line, without the token) and `close()` shuts the Bot down. Given a running Application's
    bot, it owns nothing.
    """

    bot: Bot
    app: App | None = None
    name: str = "telegram"
    owned: bool = False
    username: str = field(default="", init=False)

    @classmethod
    def for_app(cls, app: App) -> TelegramDebtorChannel:
        """A channel with its own Bot for TELEGRAM_BOT_TOKEN (TelegramUnavailable when it is not set)."""
        return cls(telegram_bot(app), app=app, owned=True)

    async def open(self) -> str:
        """getMe: the bot's username; TelegramUnavailable (one line, no token) when refused or unreachable."""
        self.username = await check_bot(self.bot, self.app) if self.app is not None else ""
        return self.username

    async def close(self) -> None:
        """Shut down the Bot this channel owns (nothing for a running Application's bot)."""
        if self.owned:
            try:
                await self.bot.shutdown()
            except TelegramError:
                pass

    def redact(self, text: str) -> str:
        """`text` without the bot token (for errors recorded in the outbox and the log)."""
        return redact(text, self.app) if self.app is not None else text.replace(self.bot.token, "<token>")

    async def send(self, message: Outgoing, leaving: Leaving | None = None) -> int:
        """sendMessage in HTML with the message's inline buttons; Telegram's message id. Errors as PTB raises them.

        `leaving` runs once the rate budget lets the request go (bot.scheduler.ratelimit.BeforeSend),
        or first when the bot has no rate limiter."""
        limited = isinstance(self.bot, ExtBot) and self.bot.rate_limiter is not None
        if leaving is not None and not limited:
            await leaving()
        sent = await self.bot.send_message(
            message.chat_id, message.text, parse_mode=ParseMode.HTML, reply_markup=markup(message.buttons),
            **({"rate_limit_args": BeforeSend(leaving)} if leaving is not None and limited else {}),
        )
        return sent.message_id


def deliver_now(app: App, message_ids: Sequence[int | None]) -> dict[int, str]:
    """Send these outbox messages now (blocking); id -> status (sent, no_channel, unknown, failed, pending).

    Without Telegram (no token, refused, out of reach) every message stays `pending` and the
    reason is logged: `collectbot run` or the next sweep delivers it. Staff alerts the delivery
    raises (an unreachable chat, an unknown send) are recorded and posted by the next sweep or `run`.
    """
    ids = [i for i in message_ids if i is not None]
    if not ids:
        return {}
    try:
        return run_sync(_deliver(app, ids))
    except TelegramUnavailable as exc:
        log.warning("debtor notices not sent now (%s); they stay in the outbox", exc)
        return dict.fromkeys(ids, "pending")


async def _deliver(app: App, ids: list[int]) -> dict[int, str]:
    channel = TelegramDebtorChannel.for_app(app)
    try:
        await channel.open()
        return await Delivery(app.engine, channel, app.renderer, app.now).deliver(ids)
    finally:
        await channel.close()
