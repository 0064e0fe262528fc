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
