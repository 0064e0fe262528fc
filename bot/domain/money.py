"""Money as integer cents beside a currency code; Decimal only at the edges.

Rounding is half-up to cents everywhere (DESIGN: "Rounding: half-up to cents").
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
_PLAIN_DECIMAL = re.compile(r"^\d+(\.\d+)?$")


class AmountError(ValueError):
    """An amount that cannot be money: malformed, negative, zero where not allowed."""


def to_cents(value: Decimal) -> int:
    """Decimal in major units -> integer cents, half-up."""
    return int(value.quantize(CENT, rounding=ROUND_HALF_UP) * 100)


def from_cents(cents: int) -> Decimal:
    """Integer minor units (cents) as a Decimal with two places: 123450 -> Decimal("1234.50")."""
    return (Decimal(cents) / 100).quantize(CENT)


def cents_str(cents: int) -> str:
    """The contract's JSON form: a decimal string with two decimals, e.g. "1234.50"."""
    return str(from_cents(cents))


def plain_cents(text: str) -> int | None:
    """Cents of an amount written with ASCII digits and at most two decimals ("1234", "1234.5",
    "1234.50"); None for anything else, which `parse_csv_amount` then decides (rounds or refuses).

    The importer's fast path: no Decimal, no regex, no exception.
    """
    whole, dot, frac = text.partition(".")
    if not dot:
        digits = whole + "00"
    elif len(frac) == 2:
        digits = whole + frac
    elif len(frac) == 1:
        digits = whole + frac + "0"
    else:
        return None
    if len(digits) > 2 and digits.isascii() and digits.isdigit():
        return int(digits)
    return None


def parse_csv_amount(text: str, *, allow_zero: bool = False) -> int:
    """Parse an amount as the ERP writes it in CSV ("1234.5", "." decimal separator) to cents."""
    cents = plain_cents(text)
    if cents is not None and (cents or allow_zero):
        return cents
    raw = text.strip()
    if not raw:
        raise AmountError("amount is empty")
    if raw.startswith("-"):
        raise AmountError(f"amount {raw!r} is negative")
    if not _PLAIN_DECIMAL.match(raw):
        raise AmountError(f"amount {raw!r} is not a number like 1234.56")
    try:
        cents = to_cents(Decimal(raw))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid decimals
        raise AmountError(f"amount {raw!r} is not a number") from exc
    if cents == 0 and not allow_zero:
        raise AmountError(f"amount {raw!r} must be positive")
    return cents


def percent_of(cents: int, percent: Decimal) -> int:
    """`percent` % of an amount in cents, half-up to the cent."""
    return to_cents(Decimal(cents) * percent / Decimal(10000))
