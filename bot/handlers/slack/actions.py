"""The buttons on staff alerts in a case thread: ack at once, decide, update the message, tell the debtor.

Issue 13 §5-6: only credit staff decide (others get an ephemeral refusal: ephemeral messages
cannot be updated, so the refusal is a new one, through the click's response_url); the message
is updated (chat.update) to show who decided and when, without its buttons; the decision is in
the timeline (actor `slack:<user id>`) and its notice is sent to the debtor's Telegram chat; a
second click on a decided item changes nothing. The rules are bot.services.thread_actions'.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.handlers.slack.alerts import ACTION_PREFIX
from bot.handlers.slack.context import SlackServices
from bot.handlers.slack.posting import context
from bot.handlers.slack.text import actor_mention, escape, when
from bot.scheduler.dbpool import run_db
from bot.services import slack_cases, thread_actions
from bot.services.thread_actions import ActionResult

log = logging.getLogger("collectbot.slack")
ACTION_PATTERN = re.compile("^" + re.escape(ACTION_PREFIX) + r"[a-z_]+$")


def register(bolt: AsyncApp, services: SlackServices) -> None:
    """The alert buttons' listener (action_id `cb:<action>`)."""

    @bolt.action(ACTION_PATTERN)
    async def on_alert_button(ack: Any, body: dict, action: dict, respond: Any) -> None:  # noqa: ANN401
        await ack()  # within Slack's 3 s; the rest happens after, in a task stop_slack waits for
        services.spawn(handle_click(services, body, action, respond))


def _act(services: SlackServices, *, alert_id: int, action: str, user: str, channel: str,
         thread_ts: str | None) -> ActionResult:
    app = services.app
    return slack_cases.act_in_thread(
        app.engine, alert_id=alert_id, action=action, user_id=user, credit_staff=services.is_credit_staff(user),
        channel=channel, thread_ts=thread_ts, policy=app.policy, now=app.now(), today=app.today(),
    )


async def handle_click(services: SlackServices, body: dict, action: dict, respond: Any) -> ActionResult | None:  # noqa: ANN401
    """One click, after its ack; returns what it did (None for a click that names no alert)."""
    user = (body.get("user") or {}).get("id", "")
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
    try:
        alert_id = int(action.get("value") or "")
    except ValueError:
        await _say(respond, thread_actions.NOT_HERE)
        return None
    name = str(action.get("action_id", "")).removeprefix(ACTION_PREFIX)
    result = await run_db(_act, services, alert_id=alert_id, action=name, user=user, channel=channel,
                          thread_ts=message.get("thread_ts"))
    if result.status in ("refused", "unknown"):
        await _say(respond, result.note)
        return result
    if result.status in ("already", "repeat"):
        await _say(respond, result.note)
    if result.status in ("done", "already") and result.verdict and _has_buttons(message):
        await _show_decision(services, channel, message, result)
    if result.status == "done":
        await services.after_commit(result.notices)
    return result


async def _say(respond: Any, text: str) -> None:  # noqa: ANN401
    """An ephemeral line to the person who clicked (through the click's response_url); `text` is plain
    (it may name a ref or a customer), escaped here for mrkdwn."""
    try:
        await respond(text=escape(text), response_type="ephemeral", replace_original=False)
    except Exception as exc:  # noqa: BLE001  (a refusal that cannot be shown must not break the listener)
        log.warning("could not answer a click: %s", type(exc).__name__)


def _has_buttons(message: dict) -> bool:
    return any(b.get("type") == "actions" for b in message.get("blocks") or [])


def decided_line(result: ActionResult, services: SlackServices) -> str:
    """`:white_check_mark: *Payment confirmed* by <@U…> on 2026-11-30 09:15 UTC`."""
    who = f" by {actor_mention(result.actor)}" if result.actor else ""
    at = when(result.at, services.app.company_tz)
    return f":white_check_mark: *{escape(result.verdict)}*{who}{f' on {at}' if at else ''}"


async def _show_decision(services: SlackServices, channel: str, message: dict, result: ActionResult) -> None:
    """The alert without its buttons, and who decided what and when."""
    line = decided_line(result, services)
    blocks = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
    blocks.append(context(line))
    text = f"{message.get('text') or ''}\n{line}".strip()
    try:
        await services.client.chat_update(channel=channel, ts=message["ts"], text=text[:39_000], blocks=blocks)
    except SlackApiError as exc:
        log.warning("the decided alert %s was not updated: %s", message.get("ts"), exc.response.get("error"))
