"""Where messages go. Channels are interfaces so the sweep does not know Telegram or Slack.

The console channels write to the log (stderr); the Telegram and Slack adapters
implement the same two methods.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("collectbot.channels")
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Outgoing:
    customer_ref: str
    chat_id: int
    text: str  # Telegram HTML


class DebtorChannel(Protocol):
    name: str

    def send(self, message: Outgoing) -> str:
        """Deliver; return the channel's message id. Raise ContactUnreachable on a block."""


class StaffChannel(Protocol):
    def post(self, customer_ref: str | None, kind: str, text: str) -> None: ...


class ContactUnreachable(Exception):
    """The debtor blocked the bot (Telegram 403)."""


@dataclass
class ConsoleDebtorChannel:
    """Logs each reminder; used when Telegram is not configured, and by the demo."""

    name: str = "console"
    sent: list[Outgoing] = field(default_factory=list)

    def send(self, message: Outgoing) -> str:
        self.sent.append(message)
        log.info(
            "reminder to %s (chat %s): %s",
            message.customer_ref,
            message.chat_id,
            _TAGS.sub("", message.text).replace("\n", " | "),
        )
        return f"console-{len(self.sent)}"


@dataclass
class ConsoleStaffChannel:
    posted: list[tuple[str | None, str, str]] = field(default_factory=list)

    def post(self, customer_ref: str | None, kind: str, text: str) -> None:
        self.posted.append((customer_ref, kind, text))
        log.info("staff alert [%s] %s: %s", kind, customer_ref or "-", text.replace("\n", " | "))


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
