"""What every Slack listener of collectbot shares: the App, the Web API client, the channel, the roles.

Built once by `build_slack_app` and kept on the Bolt app (`services_of(bolt_app)`), so listeners
registered by other modules (bot.handlers.slack.questions) can reach it too.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.scheduler.ratelimit import SharedBudget

log = logging.getLogger("collectbot.slack")

# What a listener calls after its decision committed: deliver these debtor outbox ids now and post
# the staff alerts the decision raised. `collectbot run` may pass its delivery path's kick.
Deliver = Callable[[Sequence[int]], Awaitable[None] | None]


async def deliver_to_debtors(app: App, message_ids: Sequence[int]) -> None:
    """Send these debtor outbox messages (decision notices, relayed replies) now, through Telegram.

    Without Telegram, or when it is out of reach, they stay `pending` in the outbox for the
    delivery path (`collectbot run` / the next sweep): nothing is lost, nothing sent twice (each
    row is claimed pending -> sending before its send).
    """
    ids = [i for i in message_ids if i is not None]
    if not ids or app.settings.telegram_bot_token is None:
        return
    from bot.handlers.telegram.botapi import TelegramUnavailable
    from bot.handlers.telegram.delivery import _deliver

    try:
        await _deliver(app, ids)
    except TelegramUnavailable as exc:
        log.warning("debtor messages %s stay in the outbox: %s", ids, exc)


@dataclass
class SlackServices:
    app: App
    client: AsyncWebClient
    channel: str | None  # COLLECTBOT_SLACK_CHANNEL: the case threads (None: no case channel)
    credit_staff: frozenset[str]
    budget: SharedBudget
    deliver: Deliver
    bot_user_id: str = ""  # from auth.test at start-up (or Bolt's context)
    tasks: set[asyncio.Task] = field(default_factory=set)

    async def after_commit(self, message_ids: Sequence[int]) -> None:
        """Hand what a decision recorded to the delivery path (`deliver`), now that it is committed."""
        result = self.deliver(list(message_ids))
        if inspect.isawaitable(result):
            await result

    def is_credit_staff(self, user_id: str) -> bool:
        return bool(user_id) and user_id in self.credit_staff

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """Long work after the ack, kept so `stop_slack` can wait for it."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def ephemeral(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> None:
        """A line only `user` sees (refusals, confirmations); logged, not raised, when Slack refuses it."""
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("ephemeral message to %s not shown: %s", user, exc.response.get("error"))


def services_of(bolt_app: AsyncApp) -> SlackServices:
    """The SlackServices `build_slack_app` attached to this Bolt app."""
    return bolt_app.collectbot  # type: ignore[attr-defined]
