"""The typed context every handler receives (PTB's contexttypesbot.py): the services, not globals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from telegram.ext import CallbackContext, ExtBot

from bot.app import App
from bot.domain.policy import Policy


class ChatServices:
    """What the debtor's handlers reach: the app's engine, policy and clock, and one step of a flow."""

    def __init__(self, app: App) -> None:
        self.app = app

    @property
    def engine(self) -> Engine:
        return self.app.engine

    @property
    def policy(self) -> Policy:
        return self.app.policy

    def now(self) -> datetime:
        return self.app.now()

    def process(self, inbound):  # noqa: ANN001, ANN201
        """Handle one update (blocking; through run_db): bot.handlers.telegram.conversation.process."""
        from bot.handlers.telegram.conversation import process

        return process(self, inbound)

    def mark_unreachable(self, chat_id: int) -> None:
        """The chat answered a reply with 403 (it blocked the bot): its contacts are unreachable (blocking)."""
        from bot.services.chats import mark_unreachable

        with self.engine.begin() as conn:
            mark_unreachable(conn, chat_id, self.now())

    def record_failure(self, update_id: int, error: BaseException) -> None:
        """A staff alert that a debtor's update failed (blocking); the log has the traceback."""
        from storage.outbox import add_alert

        with self.engine.begin() as conn:
            add_alert(
                conn,
                key=f"bot_error:{update_id}",
                customer_id=None,
                kind="bot_error",
                text=f"A debtor's Telegram message could not be handled ({type(error).__name__}); "
                "the bot's log has the details.",
                at=self.now(),
            )


class CollectContext(CallbackContext[ExtBot, dict, dict, dict]):
    """CallbackContext with `services`, set once in build_application."""

    @property
    def services(self) -> ChatServices:
        return self.application.bot_data["services"]
