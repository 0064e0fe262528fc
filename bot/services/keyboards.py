"""The debtor's inline buttons, as plain data the outbox can store and any sender can send.

DESIGN "Chat behaviour": a reminder carries six inline buttons, in this order, two per row:
I paid · Dispute / Payment plan · Promise a date / Statement · Talk to a person (labels
translated). Callback data is a short opaque action code (well within Telegram's 64 bytes);
the Telegram handlers act on it only for the chat's own linked customer, so a forged or
replayed callback can touch nothing else.
"""

from __future__ import annotations

from messages.chat import label

REMINDER_ACTIONS: tuple[tuple[str, ...], ...] = (("paid", "dispute"), ("plan", "promise"), ("statement", "person"))
CALLBACK_PREFIX = "a:"  # "a:paid" ... : one of REMINDER_ACTIONS


def action_label(action: str, locale: str) -> str:
    """The button label of one of REMINDER_ACTIONS in the contact's language (English when unsupported);
    the words are in the chat's phrase templates (messages/<language>/chat/menu.html.j2, `action_*`)."""
    return label(f"menu.action_{action}", locale)


def reminder_keyboard(locale: str) -> list[list[dict]]:
    """The six reminder buttons as `[[{"text", "callback_data"}, ...], ...]` (rows of two), for the outbox."""
    return [
        [{"text": action_label(a, locale), "callback_data": CALLBACK_PREFIX + a} for a in row]
        for row in REMINDER_ACTIONS
    ]
