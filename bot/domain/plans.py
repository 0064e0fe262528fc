"""Payment-plan schedules: monthly instalments, the first one month after approval."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """Same day of month, clamped to the month's end (Jan 31 + 1 month = Feb 28)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(total_cents: int, count: int, approved_on: date) -> list[tuple[date, int]]:
    """Equal instalments in cents; the remainder of the division goes to the last one."""
    if count < 1:
        raise ValueError("a plan needs at least one instalment")
    if total_cents <= 0:
        raise ValueError("a plan needs a positive total")
    base = total_cents // count
    amounts = [base] * (count - 1) + [total_cents - base * (count - 1)]
    return [(add_months(approved_on, i + 1), amount) for i, amount in enumerate(amounts)]
