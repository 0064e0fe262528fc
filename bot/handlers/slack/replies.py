"""Replies in a customer's case thread: `>>` relays to the debtor's Telegram chat, anything else is a note.

DESIGN "Chat behaviour" / issue 13 §6-7: a staff reply starting with `>>` goes to the debtor
(credit staff or the customer's own sales rep; the text as typed, escaped for Telegram,
recorded in the debtor outbox as kind `relay` with a `message_out` event); other replies are
internal notes (`note_added`, actor `slack:<user id>`). A reply that mentions the bot is a
question, answered by the mention listener, not a note.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.handlers.slack.context import SlackServices
from bot.handlers.slack.text import escape, to_plain
from bot.scheduler.dbpool import run_db
from bot.services import relay, slack_cases
from bot.services.customers import CustomerRow

log = logging.getLogger("collectbot.slack")
ACCEPTED_SUBTYPES = (None, "thread_broadcast", "file_share")
REFUSED_RELAY = "Only credit staff or the customer's sales rep can write to the debtor. Nothing was sent."
EMPTY_RELAY = "Write the message to the debtor after `>>`. Nothing was sent."
MAX_RELAY = 3500  # characters: a Telegram message holds 4,096 with the words around it


def register(bolt: AsyncApp, services: SlackServices) -> None:
    """The thread-reply listener; it matches only replies in a case thread of COLLECTBOT_SLACK_CHANNEL."""

    async def in_case_thread(event: dict) -> bool:
        thread = event.get("thread_ts")
        return (
            bool(services.channel)
            and event.get("channel") == services.channel
            and bool(thread)
            and thread != event.get("ts")
            and event.get("subtype") in ACCEPTED_SUBTYPES
            and not event.get("bot_id")
            and bool(event.get("user"))
        )

    @bolt.event("message", matchers=[in_case_thread])
    async def on_thread_reply(event: dict, context: Any) -> None:  # noqa: ANN401
        bot_user = services.bot_user_id or context.get("bot_user_id") or ""
        if bot_user and f"<@{bot_user}>" in (event.get("text") or ""):
            return  # a question to the bot in the thread: the mention listener answers it
        services.spawn(handle_reply(services, event))


def _customer(services: SlackServices, channel: str, thread_ts: str) -> CustomerRow | None:
    return slack_cases.case_of_thread(services.app.engine, channel, thread_ts)


def _note(services: SlackServices, customer: CustomerRow, text: str, actor: str) -> None:
    slack_cases.note(services.app.engine, customer, text=text, actor=actor, now=services.app.now())


def _relay(services: SlackServices, customer: CustomerRow, text: str, actor: str, key: str) -> int | None:
    return slack_cases.relay_to_debtor(services.app.engine, customer, text=text, key=key, actor=actor,
                                       now=services.app.now())


def _status(services: SlackServices, message_id: int) -> str:
    return slack_cases.message_status(services.app.engine, message_id)


async def handle_reply(services: SlackServices, event: dict) -> str:
    """One reply in a case thread; returns what it became: note | relayed | refused | empty | no_chat | ignored."""
    channel, thread_ts, user = event["channel"], event["thread_ts"], event["user"]
    customer = await run_db(_customer, services, channel, thread_ts)
    if customer is None:
        return "ignored"  # a thread that is not a customer's case
    plain = to_plain(event.get("text") or "")
    actor = f"slack:{user}"
    message = relay.relay_text(plain)
    if message is None:
        if plain.strip():
            await run_db(_note, services, customer, plain.strip(), actor)
        return "note"
    if not (services.is_credit_staff(user) or (customer.sales_rep_slack_id and customer.sales_rep_slack_id == user)):
        await services.ephemeral(channel, user, REFUSED_RELAY, thread_ts=thread_ts)
        return "refused"
    if not message:
        await services.ephemeral(channel, user, EMPTY_RELAY, thread_ts=thread_ts)
        return "empty"
    if len(message) > MAX_RELAY:
        await services.ephemeral(channel, user, f"That is {len(message)} characters; a message to the debtor "
                                                f"holds at most {MAX_RELAY}. Nothing was sent.", thread_ts=thread_ts)
        return "empty"
    mid = await run_db(_relay, services, customer, message, actor, f"relay:{channel}:{event['ts']}")
    who = f"*{escape(customer.name)}*"
    if mid is None:
        await services.ephemeral(channel, user, f"{who} has no linked Telegram chat that can receive it: nothing "
                                                f"was sent. Chase them by phone.", thread_ts=thread_ts)
        return "no_chat"
    await services.after_commit([mid])
    status = await run_db(_status, services, mid)
    said = {"sent": "Sent to", "no_channel": "Not delivered (the chat blocked the bot) to"}.get(status, "Queued for")
    await services.ephemeral(channel, user, f"{said} {who}'s Telegram chat.", thread_ts=thread_ts)
    return "relayed"
