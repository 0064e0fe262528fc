"""A Telegram chat as collectbot knows it: its linked contact and customer, and its flow session.

Only a verified contact's chat sees its own customer (DESIGN "Reliability and security"):
every debtor action starts from `chat_contact`, so nothing a chat sends can name another
customer. The session row (storage.tables.ChatSession) is read and written inside the
transaction that handles one update, so what a flow records and where the debtor is in it
always commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select, update

from bot.services.customers import CustomerRow, customers_by_id
from storage.outbox import add_alert
from storage.sql import dialect_insert
from storage.tables import ChatSession, Contact

T = TypeVar("T")


@dataclass(frozen=True)
class ChatContact:
    """The verified contact of a chat and its customer; `locale` is the contact's own or the customer's."""

    chat_id: int
    contact_id: int
    contact_name: str
    customer: CustomerRow
    locale: str
    reachable: bool

    @property
    def actor(self) -> str:
        """The timeline's actor for this chat (DESIGN "timeline"): `debtor:<telegram chat id>`."""
        return f"debtor:{self.chat_id}"

    def today(self, now: datetime):  # noqa: ANN201
        """The debtor's local calendar date at `now` (DESIGN: every day count uses it)."""
        return now.astimezone(ZoneInfo(self.customer.timezone)).date()


def chat_contact(conn: Connection, chat_id: int) -> ChatContact | None:
    """The chat's verified contact (the most recently linked one), or None for a chat nobody linked."""
    c = Contact.__table__
    row = conn.execute(
        select(c.c.id, c.c.customer_id, c.c.name, c.c.locale, c.c.reachable)
        .where(c.c.telegram_chat_id == chat_id, c.c.verified.is_(True))
        .order_by(c.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    customer = customers_by_id(conn, [row.customer_id])[row.customer_id]
    return ChatContact(
        chat_id=chat_id,
        contact_id=row.id,
        contact_name=row.name,
        customer=customer,
        locale=row.locale or customer.locale,
        reachable=bool(row.reachable),
    )


def mark_reachable(conn: Connection, chat_id: int) -> None:
    """A chat that writes to the bot has not blocked it (any more): reminders may reach it again."""
    c = Contact.__table__
    conn.execute(update(c).where(c.c.telegram_chat_id == chat_id, c.c.reachable.is_(False)).values(reachable=True))


def mark_unreachable(conn: Connection, chat_id: int, now: datetime) -> None:
    """The chat blocked the bot (a 403): its contacts are not tried again until it writes (event
    `contact_unreachable` for each customer concerned)."""
    from storage import events

    c = Contact.__table__
    for contact_id, customer_id in conn.execute(
        select(c.c.id, c.c.customer_id).where(c.c.telegram_chat_id == chat_id, c.c.reachable.is_(True))
    ).all():
        conn.execute(update(c).where(c.c.id == contact_id).values(reachable=False))
        events.record(conn, at=now, kind="contact_unreachable", actor="system", customer_id=customer_id,
                      text=f"chat {chat_id} blocked the bot")


def set_chat_locale(conn: Connection, chat_id: int, locale: str) -> None:
    """`/language`: the contacts of this chat read everything (reminders included) in `locale`."""
    c = Contact.__table__
    conn.execute(update(c).where(c.c.telegram_chat_id == chat_id).values(locale=locale))


@dataclass
class Session:
    """A chat's flow state as plain values (storage.tables.ChatSession); `flow` "" = no flow."""

    chat_id: int
    flow: str = ""
    step: str = ""
    nonce: str = ""
    data: dict = field(default_factory=dict)
    last_update_id: int = 0
    link_failures: int = 0
    link_window_start: datetime | None = None

    def clear(self) -> None:
        """End the flow: nothing of it is kept (its record, if any, was written by its last step)."""
        self.flow, self.step, self.nonce, self.data = "", "", "", {}


def load_session(conn: Connection, chat_id: int, now: datetime) -> Session:
    """The chat's session, locked for this transaction (a row is created for a new chat).

    SQLite's writers already hold the database lock from BEGIN IMMEDIATE; PostgreSQL locks the
    row (FOR UPDATE), so two processes handling one chat's updates take turns.
    """
    t = ChatSession.__table__
    conn.execute(
        dialect_insert(conn, t)
        .on_conflict_do_nothing(index_elements=["chat_id"])
        .values(chat_id=chat_id, flow="", step="", nonce="", data={}, last_update_id=0, link_failures=0,
                link_window_start=None, updated_at=now)
    )
    q = select(t).where(t.c.chat_id == chat_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).one()
    return Session(
        chat_id=chat_id,
        flow=row.flow,
        step=row.step,
        nonce=row.nonce,
        data=dict(row.data or {}),
        last_update_id=row.last_update_id,
        link_failures=row.link_failures,
        link_window_start=row.link_window_start,
    )


def save_session(conn: Connection, session: Session, now: datetime) -> None:
    """Write the session's flow state back (the row `load_session` locked), `updated_at` = now."""
    t = ChatSession.__table__
    conn.execute(
        update(t)
        .where(t.c.chat_id == session.chat_id)
        .values(
            flow=session.flow,
            step=session.step,
            nonce=session.nonce,
            data=session.data,
            last_update_id=session.last_update_id,
            link_failures=session.link_failures,
            link_window_start=session.link_window_start,
            updated_at=now,
        )
    )


def chat_step(
    engine: Engine,
    *,
    chat_id: int,
    update_id: int,
    now: datetime,
    step: Callable[[Connection, Session, ChatContact | None], T],
) -> T | None:
    """Handle one update of a chat in ONE transaction (blocking: call it through run_db).

    Locks the chat's session (`load_session`), drops an update seen before (Telegram redelivers
    what a crashed process had fetched: returns None, nothing changes), finds the chat's verified
    contact (None for a chat nobody linked), marks a chat that writes again reachable, runs
    `step(conn, session, contact)` and saves the session it changed. What the step records and
    where the debtor is in a flow commit together, or not at all (DESIGN "Reliability and security").
    """
    with engine.begin() as conn:
        session = load_session(conn, chat_id, now)
        if update_id and update_id <= session.last_update_id:
            return None
        session.last_update_id = max(session.last_update_id, update_id)
        chat = chat_contact(conn, chat_id)
        if chat is not None and not chat.reachable:
            mark_reachable(conn, chat_id)
        result = step(conn, session, chat)
        save_session(conn, session, now)
    return result


def chat_blocked(engine: Engine, chat_id: int, now: datetime) -> None:
    """A reply got 403 (the chat blocked the bot): `mark_unreachable` in its own transaction (blocking)."""
    with engine.begin() as conn:
        mark_unreachable(conn, chat_id, now)


def report_failed_update(engine: Engine, *, update_id: int, error_name: str, now: datetime) -> None:
    """A staff alert (kind `bot_error`, once per update id) that a debtor's update could not be handled.

    Names only the exception's class: the log has the traceback, and no debtor text or secret
    reaches Slack (DESIGN "Reliability and security"). Blocking; its own transaction.
    """
    with engine.begin() as conn:
        add_alert(
            conn,
            key=f"bot_error:{update_id}",
            customer_id=None,
            kind="bot_error",
            text=f"A debtor's Telegram message could not be handled ({error_name}); "
            "the bot's log has the details.",
            at=now,
        )
