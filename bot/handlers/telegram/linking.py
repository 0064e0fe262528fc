"""`/start <token>`: a debtor's chat becomes a verified contact of the customer the link was made for.

Whatever is wrong with a token (unknown, used, expired, malformed) a chat that is not linked
gets the same answer as a stranger who never had one: nothing tells whether a customer or a
token exists. A chat already linked (a debtor opening their used link again) is reminded which
customer it speaks for, which it knows already, and gets the menu.
After LINK_ATTEMPTS wrong tokens in LINK_WINDOW the chat is told to wait (bot.services.linking).
"""

from __future__ import annotations

from bot.handlers.telegram.conversation import Turn, menu_buttons
from bot.services.chats import chat_contact
from bot.services.linking import LINK_ATTEMPTS, LINK_WINDOW, LinkRefused, redeem


def stranger(t: Turn) -> None:
    """The one answer a chat nobody linked gets, whatever it sends."""
    t.outcome.clear_keyboard = t.inbound.kind == "button"
    t.say("link.stranger")


def start_with_token(t: Turn, token: str) -> None:
    try:
        linked = redeem(
            t.conn,
            t.session,
            token,
            first_name=t.inbound.first_name,
            language_code=t.inbound.language_code,
            now=t.now,
        )
    except LinkRefused as refused:
        if refused.limited:
            minutes = int(LINK_WINDOW.total_seconds() // 60)
            t.say("link.too_many", attempts=LINK_ATTEMPTS, minutes=minutes)
        elif t.chat is not None:  # a linked debtor opening their used link again: they know their customer
            t.say("link.still_linked", buttons=menu_buttons(t.locale), customer=t.chat.customer.name)
        else:
            stranger(t)
        return
    t.session.clear()  # a flow begun for another customer must not go on for this one
    t.chat = chat_contact(t.conn, t.session.chat_id)
    assert t.chat is not None and t.chat.customer.id == linked.customer_id
    t.say(
        "link.linked",
        buttons=menu_buttons(t.locale),
        name=linked.contact_name,
        customer=t.chat.customer.name,
    )
