"""The debtor's inline buttons, as plain data the outbox can store and any sender can send.

DESIGN "Chat behaviour": a reminder carries six inline buttons, in this order, two per row:
I paid · Dispute / Payment plan · Promise a date / Statement · Talk to a person (labels
translated). Callback data is a short opaque action code (well within Telegram's 64 bytes);
the Telegram handlers act on it only for the chat's own linked customer, so a forged or
replayed callback can touch nothing else.
"""

from __future__ import annotations

from messages.locales import template_language

REMINDER_ACTIONS: tuple[tuple[str, ...], ...] = (("paid", "dispute"), ("plan", "promise"), ("statement", "person"))
CALLBACK_PREFIX = "a:"  # "a:paid" ... : one of REMINDER_ACTIONS

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "paid": "I paid",
        "dispute": "Dispute",
        "plan": "Payment plan",
        "promise": "Promise a date",
        "statement": "Statement",
        "person": "Talk to a person",
    },
    "es": {
        "paid": "Ya pagué",
        "dispute": "Reclamar",
        "plan": "Plan de pagos",
        "promise": "Prometer una fecha",
        "statement": "Estado de cuenta",
        "person": "Hablar con una persona",
    },
    "pt": {
        "paid": "Já paguei",
        "dispute": "Contestar",
        "plan": "Parcelamento",
        "promise": "Prometer uma data",
        "statement": "Extrato",
        "person": "Falar com uma pessoa",
    },
    "fa": {
        "paid": "پرداخت کردم",
        "dispute": "اعتراض",
        "plan": "طرح اقساط",
        "promise": "تعهد به تاریخ پرداخت",
        "statement": "صورت‌حساب",
        "person": "گفتگو با یک شخص",
    },
}


def action_label(action: str, locale: str) -> str:
    """The button label of one of REMINDER_ACTIONS in the contact's language (English when unsupported)."""
    return _LABELS[template_language(locale)][action]


def reminder_keyboard(locale: str) -> list[list[dict]]:
    """The six reminder buttons as `[[{"text", "callback_data"}, ...], ...]` (rows of two), for the outbox."""
    return [
        [{"text": action_label(a, locale), "callback_data": CALLBACK_PREFIX + a} for a in row]
        for row in REMINDER_ACTIONS
    ]
