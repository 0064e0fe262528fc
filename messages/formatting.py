"""Locale-aware money, numbers and dates, and the one bidi rule for right-to-left text.

Money arrives as integer minor units and goes to Babel as an exact Decimal,
never a float, so 0.1 + 0.2 never shows up in a debtor's reminder.

Persian (fa): dates are in the Solar Hijri calendar, which is how Persian readers
date things ("۹ مرداد ۱۴۰۵" for 2026-07-31; the conversion is jdatetime's), and
every number is written in CLDR's default numbering system for fa, `arabext`:
Persian digits with ٫ as the decimal and ٬ as the group separator. Babel gives the
separators of that system but keeps ASCII digits, so the digits are mapped here.
Other locales are exactly as Babel writes them.
"""

from __future__ import annotations

import datetime
import operator
import re
import unicodedata
from decimal import Decimal

import jdatetime
from babel.dates import format_date as _babel_format_date
from babel.dates import get_date_format
from babel.numbers import format_currency, format_decimal
from markupsafe import Markup

from messages.locales import babel_locale, numbering_system, to_native_digits, uses_solar_hijri

LRM = "\u200e"  # LEFT-TO-RIGHT MARK
PERSIAN_MONTHS = tuple(jdatetime.date.j_months_fa)  # Farvardin .. Esfand, in Persian


def format_money(cents: int, currency: str, locale: str) -> str:
    """Minor units as the locale writes money: en USD 123456 -> "$1,234.56", fa -> "‎$ ۱٬۲۳۴٫۵۶".

    The currency's own number of decimals is used (IRR and JPY show none) unless that
    would hide cents the ledger holds: an amount is never rounded for display.
    `operator.index` refuses floats (and Decimals with cents already divided),
    which would otherwise be silently accepted and mis-scaled.
    """
    cents = operator.index(cents)
    amount = Decimal(cents) / 100
    text = format_currency(
        amount,
        currency.upper(),
        locale=babel_locale(locale),
        currency_digits=cents % 100 == 0,
        numbering_system=numbering_system(locale),
    )
    return to_native_digits(text, locale)


def format_number(value: int, locale: str) -> str:
    """A whole number (an instalment's "2 of 6") in the locale's own digits and grouping."""
    text = format_decimal(operator.index(value), locale=babel_locale(locale), numbering_system=numbering_system(locale))
    return to_native_digits(text, locale)


def _solar_hijri(d: datetime.date) -> jdatetime.date | None:
    """The Solar Hijri date, or None outside jdatetime's years (before 622, after 9999-03-19)."""
    try:
        return jdatetime.date.fromgregorian(date=d)
    except (ValueError, OverflowError):
        return None


def format_date(d: datetime.date, locale: str) -> str:
    """A date as the locale writes it in running text ("Mar 7, 2025", "7 de mar. de 2025",
    "۹ مرداد ۱۴۰۵"); fa falls back to the Gregorian date in Persian digits outside the
    Solar Hijri converter's years."""
    if uses_solar_hijri(locale):
        j = _solar_hijri(d)
        if j is not None:
            return to_native_digits(f"{j.day} {PERSIAN_MONTHS[j.month - 1]} {j.year}", locale)
    text = _babel_format_date(d, format="medium", locale=babel_locale(locale))
    return to_native_digits(text, locale)


def format_short_date(d: datetime.date, locale: str) -> str:
    """A date in the numeric form a debtor types back, with a 4-digit year:
    "07/31/2026" (en), "31/07/2026" (pt), "31/7/2026" (es), "۱۴۰۵/۰۵/۰۹" (fa, Solar Hijri).

    `bot.domain.parsing.parse_date` reads every one of these for the same locale.
    """
    if uses_solar_hijri(locale):
        j = _solar_hijri(d)
        text = d.isoformat() if j is None else f"{j.year:04d}/{j.month:02d}/{j.day:02d}"
        return to_native_digits(text, locale)
    pattern = get_date_format("short", locale=babel_locale(locale)).pattern
    return _babel_format_date(d, format=re.sub("y+", "yyyy", pattern), locale=babel_locale(locale))


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


def slack_escape(text: str) -> str:
    """`text` with Slack mrkdwn's control characters (& < >) escaped, so a debtor's or a customer's
    words never become a mention or a link (https://api.slack.com/reference/surfaces/formatting)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
