"""Staff alerts into Slack: one thread per customer case in COLLECTBOT_SLACK_CHANNEL, buttons by kind.

`SlackAlertChannel` implements bot.scheduler.channels.AlertChannel for the staff alert outbox's
delivery path: `post(StaffPost)` puts the alert in its customer's thread (opening the thread
the first time: a root message that names the customer, recorded in `slack_thread`, so it is
found again after a restart and by every process), with the alert's buttons
(bot.services.thread_actions.buttons_for). An alert about no one customer goes to the channel
itself. Posts stay within the shared budget (1/s per channel, bot.handlers.slack.posting).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.handlers.slack.posting import context, fallback_text, post_message, sections
from bot.handlers.slack.text import escape
from bot.scheduler.channels import NotPosted, PostReceipt, StaffPost
from bot.scheduler.dbpool import run_db
from bot.scheduler.ratelimit import SharedBudget
from bot.services import slack_cases
from bot.services.thread_actions import buttons_for

log = logging.getLogger("collectbot.slack")

ACTION_PREFIX = "cb:"  # action_id of every alert button: "cb:payment_confirm", ...
ROOT_STALE = timedelta(seconds=60)  # a reservation whose root never came is taken over after this
ROOT_WAIT = 10.0  # seconds to wait for another process posting the same customer's root
RELAY_HINT = "Reply in this thread starting with `>>` to answer them in Telegram; other replies stay internal notes."


def root_text(name: str, ref: str) -> str:
    """The thread root: names the customer (escaped)."""
    return f":file_folder: *{escape(name)}* (`{escape(ref)}`): collections case"


def alert_blocks(alert: StaffPost) -> list[dict]:
    """The alert's text as sections (cut to Block Kit's limits), then its buttons (value: the alert id)."""
    blocks = sections(alert.text)
    buttons = buttons_for(alert.kind, alert.payload or {})
    if buttons:
        elements = []
        for b in buttons:
            el = {"type": "button", "action_id": ACTION_PREFIX + b.action, "value": str(alert.alert_id),
                  "text": {"type": "plain_text", "text": b.label}}
            if b.style:
                el["style"] = b.style
            elements.append(el)
        blocks.append({"type": "actions", "block_id": f"alert-{alert.alert_id}", "elements": elements})
    if alert.kind == "message_in":
        blocks.append(context(RELAY_HINT))
    return blocks


class SlackAlertChannel:
    """AlertChannel for Slack (bot.scheduler.channels): `await post(alert)` -> PostReceipt(channel, ts).

    Raises NotPosted (try again later; retry_after for a 429) or PostUncertain (a timeout after the
    request left: the alert may be in Slack, so it must not be posted again: not a NotPosted).
    """

    name = "slack"

    def __init__(self, app: App, client: AsyncWebClient, channel: str, *, budget: SharedBudget | None = None,
                 holder: str | None = None) -> None:
        self.app = app
        self.client = client
        self.channel = channel
        self.budget = budget if budget is not None else SharedBudget(app.engine)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    async def post(self, alert: StaffPost) -> PostReceipt:
        """Post `alert` in its customer's thread (or the channel for none); see the class."""
        kwargs = {"channel": self.channel, "text": fallback_text(alert.text), "blocks": alert_blocks(alert),
                  "unfurl_links": False, "unfurl_media": False}
        if alert.customer_id is None:
            answer = await post_message(self.client, self.budget, **kwargs)
            return PostReceipt(answer["channel"], answer["ts"])
        for attempt in range(2):
            root = await self.thread_root(alert)
            try:
                answer = await post_message(self.client, self.budget, thread_ts=root, **kwargs)
            except NotPosted as exc:
                if attempt == 0 and ("thread_not_found" in str(exc) or "message_not_found" in str(exc)):
                    # the root was deleted in Slack: open the case again in a new thread
                    log.warning("the Slack thread of customer %s is gone: opening a new one", alert.customer_id)
                    await run_db(self._forget_root, alert.customer_id, root)
                    continue
                raise
            return PostReceipt(answer["channel"], answer["ts"])
        raise NotPosted("the customer's Slack thread could not be opened")

    async def thread_root(self, alert: StaffPost) -> str:
        """The ts of the customer's thread root, posting it first if the customer has none yet."""
        assert alert.customer_id is not None
        waited = 0.0
        while True:
            row = await run_db(self._thread, alert.customer_id)
            if row is not None and row.root_ts:
                return row.root_ts
            if await run_db(self._reserve, alert.customer_id):
                break
            if waited >= ROOT_WAIT:
                raise NotPosted("another process is opening this customer's Slack thread", retry_after=2.0)
            await asyncio.sleep(0.2)
            waited += 0.2
        name, ref = alert.customer_name, alert.customer_ref
        if not name or not ref:
            name, ref = await run_db(self._names, alert.customer_id)
        try:
            answer = await post_message(self.client, self.budget, channel=self.channel, text=root_text(name, ref),
                                        unfurl_links=False, unfurl_media=False)
        except NotPosted:
            await run_db(self._release, alert.customer_id)
            raise
        await run_db(self._set_root, alert.customer_id, answer["ts"])
        return answer["ts"]

    # -- database work (run_db threads; the service owns each transaction)
    def _thread(self, customer_id: int) -> slack_cases.ThreadRow | None:
        return slack_cases.thread_of(self.app.engine, self.channel, customer_id)

    def _reserve(self, customer_id: int) -> bool:
        return slack_cases.reserve_thread(self.app.engine, self.channel, customer_id, self.holder, self.app.now(),
                                          ROOT_STALE)

    def _release(self, customer_id: int) -> None:
        slack_cases.release_thread(self.app.engine, self.channel, customer_id, self.holder)

    def _set_root(self, customer_id: int, ts: str) -> None:
        slack_cases.set_root(self.app.engine, self.channel, customer_id, ts)

    def _forget_root(self, customer_id: int, ts: str) -> None:
        slack_cases.forget_root(self.app.engine, self.channel, customer_id, ts)

    def _names(self, customer_id: int) -> tuple[str, str]:
        c = slack_cases.customer(self.app.engine, customer_id)
        return c.name, c.ref

def alert_channel_for(app: App) -> SlackAlertChannel | None:
    """The staff alert channel for `app` (for `build_alert_channel`: `run` and the CLI `sweep`), or None
    when SLACK_BOT_TOKEN or COLLECTBOT_SLACK_CHANNEL is not set (alerts then go to the log)."""
    from bot.handlers.slack.context import web_client

    token = app.settings.slack_bot_token
    if token is None or not token.get_secret_value().strip() or not app.settings.slack_channel:
        return None
    return SlackAlertChannel(app, web_client(app), app.settings.slack_channel)
