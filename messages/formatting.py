"""Locale-aware money and dates, and the one bidi rule for right-to-left text.

Money arrives as integer minor units and goes to Babel as an exact Decimal,
never a float, so 0.1 + 0.2 never shows up in a debtor's reminder.
"""

from __future__ import annotations

import datetime
import operator
import unicodedata
from decimal import Decimal

from babel.dates import format_date as _babel_format_date
from babel.numbers import format_currency
from markupsafe import Markup

from messages.locales import babel_locale

LRM = "\u200e"  # LEFT-TO-RIGHT MARK


def format_money(cents: int, currency: str, locale: str) -> str:
    """Minor units as the locale writes money: en USD 123456 -> "$1,234.56".

    `operator.index` refuses floats (and Decimals with cents already divided),
    which would otherwise be silently accepted and mis-scaled.
    """
    amount = Decimal(operator.index(cents)) / 100
    return format_currency(amount, currency.upper(), locale=babel_locale(locale))


def format_date(d: datetime.date, locale: str) -> str:
    """A date as the locale writes it in running text ("Mar 7, 2025", "7 de mar. de 2025")."""
    return _babel_format_date(d, format="medium", locale=babel_locale(locale))


def ltr(value: object) -> str:
    """Mark a Latin-script value (an invoice ref, a company name) as left to right.

    Why: inside Persian text the Unicode bidi algorithm attaches neutral
    characters at the edge of a Latin value to the surrounding right-to-left
    text, so "ACME Inc." shows as ".ACME Inc" and "2025-INV-7" as "INV-7-2025".
    A LEFT-TO-RIGHT MARK on each side pins those characters to the value. We
    use LRM rather than the newer isolates (U+2066..U+2069) because every
    Telegram client renders LRM, and Babel itself puts LRM in fa currency
    amounts. Values whose first strong character is already right to left
    (a Persian name) are returned unchanged: they need no help.
    Only the fa templates use this filter; nothing else gets control characters.
    """
    for char in str(value):
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return value if isinstance(value, str) else str(value)
        if direction == "L":
            break
    if isinstance(value, Markup):
        return Markup(LRM) + value + Markup(LRM)
    return f"{LRM}{value}{LRM}"
