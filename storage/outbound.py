"""The debtor message outbox (`outbound_message`): recording a rendered message for delivery after commit.

Whoever decides to tell a debtor something (the sweep's reminders, a credit decision taken on
the CLI or in Slack, a staff reply relayed from Slack) renders the text for each of the
customer's linked chats first, then records it here in the same transaction as the decision.
The delivery path (bot/scheduler) sends it after the commit, so no network call ever happens
inside a database transaction and a crash never loses or repeats a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from storage.sql import dialect_insert
from storage.tables import OutboundMessage


def enqueue(
    conn: Connection,
    *,
    key: str,
    customer_id: int,
    kind: str,
    candidates: Sequence[dict],
    now: datetime,
    doc_refs: Sequence[str] = (),
    step: str = "",
    claimed_by: str = "",
) -> int | None:
    """Record one message (status `pending`) once per `key`; its id, or None when `key` was already recorded.

    `candidates`: the chats to try in order, each `{"contact_id", "chat_id", "locale", "text", "buttons"}`
    (text is Telegram HTML with user values escaped; buttons `[[{"text", "callback_data"}]]` or None).
    An empty list records a message nobody can receive: the caller should not enqueue it (it is
    `no_channel` for the sweep). `claimed_by` reserves it for the calling process's delivery (the
    sweep); "" leaves it to any deliverer.
    """
    t = OutboundMessage.__table__
    stmt = dialect_insert(conn, t).on_conflict_do_nothing(index_elements=["key"]).returning(t.c.id)
    row = {
        "key": key,
        "customer_id": customer_id,
        "kind": kind,
        "step": step,
        "status": "pending",
        "candidates": [dict(c) for c in candidates],
        "doc_refs": list(doc_refs),
        "attempts": 0,
        "not_before": None,
        "claimed_by": claimed_by,
        "chat_id": None,
        "telegram_message_id": None,
        "error": "",
        "created_at": now,
        "updated_at": now,
    }
    return conn.execute(stmt, row).scalar()


class MessageStatus(StrEnum):
    """`outbound_message.status` (DESIGN "Reliability and security")."""

    PENDING = "pending"  # recorded, not attempted, or failed before the request left: safe to send
    SENDING = "sending"  # intent recorded just before the call, by the live holder in claimed_by
    SENT = "sent"
    UNKNOWN = "unknown"  # a timeout after the request left, or a crash between intent and result
    NO_CHANNEL = "no_channel"  # every candidate chat blocked the bot (403)
    FAILED = "failed"  # Telegram refused the message itself (400): resending cannot help


class AlertStatus(StrEnum):
    """`staff_alert.status`: recorded with the decision, posted after it commits."""

    PENDING = "pending"
    POSTING = "posting"
    POSTED = "posted"
    UNKNOWN = "unknown"  # the post may or may not have happened: never posted again


class SendStatus(StrEnum):
    """`reminder_send.status`: one row per (document, step); rows with a message follow its outcome."""

    PENDING = "pending"  # recorded with its outbound message, not delivered yet
    SENDING = "sending"  # (databases from before the debtor outbox only)
    SENT = "sent"
    UNKNOWN = "unknown"
    NO_CHANNEL = "no_channel"
    FAILED = "failed"
    SKIPPED = "skipped"


# A message's final status -> its reminder_send rows' status.
SEND_STATUS_OF = {
    MessageStatus.SENT: SendStatus.SENT,
    MessageStatus.UNKNOWN: SendStatus.UNKNOWN,
    MessageStatus.NO_CHANNEL: SendStatus.NO_CHANNEL,
    MessageStatus.FAILED: SendStatus.FAILED,
}
