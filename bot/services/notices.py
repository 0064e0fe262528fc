"""Telling a debtor about a decision taken elsewhere (the CLI, later Slack): rendered, then recorded.

DESIGN "Chat behaviour": a decision taken on the CLI reaches the debtor from that same CLI
process. The notice is rendered for each of the customer's reachable linked chats, in that
contact's language (its own locale, else the customer's), and recorded in the debtor outbox
(storage.outbound, kind "notice") in the decision's own transaction; it is sent after the
commit, so a rolled-back decision never tells anyone anything and a crash never repeats it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from bot.services.customers import CustomerRow
from messages.chat import say
from storage.outbound import enqueue
from storage.outbox import reachable_contacts


def notify_debtor(
    conn: Connection,
    *,
    key: str,
    customer: CustomerRow,
    phrase: str,
    now: datetime,
    doc_refs: Sequence[str] = (),
    **ctx: object,
) -> int | None:
    """Record the notice `phrase` (a messages.chat key) for the customer's chats once per `key`.

    Returns the outbound message id, or None when the customer has no reachable linked chat
    (nobody to tell: staff see the decision in the timeline) or `key` was recorded before.
    """
    contacts = reachable_contacts(conn, [customer.id]).get(customer.id, [])
    candidates = [
        {
            "contact_id": contact_id,
            "chat_id": chat_id,
            "locale": locale or customer.locale,
            "text": say(phrase, locale or customer.locale, **ctx),
            "buttons": None,
        }
        for contact_id, chat_id, locale in contacts
    ]
    if not candidates:
        return None
    return enqueue(
        conn, key=key, customer_id=customer.id, kind="notice", candidates=candidates, now=now, doc_refs=doc_refs
    )


@dataclass(frozen=True)
class Decided:
    """A decision taken by credit staff (a plan, a claimed payment, a dispute): the new status, and
    the id of the debtor notice to send after the commit (None when the customer has no reachable chat)."""

    status: str
    notice_id: int | None
