"""Staff replies in a customer's Slack thread: relayed to the debtor (`>>`), or kept as internal notes.

DESIGN "Chat behaviour": a staff reply in a case thread starting with `>>` is relayed to the
debtor in Telegram; other thread replies stay internal (notes in the timeline). The relayed text
is rendered for each reachable linked chat in that contact's language (the words around it;
the staff's text itself as written, HTML-escaped) and recorded in the debtor outbox (kind
`relay`) in the same transaction as its `message_out` event; it is sent after the commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bot.services.customers import CustomerRow
from messages.chat import say
from storage import events
from storage.outbound import enqueue
from storage.outbox import reachable_contacts

RELAY_PREFIX = ">>"


def relay_text(message: str) -> str | None:
    """The text to relay when `message` (plain text) starts with `>>`, else None; "" for `>>` alone."""
    stripped = message.lstrip()
    if not stripped.startswith(RELAY_PREFIX):
        return None
    return stripped[len(RELAY_PREFIX) :].strip()


def relay_to_debtor(
    conn: Connection,
    customer: CustomerRow,
    *,
    text: str,
    key: str,
    actor: str,
    now: datetime,
) -> int | None:
    """Record `text` (plain) for the customer's linked chats once per `key`; the outbox id, or None.

    None means nobody can receive it (no reachable linked chat) or `key` was relayed before; the
    caller tells the staff member which. Event `message_out` (actor `slack:<user id>`) holds the text.
    """
    contacts = reachable_contacts(conn, [customer.id]).get(customer.id, [])
    if not contacts:
        return None
    candidates = [
        {
            "contact_id": contact_id,
            "chat_id": chat_id,
            "locale": locale or customer.locale,
            "text": say("person.staff_reply", locale or customer.locale, text=text),
            "buttons": None,
        }
        for contact_id, chat_id, locale in contacts
    ]
    mid = enqueue(conn, key=key, customer_id=customer.id, kind="relay", candidates=candidates, now=now)
    if mid is not None:
        events.record(conn, at=now, kind="message_out", actor=actor, customer_id=customer.id,
                      text=f"relayed to the debtor: {text}")
    return mid


def add_note(conn: Connection, customer: CustomerRow, *, text: str, actor: str,
             now: datetime) -> None:
    """An internal note on the customer's case (event `note_added`): never shown to the debtor."""
    events.record(conn, at=now, kind="note_added", actor=actor, customer_id=customer.id, text=text)
