"""The debtor's Telegram bot: python-telegram-bot's Application wired to collectbot's services.

`build_application(app)` returns the Application; `collectbot run` hosts it on its loop with
`initialize()`, `post_init` (`startup`: checks the token with getMe and registers the bot's
commands for the default language and each supported one), `start()` and
`updater.start_polling()`, and stops it in the reverse order (PTB "application_run_tip").
"""

from __future__ import annotations

from telegram import BotCommand, BotCommandScopeAllPrivateChats
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.app import App
from bot.handlers.telegram import flows
from bot.handlers.telegram.botapi import check_bot, telegram_bot
from bot.handlers.telegram.context import ChatServices, CollectContext
from bot.handlers.telegram.errors import on_error
from bot.handlers.telegram.processor import PerChatProcessor
from bot.handlers.telegram.updates import on_update
from bot.services.keyboards import CALLBACK_PREFIX
from messages.chat import label
from messages.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES

PRIVATE = filters.ChatType.PRIVATE
# The bot's command menu, in this order; each has a description in every language (messages chat/commands).
MENU_COMMANDS = ("menu", "statement", "paid", "dispute", "plan", "promise", "person", "language", "cancel")
OTHER_COMMANDS = ("start", "help", "skip")


def build_application(app: App, bot: ExtBot | None = None) -> Application:
    """The Application for `app` (the bot from the SEAM in botapi unless one is given)."""
    application = (
        ApplicationBuilder()
        .bot(bot if bot is not None else telegram_bot(app))
        .context_types(ContextTypes(context=CollectContext))
        .concurrent_updates(PerChatProcessor())
        .post_init(startup)
        .build()
    )
    application.bot_data["services"] = ChatServices(app)
    register(application)
    return application


def register(application: Application) -> None:
    """Every handler: each flow's command and reminder button, then the shared ones, then the error handler."""
    for flow in flows.ALL:
        application.add_handler(CommandHandler(flow.command, on_update, filters=PRIVATE))
        application.add_handler(CallbackQueryHandler(on_update, pattern=f"^{CALLBACK_PREFIX}{flow.action}$"))
    names = [c for c in (*MENU_COMMANDS, *OTHER_COMMANDS) if c not in {f.command for f in flows.ALL}]
    application.add_handler(CommandHandler(names, on_update, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(on_update))  # flow buttons, languages, stale or forged data
    application.add_handler(
        MessageHandler(PRIVATE & (filters.TEXT | filters.PHOTO | filters.Document.ALL), on_update)
    )
    application.add_error_handler(on_error)


def bot_commands(locale: str) -> list[BotCommand]:
    return [BotCommand(name, label(f"commands.{name}", locale)) for name in MENU_COMMANDS]


async def startup(application: Application) -> None:
    """getMe (a wrong token is one clear TelegramUnavailable), then the command menu per language."""
    services: ChatServices = application.bot_data["services"]
    await check_bot(application.bot, services.app)
    scope = BotCommandScopeAllPrivateChats()
    await application.bot.set_my_commands(bot_commands(DEFAULT_LOCALE), scope=scope)
    for locale in SUPPORTED_LOCALES:
        await application.bot.set_my_commands(bot_commands(locale), scope=scope, language_code=locale)


__all__ = ["build_application", "register", "startup"]
