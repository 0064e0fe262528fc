"""Late fees, statutory interest and early-payment discounts, in cents.

DESIGN "Dunning policy": a step's late fee is fixed or a percent of the open amount
with a cap, and every money amount in the policy is per currency: an item whose
currency the policy names no fixed fee for gets none.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.domain.calendar import add_days
from bot.domain.money import percent_of, to_cents
from bot.domain.policy import Discount, LateFee


def late_fee(fee: LateFee | None, open_cents: int, currency: str) -> int | None:
    """The fee in cents of `currency` on an item with `open_cents` open, or None for no fee.

    Fixed: the policy's amount for that currency (None when it names none). Percent:
    half-up to the cent, never above the cap for that currency (if it names one).
    """
    if fee is None:
        return None
    if fee.fixed is not None:
        amount = fee.fixed_for(currency)
        return None if amount is None else to_cents(amount)
    assert fee.percent is not None  # LateFee holds exactly one of the two
    cents = percent_of(open_cents, fee.percent)
    cap = fee.cap_for(currency)
    return cents if cap is None else min(cents, to_cents(cap))


def statutory_interest(annual_rate: Decimal | None, open_cents: int, days_overdue: int) -> int | None:
    """annual rate x days overdue / 365 on the open amount, half-up to the cent; None when not due."""
    if annual_rate is None or days_overdue <= 0:
        return None
    return to_cents(Decimal(open_cents) * annual_rate * days_overdue / Decimal(365) / 100)


def early_discount(
    discount: Discount | None, issue_date: date, open_cents: int, today: date
) -> tuple[int, date] | None:
    """(discount cents, last day to pay) while the offer is still open, else None.

    The last day is issue date + `within_days`, held at 9999-12-31 at the calendar's end.
    """
    if discount is None:
        return None
    until = add_days(issue_date, discount.within_days)
    if today > until:
        return None
    return percent_of(open_cents, discount.percent), until
