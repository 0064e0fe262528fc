"""Business days and hours in the debtor's country and time zone, and safe day arithmetic.

DESIGN "Ladder dates and windows": business days are the country's working week
less its public holidays, both from the `holidays` package:
`holidays.country_holidays(country)` (default categories, no subdivision) and its
weekend (Friday in Iran, Saturday and Sunday in Spain), including the package's
year-by-year weekend changes and working weekend days. An empty or unknown country
means Monday to Friday and no public holidays. The policy's business hours give the
hours of the day and may override the working days of one country at a time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from bot.domain.policy import BusinessHours

MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
_LOOKAHEAD_DAYS = 366  # every working week has a business day within a year, holidays or not


def add_days(day: date, days: int) -> date:
    """`day` + `days`, held at the calendar's ends instead of raising OverflowError.

    A date past 9999-12-31 can only come from a date at the edge of the calendar
    (an import dated 9999-12-31, a hold until then); such a date is "never" in
    practice, and 9999-12-31 says so without crashing a sweep.
    """
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def _country(country: str) -> str:
    return country.strip().upper()


@lru_cache(maxsize=1024)
def _country_calendar(country: str, year: int) -> holidays.HolidayBase | None:
    """The package's public holidays of one country and year; None for none or unknown."""
    if not country:
        return None
    try:
        return holidays.country_holidays(country, years=year)
    except NotImplementedError:  # a country the package does not know
        return None


@lru_cache(maxsize=8192)
def is_public_holiday(day: date, country: str) -> bool:
    """Whether `day` is a national public holiday in `country` (ISO 3166 alpha-2, any case).

    Memoised: a sweep asks about the same few (day, country) pairs thousands of times.
    """
    calendar = _country_calendar(_country(country), day.year)
    return calendar is not None and day in calendar


@lru_cache(maxsize=8192)
def _is_working_day(day: date, country: str) -> bool:
    """The package's own rule: not a public holiday, not a weekend day (unless worked)."""
    calendar = _country_calendar(country, day.year)
    if calendar is None:
        return day.weekday() in MONDAY_TO_FRIDAY
    return calendar.is_working_day(day)


def working_week(country: str, hours: BusinessHours, year: int) -> tuple[int, ...]:
    """The working days (Monday = 0) of `country` in `year`: the policy's override, else
    the package's weekend's complement, else Monday to Friday. Public holidays aside."""
    code = _country(country)
    override = hours.working_days.get(code) if code else None
    if override is not None:
        return override
    calendar = _country_calendar(code, year)
    if calendar is None:
        return MONDAY_TO_FRIDAY
    return tuple(d for d in range(7) if d not in calendar.weekend)


def is_business_day(day: date, country: str, hours: BusinessHours) -> bool:
    """Whether reminders may go out on the debtor's local date `day` (see the module doc)."""
    code = _country(country)
    override = hours.working_days.get(code) if code else None
    if override is not None:
        return day.weekday() in override and not is_public_holiday(day, code)
    return _is_working_day(day, code)


def in_business_hours(local_now: datetime, country: str, hours: BusinessHours) -> bool:
    """`local_now` is already in the debtor's zone; the window is [start, end) on a business day."""
    if not is_business_day(local_now.date(), country, hours):
        return False
    return hours.start <= local_now.time().replace(tzinfo=None) < hours.end


def next_business_day(day: date, country: str, hours: BusinessHours) -> date | None:
    """The first business day on or after `day`; None when there is none before the calendar ends."""
    for _ in range(_LOOKAHEAD_DAYS):
        if is_business_day(day, country, hours):
            return day
        if day == date.max:
            return None
        day += timedelta(days=1)
    return None
