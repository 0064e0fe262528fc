"""Business hours in the debtor's time zone, weekends and public holidays.

DESIGN: Monday to Friday (or the policy's weekdays) less
`holidays.country_holidays(country)` with default categories and no
subdivision; an empty country has no public holidays.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import holidays

from bot.domain.policy import BusinessHours


@lru_cache(maxsize=512)
def _country_calendar(country: str, year: int):  # noqa: ANN202
    try:
        return holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return {}


@lru_cache(maxsize=8192)
def is_public_holiday(day: date, country: str) -> bool:
    """Memoised: a sweep asks about the same few (day, country) pairs thousands of times."""
    return bool(country) and day in _country_calendar(country, day.year)


def is_business_day(day: date, country: str, hours: BusinessHours) -> bool:
    return day.weekday() in hours.weekdays and not is_public_holiday(day, country)


def in_business_hours(local_now: datetime, country: str, hours: BusinessHours) -> bool:
    """`local_now` is already in the debtor's zone; the window is [start, end)."""
    if not is_business_day(local_now.date(), country, hours):
        return False
    return hours.start <= local_now.time().replace(tzinfo=None) < hours.end
