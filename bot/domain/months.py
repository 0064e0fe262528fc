"""Calendar months as reports count them: "YYYY-MM", first and last day, the months before a date.

Used by the countback DSO (months counted back from `as_of`) and the scorecard
(one month of invoicing and collection).
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import NamedTuple

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthError(ValueError):
    """A month that is not written YYYY-MM or does not exist (month 13)."""


class Month(NamedTuple):
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        """The month's first date."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The month's last date (28 to 31)."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def days(self) -> int:
        """How many days the month has (28 to 31)."""
        return calendar.monthrange(self.year, self.month)[1]

    def previous(self) -> Month:
        """The month before (December of the year before for January)."""
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    @classmethod
    def of(cls, day: date) -> Month:
        """The month a date falls in."""
        return cls(day.year, day.month)


def parse_month(text: str) -> Month:
    """"2026-11" -> Month(2026, 11). Raises MonthError for anything else ("2026-13", "11/2026", "2026-1")
    and for a month outside the dates a ledger holds (csv_columns.EARLIEST_DATE to LATEST_DATE, the
    1900-2199 limit of every other date a person types)."""
    from bot.domain.csv_columns import EARLIEST_DATE, LATEST_DATE

    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1:
        raise MonthError(f"month {text!r} is not a month like 2026-11")
    if not EARLIEST_DATE.year <= int(found.group(1)) <= LATEST_DATE.year:
        raise MonthError(
            f"month {text!r} is outside the accepted range {EARLIEST_DATE:%Y-%m} to {LATEST_DATE:%Y-%m}"
        )
    return Month(int(found.group(1)), int(found.group(2)))


def months_back(as_of: date, count: int) -> list[Month]:
    """The month of `as_of` and the `count - 1` calendar months before it, newest first."""
    months = [Month.of(as_of)]
    while len(months) < count:
        months.append(months[-1].previous())
    return months
