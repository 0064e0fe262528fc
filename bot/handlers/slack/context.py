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
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.scheduler.ratelimit import SharedBudget

log = logging.getLogger("collectbot.slack")

# What a listener calls after its decision committed: deliver these debtor outbox ids now and post
# the staff alerts the decision raised. `collectbot run` may pass its delivery path's kick.
RATE_LIMIT_RETRIES = 2  # 429s the SDK waits out (Retry-After) before the error reaches the caller


def _secret(value: Any) -> str:  # noqa: ANN401
    return value.get_secret_value().strip() if value is not None else ""


def web_client(app: App) -> AsyncWebClient:
    """The Web API client: SLACK_BOT_TOKEN on COLLECTBOT_SLACK_API_URL, 429s waited out by the SDK."""
    base = app.settings.slack_api_url
    return AsyncWebClient(
        token=_secret(app.settings.slack_bot_token),
        base_url=base if base.endswith("/") else base + "/",
        timeout=30,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )


Deliver = Callable[[Sequence[int]], Awaitable[None] | None]


async def leave_to_the_delivery_path(message_ids: Sequence[int]) -> None:
    """The default `deliver`: nothing now. What a decision recorded stays `pending` in the outbox
    for the delivery path (`collectbot run` passes its kick, which delivers at once)."""
    if message_ids:
        log.info("debtor messages %s wait in the outbox for the delivery path", list(message_ids))


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
