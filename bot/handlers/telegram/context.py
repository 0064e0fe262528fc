"""The typed context every handler receives (PTB's contexttypesbot.py): the services, not globals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from telegram.ext import CallbackContext, ExtBot

from bot.app import App
from bot.domain.policy import Policy
from bot.services.chats import chat_blocked, report_failed_update


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
        """Handle one update (blocking; through run_db): bot.handlers.telegram.dispatch.process."""
        from bot.handlers.telegram.dispatch import process

        return process(self, inbound)

    def mark_unreachable(self, chat_id: int) -> None:
        """The chat answered a reply with 403 (it blocked the bot): its contacts are unreachable (blocking)."""
        chat_blocked(self.engine, chat_id, self.now())

    def record_failure(self, update_id: int, error: BaseException) -> None:
        """A staff alert that a debtor's update failed (blocking); the log has the traceback."""
        report_failed_update(self.engine, update_id=update_id, error_name=type(error).__name__, now=self.now())


class CollectContext(CallbackContext[ExtBot, dict, dict, dict]):
    """CallbackContext with `services`, set once in build_application."""

    @property
    def services(self) -> ChatServices:
        return self.application.bot_data["services"]
