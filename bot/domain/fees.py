"""Late fees, statutory interest and early-payment discounts, in cents."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot.domain.money import percent_of, to_cents
from bot.domain.policy import Discount, LateFee


def late_fee(fee: LateFee | None, open_cents: int) -> int | None:
    """Fixed, or percent of the open amount; never above the cap."""
    if fee is None:
        return None
    cents = to_cents(fee.value) if fee.kind == "fixed" else percent_of(open_cents, fee.value)
    if fee.cap is not None:
        cents = min(cents, to_cents(fee.cap))
    return cents


def statutory_interest(annual_rate: Decimal | None, open_cents: int, days_overdue: int) -> int | None:
    """annual rate x days overdue / 365 on the open amount, half-up to the cent."""
    if annual_rate is None or days_overdue <= 0:
        return None
    return to_cents(Decimal(open_cents) * annual_rate * days_overdue / Decimal(365) / 100)


def early_discount(
    discount: Discount | None, issue_date: date, open_cents: int, today: date
) -> tuple[int, date] | None:
    """(discount cents, last day to pay) while the offer is still open, else None."""
    if discount is None:
        return None
    until = issue_date + timedelta(days=discount.within_days)
    if today > until:
        return None
    return percent_of(open_cents, discount.percent), until
