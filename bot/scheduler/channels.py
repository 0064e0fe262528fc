"""Where messages go. Channels are interfaces so the sweep and the delivery path know neither Telegram nor Slack.

A DebtorChannel sends one rendered message to one chat (bot.scheduler.delivery decides which,
and records the outcome); an AlertChannel posts one recorded staff alert. The console channels
write to the log (stderr); the Telegram adapter (bot.handlers.telegram.delivery) and the Slack
adapter implement the same methods.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("collectbot.channels")
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Outgoing:
    """One message to one chat: Telegram HTML (user values escaped) and optional inline buttons
    `[[{"text", "callback_data"}, ...], ...]` (rows)."""

    customer_ref: str
    chat_id: int
    text: str
    buttons: list[list[dict]] | None = None


Leaving = Callable[[], Awaitable[None]]


class DebtorChannel(Protocol):
    name: str

    async def send(self, message: Outgoing, leaving: Leaving | None = None) -> int | str:
        """Deliver; return the channel's message id.

        `leaving` is awaited right before the request leaves (after any wait for the rate budget):
        the delivery path records there that the message may be out. If it raises, nothing is
        sent and the error reaches the caller.
        Raises python-telegram-bot's errors as they come (Forbidden, BadRequest, TimedOut,
        NetworkError, RetryAfter), ContactUnreachable or NotLeft; bot.scheduler.delivery.classify
        says what each one means.
        """


class NotLeft(Exception):
    """Nothing was sent (e.g. the delivery path could not record that the message was leaving): send it later."""


class ContactUnreachable(Exception):
    """The debtor's chat cannot receive messages (Telegram 403: blocked, deactivated, never started)."""


@dataclass
class ConsoleDebtorChannel:
    """Logs each message; the demo's stand-in for Telegram (and the tests' recorder)."""

    name: str = "console"
    sent: list[Outgoing] = field(default_factory=list)

    async def send(self, message: Outgoing, leaving: Leaving | None = None) -> int:
        if leaving is not None:
            await leaving()
        self.sent.append(message)
        log.info(
            "reminder to %s (chat %s): %s",
            message.customer_ref,
            message.chat_id,
            _TAGS.sub("", message.text).replace("\n", " | "),
        )
        return len(self.sent)


# -- the staff alert outbox's posting interface (DESIGN "Reliability": posted after commit) --------


@dataclass(frozen=True)
class StaffPost:
    """One recorded staff alert (a `staff_alert` row) as a channel posts it.

    `text` is Slack mrkdwn with every user value already escaped; `payload` is the plain JSON the
    decision that raised it attached (e.g. {"decision": "plan", "id": 3} for Approve / Reject
    buttons); `customer_ref`/`customer_name` are None for an alert about no one customer.
    """

    alert_id: int
    kind: str
    text: str
    customer_id: int | None = None
    customer_ref: str | None = None
    customer_name: str | None = None
    doc_refs: tuple[str, ...] = ()
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PostReceipt:
    """Where a post landed: the Slack channel id and message ts ("" for the console)."""

    channel: str = ""
    ts: str = ""


class NotPosted(Exception):
    """The post did not happen and may be tried again later (Slack down, 5xx, rate limited).

    `retry_after` (seconds) is how long to wait before the next try, when the API said so.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class AlertChannel(Protocol):
    """Posts staff alerts: the Slack adapter (a thread per customer) or the console."""

    name: str

    async def post(self, alert: StaffPost) -> PostReceipt:
        """Post one alert; raise NotPosted when it did not go out and may be retried."""


@dataclass
class ConsoleAlertChannel:
    """Logs each staff alert; used when Slack is not configured."""

    name: str = "console"
    posted: list[StaffPost] = field(default_factory=list)

    async def post(self, alert: StaffPost) -> PostReceipt:
        self.posted.append(alert)
        log.info("staff alert [%s] %s: %s", alert.kind, alert.customer_ref or "-", alert.text.replace("\n", " | "))
        return PostReceipt()
