"""The rule of each CSV column: raw field text in, the value it stands for out, or `Refused`.

One rule per column, used by every import path (DESIGN "Interfaces": CSV files). Every
rule takes the field as read (spaces around it are ignored) and either returns the value
to store or raises `Refused` with the reason a person reads after `line N: `. The limits
are the columns' own, so that every database takes what a rule accepted, and refuses
nothing a rule accepted: the same file is accepted or refused alike on SQLite and
PostgreSQL.

Pure: no I/O, no clock. Rules that need the ledger (a customer must exist) or the policy
(a segment must be in it) are built from plain data by the functions that take it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import available_timezones

from bot.domain.money import plain_cents, to_cents

T = TypeVar("T")
Rule = Callable[[str], Any]

# Limits, the same on every database (DESIGN: refs up to 64 characters, names up to 255,
# amounts up to 999,999,999,999.99). Each matches its column in storage/tables.py.
MAX_REF = 64
MAX_NAME = 255
MAX_TEXT = 255  # method, and each alias
MAX_ALIASES = 1024  # the aliases column, "|"-joined
MAX_SLACK_ID = 32
MAX_CENTS = 99_999_999_999_999  # 999,999,999,999.99
MAX_AMOUNT_TEXT = "999999999999.99"
# Dates a ledger may hold. Wide enough for any real receivable, and far enough from
# date.min and date.max that no date arithmetic downstream (due = issue + terms, ladder
# offsets, minimum gaps, heads-up projections, plan schedules) can overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
MAX_TERMS_DAYS = 3650  # payment terms: ten years at most

SUPPORTED_LANGUAGES = frozenset({"en", "es", "pt", "fa"})
# C0/C1 controls, and the bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069): an
# override in a name reverses the rest of the line it is shown in (a reminder, a Slack alert).
# Other format characters stay: the zero-width non-joiner is Persian spelling.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CODE3 = re.compile(r"^[A-Z]{3}$")
_CODE2 = re.compile(r"^[A-Z]{2}$")
_LOCALE = re.compile(r"^([A-Za-z]{2})(?:([_-])([A-Za-z]{2}))?$")
_AMOUNT = re.compile(r"^\d+(\.\d+)?$")  # \d: what Decimal reads as digits, as parse_csv_amount
_COMMA_DECIMAL = re.compile(r"^\d[\d.]*,\d+$")


class Refused(ValueError):
    """A field (or a row) a rule does not take; str() is the reason, without the line number."""


def shown(text: str, limit: int = 40) -> str:
    """A field as quoted in a reason: repr, cut after `limit` characters (a 10,000-character name stays readable)."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _check_plain(column: str, text: str) -> None:
    """No control character (NUL, tab, line break, escape, a bidi override...) in a stored text:
    PostgreSQL refuses NUL outright, and the others break messages, logs and exports."""
    if not text.isprintable():  # fast path: isprintable() also refuses harmless characters (ZWNJ, NBSP)
        found = _CONTROL.search(text)
        if found:
            raise Refused(f"{column} contains a control character (U+{ord(found.group()):04X})")


def ref(column: str) -> Rule:
    """A reference (customer_ref, doc_ref, payment_ref): required, at most MAX_REF characters, as written."""

    def read(raw: str) -> str:
        text = raw.strip()
        if not text:
            raise Refused(f"{column} is empty")
        if len(text) > MAX_REF:
            raise Refused(f"{column} {shown(text)} is longer than {MAX_REF} characters")
        if not text.isprintable():
            _check_plain(column, text)
        return text

    return read


def optional_ref(column: str) -> Rule:
    """A reference that may be empty (related_doc_ref): None when empty."""
    required = ref(column)
    return lambda raw: required(raw) if raw.strip() else None


def text(column: str, limit: int, *, required: bool = False) -> Rule:
    """Free text (name, method, sales_rep_slack_id): at most `limit` characters, "" when empty and optional."""

    def read(raw: str) -> str:
        value = raw.strip()
        if not value and required:
            raise Refused(f"{column} is empty")
        if len(value) > limit:
            raise Refused(f"{column} {shown(value)} is longer than {limit} characters")
        if not value.isprintable():
            _check_plain(column, value)
        return value

    return read


def aliases(raw: str) -> str:
    """`ACME Corp|Acme` -> "ACME Corp|Acme": each alias trimmed and at most MAX_TEXT characters, empty ones dropped."""
    if not raw:
        return ""
    parts = [a.strip() for a in raw.split("|")]
    for alias in parts:
        if len(alias) > MAX_TEXT:
            raise Refused(f"alias {shown(alias)} is longer than {MAX_TEXT} characters")
        _check_plain("aliases", alias)
    joined = "|".join(a for a in parts if a)
    if len(joined) > MAX_ALIASES:
        raise Refused(f"aliases are longer than {MAX_ALIASES} characters together")
    return joined


def amount(column: str, *, optional: bool = False, allow_zero: bool = False) -> Rule:
    """An amount with `.` as decimal separator -> int cents, half-up; at most MAX_CENTS.

    Positive unless `allow_zero` (credit_limit); None when empty and `optional`.
    """

    def read(raw: str) -> int | None:
        cents = plain_cents(raw) if len(raw) < 24 else None  # the usual case: ASCII digits, at most two decimals
        if cents is not None and (cents or allow_zero) and cents <= MAX_CENTS:
            return cents
        value = raw.strip()
        if not value:
            if optional:
                return None
            raise Refused(f"{column} is empty")
        if value.startswith("-"):
            raise Refused(f"{column} {shown(value)} is negative")
        if not _AMOUNT.match(value):
            if _COMMA_DECIMAL.match(value):
                raise Refused(f"{column} {shown(value)} has a decimal comma: write it like 1234.56")
            raise Refused(f"{column} {shown(value)} is not an amount like 1234.56")
        whole = value.partition(".")[0].lstrip("0")
        cents = to_cents(Decimal(value)) if len(whole) <= len(str(MAX_CENTS)) else MAX_CENTS + 1
        if cents > MAX_CENTS:
            raise Refused(f"{column} {shown(value)} is over the limit of {MAX_AMOUNT_TEXT}")
        if not cents and not allow_zero:
            raise Refused(f"{column} {shown(value)} must be more than zero")
        return cents

    return read


def day(column: str, *, optional: bool = False) -> Rule:
    """An ISO date YYYY-MM-DD from EARLIEST_DATE to LATEST_DATE -> the same ISO text; None when empty and optional."""

    def read(raw: str) -> str | None:
        value = raw.strip()
        if not value:
            if optional:
                return None
            raise Refused(f"{column} is empty")
        try:
            if not _ISO_DAY.match(value):
                raise ValueError
            when = date.fromisoformat(value)
        except ValueError:
            raise Refused(f"{column} {shown(value)} is not a date like 2026-01-31") from None
        if not EARLIEST_DATE <= when <= LATEST_DATE:
            raise Refused(f"{column} {value} is outside the accepted range {EARLIEST_DATE} to {LATEST_DATE}")
        return value

    return read


def currency(raw: str) -> str:
    """A 3-letter ISO 4217 code in any case -> upper case ("gbp" -> "GBP")."""
    code = raw.strip().upper()
    if not _CODE3.match(code):
        raise Refused(f"currency {shown(raw.strip())} is not a 3-letter ISO code like EUR")
    return code


def country(raw: str) -> str:
    """An ISO 3166 alpha-2 code in any case -> upper case; "" when empty (no public holidays)."""
    code = raw.strip().upper()
    if code and not _CODE2.match(code):
        raise Refused(f"country {shown(raw.strip())} is not an ISO 3166 alpha-2 code like ES")
    return code


def one_of(column: str, choices: Collection[str], *, default: str | None = None) -> Rule:
    """A coded value in any case -> its spelling in `choices` ("Invoice" -> "invoice"); `default` when empty."""
    by_fold = {c.casefold(): c for c in choices}
    listed = ", ".join(sorted(choices))

    def read(raw: str) -> str:
        value = raw.strip()
        if not value and default is not None:
            return default
        found = by_fold.get(value.casefold())
        if found is None:
            if not value:
                raise Refused(f"{column} is empty")
            raise Refused(f"{column} {shown(value)} is not one of {listed}")
        return found

    return read


def segment(segments: Collection[str]) -> Rule:
    """A segment of the dunning policy, in any case; `default` when empty. Refused naming the policy's segments."""
    by_fold = {s.casefold(): s for s in segments}
    listed = ", ".join(sorted(segments))

    def read(raw: str) -> str:
        value = raw.strip() or "default"
        found = by_fold.get(value.casefold())
        if found is None:
            raise Refused(f"segment {shown(value)} is not in the dunning policy (its segments: {listed})")
        return found

    return read


def payment_terms(default: int) -> Rule:
    """Whole days from 0 to MAX_TERMS_DAYS, ASCII digits only ("3²" is not a number); `default` when empty."""

    def read(raw: str) -> int:
        value = raw.strip()
        if not value:
            return default
        if not (value.isascii() and value.isdigit()) or int(value) > MAX_TERMS_DAYS:
            raise Refused(f"payment_terms_days {shown(value)} is not a whole number of days from 0 to {MAX_TERMS_DAYS}")
        return int(value)

    return read


def locale(default: str) -> Rule:
    """A supported language, optionally with a region, in any case: "PT" -> "pt", "pt-br" -> "pt-BR"."""

    def read(raw: str) -> str:
        value = raw.strip() or default
        found = _LOCALE.match(value)
        if not found or found.group(1).lower() not in SUPPORTED_LANGUAGES:
            langs = ", ".join(sorted(SUPPORTED_LANGUAGES))
            raise Refused(f"locale {shown(value)} is not supported ({langs}, optionally with a region like pt-BR)")
        language, sep, region = found.groups()
        return language.lower() + (sep + region.upper() if region else "")

    return read


_ZONES: dict[str, str] | None = None


def timezone(default: str) -> Rule:
    """An IANA time zone in any case -> its canonical spelling ("europe/madrid" -> "Europe/Madrid")."""

    def read(raw: str) -> str:
        global _ZONES
        value = raw.strip() or default
        if _ZONES is None:
            _ZONES = {z.casefold(): z for z in available_timezones()}
        found = _ZONES.get(value.casefold())
        if found is None:
            raise Refused(f"timezone {shown(value)} is not an IANA time zone like Europe/Madrid")
        return found

    return read


def known(rule: Rule, found: Mapping[str, T], missing: str, hint: str = "") -> Callable[[str], T]:
    """`rule`, then the value looked up in `found` (e.g. a customer_ref among the ledger's customers);
    refused as `{missing} 'VALUE'{hint}` when it is not there."""

    def read(raw: str) -> T:
        value = rule(raw)
        hit = found.get(value)
        if hit is None:
            raise Refused(f"{missing} {shown(value)}{hint}")
        return hit

    return read


def allocations(raw: str) -> tuple[tuple[str, int], ...]:
    """applies_to `INV-1:100.00|INV-2:50` -> (("INV-1", 10000), ("INV-2", 5000)); () when empty.

    Each part names a document ref and a positive amount; a ref named twice is refused.
    """
    if "|" not in raw:  # the usual one part, plainly written: the same rules, without the general loop
        target, sep, cents = raw.rpartition(":")
        value = plain_cents(cents) if len(cents) < 24 else None
        plain = 0 < len(target) <= MAX_REF and target.isprintable() and target == target.strip()
        if value and value <= MAX_CENTS and plain:
            return ((target, value),)
    if not raw.strip():
        return ()
    out: list[tuple[str, int]] = []
    for part in (p.strip() for p in raw.split("|")):
        if not part:
            continue
        target, sep, cents = part.rpartition(":")
        if not sep or not target.strip():
            raise Refused(f"applies_to part {shown(part)} is not like INV-1:100.00")
        target = _ALLOCATION_REF(target)
        if any(target == seen for seen, _ in out):
            raise Refused(f"applies_to names {shown(target)} twice")
        value = plain_cents(cents) if len(cents) < 24 else None
        if value is None or not 0 < value <= MAX_CENTS:
            value = amount(f"applies_to amount for {target!r}")(cents)
        out.append((target, value))
    return tuple(out)


_ALLOCATION_REF = ref("applies_to document")


def deferred(rule: Rule) -> Rule:
    """`rule`, returning its `Refused` instead of raising it: for a column whose value matters only
    on some rows (a due date on a credit note is ignored), so the row's own rule decides."""

    def read(raw: str) -> Any:
        try:
            return rule(raw)
        except Refused as exc:
            return exc

    return read
