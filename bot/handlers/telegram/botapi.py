"""The Bot API client and what the command line needs of it: a configured ExtBot, the bot's username.

SEAM: `telegram_bot(app)` builds the ExtBot here until the delivery work lands on main with
`App.telegram_bot()` (which adds the shared, database-backed rate limiter); at that merge this
function becomes `return app.telegram_bot()`. Nothing else in collectbot builds a Bot.

Secrets: PTB puts the token in some error messages ("The token `...` was rejected"), so no
exception text from here reaches a user or a log without `redact`.
"""

from __future__ import annotations

import asyncio
import logging

from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.app import App
from bot.scheduler.ratelimit import SharedBudget, TelegramRateLimiter


class TelegramUnavailable(Exception):
    """Telegram cannot be used: no token, a refused token, or the Bot API out of reach (one line, no secret)."""


def telegram_bot(app: App, *, rate_limited: bool = True) -> ExtBot:
    """SEAM (see the module): the ExtBot for TELEGRAM_BOT_TOKEN, COLLECTBOT_TELEGRAM_API_URL and _FILE_URL,
    with the rate budget every process on the database shares (bot.scheduler.ratelimit; tests of
    the conversation alone may leave it out). Raises TelegramUnavailable when no token is configured.
    """
    secret = app.settings.telegram_bot_token
    if secret is None or not secret.get_secret_value().strip():
        raise TelegramUnavailable("TELEGRAM_BOT_TOKEN is not set: Telegram is off")
    token = secret.get_secret_value().strip()
    # Every Bot API URL holds the token (/bot<token>/method) and httpx logs each request's URL at
    # INFO: keep httpx to warnings so that `collectbot run`'s INFO log never shows the token.
    logging.getLogger("httpx").setLevel(max(logging.getLogger("httpx").level, logging.WARNING))
    return ExtBot(
        token,
        base_url=app.settings.telegram_api_url,
        base_file_url=app.settings.resolved_telegram_file_url,
        request=HTTPXRequest(connection_pool_size=8, connect_timeout=10, read_timeout=15),
        get_updates_request=HTTPXRequest(connection_pool_size=1, connect_timeout=10, read_timeout=40),
        rate_limiter=TelegramRateLimiter(SharedBudget(app.engine), token) if rate_limited else None,
    )


def redact(text: str, app: App) -> str:
    """`text` with the bot token cut out."""
    secret = app.settings.telegram_bot_token
    token = secret.get_secret_value().strip() if secret is not None else ""
    return text.replace(token, "<token>") if token else text


async def check_bot(bot: ExtBot, app: App) -> str:
    """getMe: the bot's username; TelegramUnavailable (one line, no token) when refused or unreachable."""
    try:
        await bot.initialize()
        return bot.username
    except InvalidToken as exc:
        raise TelegramUnavailable("Telegram refused TELEGRAM_BOT_TOKEN (getMe: unauthorized)") from exc
    except NetworkError as exc:
        raise TelegramUnavailable(
            f"cannot reach the Telegram Bot API at {app.settings.telegram_api_url}: {redact(str(exc), app)}"
        ) from exc
    except TelegramError as exc:
        raise TelegramUnavailable(f"getMe failed: {redact(str(exc), app)}") from exc


def bot_username(app: App) -> str:
    """The bot's username as getMe reports it (blocking; for the command line)."""

    async def ask() -> str:
        bot = telegram_bot(app)
        try:
            return await check_bot(bot, app)
        finally:
            try:
                await bot.shutdown()
            except TelegramError:
                pass

    return asyncio.run(ask())
