"""Amounts and dates the way a debtor types them in chat, in their own locale.

DESIGN "Chat behaviour": flows accept amounts as the debtor writes them ("1.234,56"
in pt and es, "1,234.56" in en, Persian digits in fa) and dates as ISO YYYY-MM-DD
in every locale besides the locale's own short form (dd/mm/yyyy in pt and es).
Pure: no clock (the caller passes `today` to `not_in_future`), no I/O; Babel gives
each locale's separators, date order, month names and currency symbols.

Every refusal is a `ParseError` whose `reason` is a `ParseReason` key the chat
adapter translates; the domain holds no sentences. Nothing else is ever raised.

Amounts (`parse_amount`):
- digits: ASCII, Persian (۰-۹) or Arabic-Indic (٠-٩); spaces, ٬ and NBSPs group;
  ٫ is a decimal mark; "." and "," are read as below;
- with two different marks ("1.234,56", "1,234.56") the last one is the decimal;
- one mark used twice or more is a group ("1.234.567");
- one mark once, followed by 1 or 2 digits, is the decimal ("1234,56", "1234.5");
- one mark once followed by exactly 3 digits is the locale's call: its group mark
  groups ("1.234" is 1234 in pt), its decimal mark is `ambiguous` ("1.234" in en);
- groups are 3 digits (or 2 then 3, as en_IN writes lakhs); at most 2 decimals;
- an optional currency code or symbol before or after ("R$", "EUR", "ریال"), which
  must be the expected currency when one is given; a sign or brackets are refused.

Dates (`parse_date`): ISO YYYY-MM-DD; the locale's numeric short form in Babel's
order (day first in es, pt and en_GB; month first in en_US); the medium form our
reminders print ("Jul 31, 2026", "31 de jul. de 2026"); in fa the Solar Hijri
calendar ("۱۴۰۵/۰۵/۰۹", "۹ مرداد ۱۴۰۵"), where a year below 1700 is Solar Hijri and
any other is Gregorian. Plain "en" (no region) refuses a numeric date whose first
two numbers could each be the month: English speakers write both orders.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from functools import lru_cache

import jdatetime
from babel import Locale, UnknownLocaleError
from babel.dates import get_date_format
from babel.numbers import get_currency_symbol, get_group_symbol, list_currencies

from bot.domain.csv_columns import EARLIEST_DATE, LATEST_DATE

MAX_CENTS = 99_999_999_999_999  # 999,999,999,999.99: the ledger's amount limit
MAX_INPUT = 100  # characters; longer text is not an amount or a date
SOLAR_HIJRI_BEFORE = 1700  # in fa, a year below this is Solar Hijri (1405 is 2026)

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
                               "\u2066\u2067\u2068\u2069\ufeff"))
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})  # Arabic letters typed for Persian ones
_MINUS = set("-−‐‑–—")
_PERSIAN_DECIMAL = "٫"
_ASCII_DIGITS = frozenset("0123456789")


class ParseReason(StrEnum):
    """Why a text is not an amount or a date; the caller words it in the debtor's language."""

    EMPTY = "empty"
    MALFORMED = "malformed"  # not a number or date at all, or badly grouped
    NEGATIVE = "negative"
    ZERO = "zero"
    TOO_MANY_DECIMALS = "too_many_decimals"  # more than 2 (cents)
    TOO_LARGE = "too_large"  # over 999,999,999,999.99
    AMBIGUOUS = "ambiguous"  # "1.234" in en, "05/03/2026" in plain en: ask for another form
    WRONG_CURRENCY = "wrong_currency"  # a currency other than the expected one
    NO_SUCH_DATE = "no_such_date"  # 31/02/2026
    FUTURE = "future"  # a date after the debtor's today (see not_in_future)


class ParseError(ValueError):
    """A refused text; `reason` is the key to translate, `text` what was typed."""

    def __init__(self, reason: ParseReason, text: str) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.text = text


@lru_cache(maxsize=256)
def _locale(tag: str) -> Locale:
    """The most specific Babel locale for a tag ("pt-BR", "es_MX"), else its language, else en."""
    for candidate in (tag.strip().replace("-", "_"), tag.strip().replace("-", "_").split("_")[0], "en"):
        try:
            return Locale.parse(candidate)
        except (ValueError, TypeError, UnknownLocaleError):
            continue
    raise AssertionError("unreachable: Babel always knows English")


def _clean(text: str) -> str:
    """NFKC (fullwidth digits, NBSPs, ﷼), ASCII digits, no bidi marks, one space between words."""
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS).translate(_INVISIBLE).translate(_LETTERS)
    return " ".join(text.split())


# ---------------------------------------------------------------- amounts


@lru_cache(maxsize=64)
def _currency_marks(locale: Locale) -> dict[str, frozenset[str]]:
    """Every way this locale (or English) writes a currency, casefolded -> the ISO codes it may mean."""
    marks: dict[str, set[str]] = {}
    for code in list_currencies():
        for mark in {code, get_currency_symbol(code, locale), get_currency_symbol(code, "en")}:
            marks.setdefault(_clean(mark).replace(" ", "").casefold(), set()).add(code)
    return {mark: frozenset(codes) for mark, codes in marks.items() if mark}


def _amount_marks(text: str, locale: Locale, currency: str | None) -> str:
    """The number in `text` with its sign and currency mark checked and removed."""
    digits = [i for i, ch in enumerate(text) if ch in _ASCII_DIGITS]
    if not digits:
        raise ParseError(ParseReason.MALFORMED, text)
    core = text[digits[0] : digits[-1] + 1]
    before, after = text[: digits[0]].replace(" ", ""), text[digits[-1] + 1 :].replace(" ", "")
    if _MINUS & set(before + after) or (before.endswith("(") and after.startswith(")")):
        raise ParseError(ParseReason.NEGATIVE, text)
    if before and after:
        raise ParseError(ParseReason.MALFORMED, text)
    mark = (before or after).casefold()
    if mark:
        codes = _currency_marks(locale).get(mark)
        if codes is None:
            raise ParseError(ParseReason.MALFORMED, text)
        if currency is not None and currency.upper() not in codes:
            raise ParseError(ParseReason.WRONG_CURRENCY, text)
    return core


def _grouped(groups: list[str]) -> bool:
    """Digit groups as a locale groups them: 1-3 digits, then 3s (or 2s then a 3, en_IN)."""
    head, rest = groups[0], groups[1:]
    if not rest:
        return True
    if not 1 <= len(head) <= 3 or head.startswith("0") or len(rest[-1]) != 3:
        return False
    middle = {len(g) for g in rest[:-1]}
    return middle <= {3} or middle == {2}


def _split_decimal(core: str, locale: Locale, text: str) -> tuple[list[str], str]:
    """(integer digit groups, decimal digits) following the rules in the module doc."""
    parts = re.split(r"([.,٫٬ ])", core)
    groups, seps = parts[0::2], parts[1::2]
    if any(not (g.isascii() and g.isdigit()) for g in groups):  # two marks in a row, or a stray character
        raise ParseError(ParseReason.MALFORMED, text)
    if not seps:
        return groups, ""
    last = seps[-1]
    decimal = last == _PERSIAN_DECIMAL
    if last in ".,":
        if seps.count(last) > 1:
            decimal = False
        elif any(s in ".," for s in seps[:-1]) or len(groups[-1]) in (1, 2):
            decimal = True
        elif len(groups[-1]) == 3:
            as_group_ok = _grouped(groups) and _one_group_mark(seps)
            if last == get_group_symbol(locale) and as_group_ok:
                decimal = False
            elif as_group_ok:  # the locale's decimal mark (or neither): 1.234 or 1234?
                raise ParseError(ParseReason.AMBIGUOUS, text)
            else:
                raise ParseError(ParseReason.TOO_MANY_DECIMALS, text)
        else:
            raise ParseError(
                ParseReason.TOO_MANY_DECIMALS if len(seps) == 1 else ParseReason.MALFORMED, text
            )
    if decimal:
        integer, fraction, seps = groups[:-1], groups[-1], seps[:-1]
        if len(fraction) > 2:
            raise ParseError(ParseReason.TOO_MANY_DECIMALS, text)
    else:
        integer, fraction = groups, ""
    if seps and not (_one_group_mark(seps) and seps[0] != _PERSIAN_DECIMAL and _grouped(integer)):
        raise ParseError(ParseReason.MALFORMED, text)
    return integer, fraction


def _one_group_mark(seps: list[str]) -> bool:
    return len(set(seps)) == 1


def parse_amount(text: str, locale: str, *, currency: str | None = None) -> int:
    """A positive amount in cents from what a debtor typed: "R$ 1.234,56" (pt) -> 123456.

    `locale` is the contact's (e.g. "pt_BR", "fa"); `currency`, when given, is the
    only currency a code or symbol in the text may name. Raises ParseError with
    reason empty, malformed, ambiguous, negative, zero, too_many_decimals,
    too_large or wrong_currency; nothing else.
    """
    raw = text if isinstance(text, str) else ""
    cleaned = _clean(raw)
    if not cleaned:
        raise ParseError(ParseReason.EMPTY, raw)
    if len(cleaned) > MAX_INPUT:
        raise ParseError(ParseReason.MALFORMED, raw)
    where = _locale(locale)
    core = _amount_marks(cleaned, where, currency)
    integer, fraction = _split_decimal(core, where, raw)
    digits = "".join(integer)
    if len(digits.lstrip("0")) > 12:
        raise ParseError(ParseReason.TOO_LARGE, raw)
    cents = int(digits) * 100 + int(fraction.ljust(2, "0") or "0")
    if cents == 0:
        raise ParseError(ParseReason.ZERO, raw)
    if cents > MAX_CENTS:
        raise ParseError(ParseReason.TOO_LARGE, raw)
    return cents


# ---------------------------------------------------------------- dates

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
_NUMERIC = re.compile(r"^(\d{1,4})([/.-])(\d{1,2})\2(\d{1,4})$", re.ASCII)
_WORDS = re.compile(r"[0-9]+|[^\W\d_]+")
_FILLER = frozenset({"de", "del", "of"})  # "31 de jul. de 2026"


def _make_date(year: int, month: int, day: int, text: str, *, solar_hijri: bool = False) -> date:
    """The date, or NO_SUCH_DATE: impossible (31/02) or outside the dates a ledger holds
    (csv_columns.EARLIEST_DATE to LATEST_DATE, so no later date arithmetic can overflow)."""
    try:
        when = jdatetime.date(year, month, day).togregorian() if solar_hijri else date(year, month, day)
    except (ValueError, OverflowError):
        raise ParseError(ParseReason.NO_SUCH_DATE, text) from None
    if not EARLIEST_DATE <= when <= LATEST_DATE:
        raise ParseError(ParseReason.NO_SUCH_DATE, text)
    return when


def _fa(locale: str) -> bool:
    return _locale(locale).language == "fa"


def _year(digits: str, text: str) -> int:
    """A 4-digit year, or a 2-digit one in this century's reading (26 -> 2026)."""
    if len(digits) == 4:
        return int(digits)
    if len(digits) == 2:
        return 2000 + int(digits)
    raise ParseError(ParseReason.MALFORMED, text)


@lru_cache(maxsize=64)
def _order(locale: Locale) -> str:
    """"DMY", "MDY" or "YMD": the order of the locale's short date pattern."""
    pattern = get_date_format("short", locale=locale).pattern
    positions = {"D": pattern.find("d"), "M": pattern.find("M"), "Y": pattern.find("y")}
    return "".join(sorted("DMY", key=positions.__getitem__))


def _numeric(match: re.Match[str], locale: str, text: str) -> date:
    first, _sep, second, third = match.groups()
    if len(first) == 4:  # year first: 2026/07/31, and Solar Hijri 1405/05/09 in fa
        year = int(first)
        return _make_date(year, int(second), int(third), text, solar_hijri=_fa(locale) and year < SOLAR_HIJRI_BEFORE)
    where = _locale(locale)
    order = _order(where)
    if len(first) > 2 or order.startswith("Y"):  # fa writes the year first, like ISO
        raise ParseError(ParseReason.MALFORMED, text)
    year = _year(third, text)
    a, b = int(first), int(second)
    if where.language == "en" and where.territory is None:  # plain "en": both orders are common
        if a <= 12 and b <= 12 and a != b:
            raise ParseError(ParseReason.AMBIGUOUS, text)
        order = "DMY" if a > 12 else "MDY"
    day, month = (a, b) if order.index("D") < order.index("M") else (b, a)
    return _make_date(year, month, day, text)


@lru_cache(maxsize=64)
def _month_names(locale: Locale) -> dict[str, tuple[int, bool]]:
    """Month names and abbreviations, casefolded without dots -> (month, Solar Hijri?)."""
    names: dict[str, tuple[int, bool]] = {}
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            for month, name in locale.months[context][width].items():
                names[_clean(name).replace(".", "").casefold()] = (month, False)
    if locale.language == "fa":
        for month, name in enumerate(jdatetime.date.j_months_fa, start=1):
            names[_clean(name).casefold()] = (month, True)
    return names


def _with_month_name(text: str, locale: str) -> date:
    """"Jul 31, 2026", "31 de jul. de 2026", "۹ مرداد ۱۴۰۵": one month name, a day and a year."""
    tokens = [t for t in _WORDS.findall(text.replace(".", " ")) if t.casefold() not in _FILLER]
    rest = re.sub(r"[\w\s.,]", "", text)
    words = [t for t in tokens if not t.isdigit()]
    numbers = [t for t in tokens if t.isdigit()]
    if rest or len(words) != 1 or len(numbers) != 2:
        raise ParseError(ParseReason.MALFORMED, text)
    found = _month_names(_locale(locale)).get(words[0].casefold())
    years = [n for n in numbers if len(n) == 4]
    days = [n for n in numbers if len(n) <= 2]
    if found is None or len(years) != 1 or len(days) != 1:
        raise ParseError(ParseReason.MALFORMED, text)
    month, solar_hijri = found
    return _make_date(int(years[0]), month, int(days[0]), text, solar_hijri=solar_hijri)


def parse_date(text: str, locale: str) -> date:
    """The Gregorian date a debtor typed (see the module doc for the forms read).

    No clock: a date in the future is returned as is; `not_in_future` is that rule.
    Raises ParseError with reason empty, malformed, ambiguous or no_such_date; nothing else.
    """
    raw = text if isinstance(text, str) else ""
    cleaned = _clean(raw)
    if not cleaned:
        raise ParseError(ParseReason.EMPTY, raw)
    if len(cleaned) > MAX_INPUT:
        raise ParseError(ParseReason.MALFORMED, raw)
    iso = _ISO.match(cleaned)
    if iso:
        year, month, day = map(int, iso.groups())
        return _make_date(year, month, day, raw, solar_hijri=_fa(locale) and year < SOLAR_HIJRI_BEFORE)
    numeric = _NUMERIC.match(cleaned)
    if numeric:
        return _numeric(numeric, locale, raw)
    return _with_month_name(cleaned, locale)


def not_in_future(day: date, today: date) -> date:
    """`day`, unless it is after `today` (the debtor's local date): a payment cannot be
    dated tomorrow. Raises ParseError(FUTURE)."""
    if day > today:
        raise ParseError(ParseReason.FUTURE, day.isoformat())
    return day
