"""Linking a Telegram chat to a customer with a one-time deep link (DESIGN "Chat behaviour").

`collectbot link` makes a token: 32 random bytes in base64url (43 characters, within the 64
that Telegram allows in a `start` parameter, all of them in its alphabet A-Z a-z 0-9 _ -).
Only its SHA-256 is stored, so a copy of the database links nobody. A token works once, for
TOKEN_DAYS days. `/start <token>` in a private chat redeems it: the chat becomes a verified
contact of that customer (a customer may have several). A chat that sends invalid tokens is
stopped after LINK_ATTEMPTS of them in LINK_WINDOW, so guessing gets nowhere; every invalid
token (unknown, used, expired) gets the same answer as any stranger, so nobody learns whether a
customer or a token exists.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, exists, select, update

from bot.domain.names import fold
from bot.services.chats import Session
from bot.services.customers import CustomerAmbiguous, CustomerNotFound, CustomerRow, customers_by_id, resolve
from messages.locales import SUPPORTED_LOCALES, language_of
from storage import events
from storage.tables import Contact, Customer, CustomerKey, LinkToken

TOKEN_DAYS = 7
TOKEN_BYTES = 32  # 43 base64url characters
LINK_ATTEMPTS = 5  # invalid tokens a chat may send ...
LINK_WINDOW = timedelta(hours=1)  # ... in this long, counted from the first of them
START_PARAMETER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # Telegram's rule for deep-link parameters


def token_hash(token: str) -> str:
    """The stored form of a token: SHA-256, hex (64 characters, as link_token.token_hash holds)."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_token(conn: Connection, customer_id: int, *, contact_name: str, now: datetime) -> str:
    """Record a fresh token for the customer and return it (the only time it exists in clear)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    conn.execute(
        LinkToken.__table__.insert().values(
            customer_id=customer_id,
            contact_name=contact_name,
            token_hash=token_hash(token),
            expires_at=now + timedelta(days=TOKEN_DAYS),
            used_at=None,
            created_at=now,
        )
    )
    return token


def deep_link(username: str, token: str) -> str:
    """`https://t.me/<bot username>?start=<token>` (the username as getMe reports it)."""
    return f"https://t.me/{username}?start={token}"


def unlinked_customers(conn: Connection) -> list[tuple[int, str]]:
    """(id, ref) of every customer without a linked chat (no contact with a Telegram chat), by ref."""
    cu, co = Customer.__table__, Contact.__table__
    linked = exists().where(co.c.customer_id == cu.c.id, co.c.telegram_chat_id.is_not(None))
    return [(r.id, r.ref) for r in conn.execute(select(cu.c.id, cu.c.ref).where(~linked).order_by(cu.c.ref))]


@dataclass(frozen=True)
class Linked:
    customer_id: int
    contact_id: int
    contact_name: str


class LinkRefused(Exception):
    """The token did not link the chat; `limited` when the chat has used up its attempts."""

    def __init__(self, limited: bool, retry_at: datetime | None = None) -> None:
        super().__init__("rate limited" if limited else "invalid token")
        self.limited = limited
        self.retry_at = retry_at


def redeem(
    conn: Connection, session: Session, token: str, *, first_name: str, language_code: str, now: datetime
) -> Linked:
    """Link `session`'s chat with `token`, or raise LinkRefused (counting the failure on the session).

    The token is used up atomically (UPDATE ... WHERE used_at IS NULL AND not expired), so two
    chats racing with one token cannot both win. A chat linked to another customer before is
    moved: one chat speaks for one customer. The new contact's locale is the chat's Telegram
    language when collectbot speaks it, otherwise the customer's (left empty).
    """
    if session.link_window_start is not None and now - session.link_window_start >= LINK_WINDOW:
        session.link_failures, session.link_window_start = 0, None
    if session.link_failures >= LINK_ATTEMPTS:
        raise LinkRefused(True, (session.link_window_start or now) + LINK_WINDOW)
    t = LinkToken.__table__
    row = None
    if START_PARAMETER.match(token):
        row = conn.execute(
            update(t)
            .where(t.c.token_hash == token_hash(token), t.c.used_at.is_(None), t.c.expires_at > now)
            .values(used_at=now)
            .returning(t.c.customer_id, t.c.contact_name)
        ).first()
    if row is None:
        session.link_failures += 1
        session.link_window_start = session.link_window_start or now
        raise LinkRefused(False)
    session.link_failures, session.link_window_start = 0, None
    return _link_chat(conn, session.chat_id, row.customer_id, row.contact_name or first_name, language_code, now)


def _link_chat(
    conn: Connection, chat_id: int, customer_id: int, name: str, language_code: str, now: datetime
) -> Linked:
    c = Contact.__table__
    actor = f"debtor:{chat_id}"
    for old in conn.execute(
        select(c.c.id, c.c.customer_id).where(c.c.telegram_chat_id == chat_id, c.c.customer_id != customer_id)
    ).all():
        conn.execute(update(c).where(c.c.id == old.id).values(telegram_chat_id=None, verified=False))
        events.record(
            conn, at=now, kind="chat_unlinked", actor=actor, customer_id=old.customer_id,
            text="the chat was linked to another customer with a new link",
        )
    language = language_of(language_code)
    locale = language_code.strip() if language in SUPPORTED_LOCALES else None
    mine = conn.execute(
        select(c.c.id, c.c.name).where(c.c.telegram_chat_id == chat_id, c.c.customer_id == customer_id)
    ).first()
    if mine is not None:
        conn.execute(update(c).where(c.c.id == mine.id).values(verified=True, reachable=True))
        contact_id, name = mine.id, mine.name
    else:
        contact_id = conn.execute(
            c.insert().values(
                customer_id=customer_id,
                name=name[:255],
                telegram_chat_id=chat_id,
                locale=locale,
                verified=True,
                reachable=True,
                linked_at=now,
            )
        ).inserted_primary_key[0]
    events.record(
        conn, at=now, kind="chat_linked", actor=actor, customer_id=customer_id,
        text=f"Telegram chat linked{f' ({name})' if name else ''}",
    )
    return Linked(customer_id, contact_id, name)


def _exact_customer(conn: Connection, query: str) -> CustomerRow:
    """The customer whose ref, name or alias is exactly `query` (case and accents folded): a link
    hands out access to a customer's account, so no lenient match (DESIGN: commands that change
    something need an exact ref, name or alias). A lenient candidate is only suggested.

    Raises CustomerAmbiguous (two customers share the key) or CustomerNotFound (with the near one).
    """
    ids = list(conn.execute(select(Customer.__table__.c.id).where(Customer.__table__.c.ref == query)).scalars())
    if not ids:
        k = CustomerKey.__table__
        ids = sorted(set(conn.execute(select(k.c.customer_id).where(k.c.key == fold(query))).scalars()))
    if len(ids) == 1:
        return customers_by_id(conn, ids)[ids[0]]
    if len(ids) > 1:
        found = customers_by_id(conn, ids)
        raise CustomerAmbiguous(query, [f"{found[i].ref} ({found[i].name})" for i in ids])
    try:
        near = resolve(conn, query)
    except (CustomerNotFound, CustomerAmbiguous) as exc:
        raise CustomerNotFound(query, getattr(exc, "suggestions", []) or getattr(exc, "candidates", [])) from None
    raise CustomerNotFound(query, [f"{near.ref} ({near.name})"])


def issue_link(engine: Engine, query: str, *, contact_name: str, now: datetime) -> tuple[CustomerRow, str]:
    """`collectbot link CUSTOMER`: a fresh one-time token (valid TOKEN_DAYS days) for the customer
    that `query` names exactly, in its own transaction; (customer, token in clear). Raises like
    `_exact_customer`, and then nothing is written."""
    with engine.begin() as conn:
        customer = _exact_customer(conn, query)
        return customer, new_token(conn, customer.id, contact_name=contact_name, now=now)


def issue_links_for_unlinked(engine: Engine, *, now: datetime) -> list[tuple[str, str]]:
    """`collectbot link --all-unlinked`: (customer ref, token) for every customer without a linked
    chat, by ref, all recorded in one transaction."""
    with engine.begin() as conn:
        return [(ref, new_token(conn, cid, contact_name="", now=now)) for cid, ref in unlinked_customers(conn)]
