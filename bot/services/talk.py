"""A debtor's "talk to a person": each message is in the timeline, pauses reminders, and reaches staff.

DESIGN "Chat behaviour": the debtor's messages come back into the customer's Slack thread; an
open conversation pauses reminders for the policy's `conversation_pause_days` after its last
message (bot.domain.ladder). Each message raises one staff alert whose payload names the
conversation and the chat, so the Slack adapter can thread them and relay staff's `>>` replies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from bot.services.alerts import staff_alert
from bot.services.customers import CustomerRow
from storage import events
from storage.tables import Conversation


def record_inbound(conn: Connection, customer: CustomerRow, *, actor: str, text: str, now: datetime) -> None:
    """Any message from a linked chat, in the timeline as `message_in` (DESIGN: every inbound message)."""
    events.record(conn, at=now, kind="message_in", actor=actor, customer_id=customer.id, text=text)


def talk_to_person(
    conn: Connection,
    customer: CustomerRow,
    *,
    chat_id: int,
    contact_id: int,
    message_key: str,
    text: str,
    now: datetime,
) -> int:
    """One message for a person: timeline, the open conversation (opened if none), a staff alert. Its id."""
    actor = f"debtor:{chat_id}"
    record_inbound(conn, customer, actor=actor, text=text, now=now)
    t = Conversation.__table__
    conv = conn.execute(
        select(t.c.id).where(t.c.customer_id == customer.id, t.c.closed_at.is_(None)).order_by(t.c.id.desc()).limit(1)
    ).scalar()
    if conv is None:
        conv = conn.execute(
            t.insert().values(customer_id=customer.id, opened_at=now, last_message_at=now, closed_at=None)
        ).inserted_primary_key[0]
    else:
        conn.execute(update(t).where(t.c.id == conv).values(last_message_at=now))
    staff_alert(
        conn,
        key=f"message_in:{message_key}",
        customer=customer,
        kind="message_in",
        now=now,
        payload={"conversation": conv, "chat_id": chat_id, "contact_id": contact_id},
        message=text,
    )
    return conv
