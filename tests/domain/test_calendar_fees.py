"""Business hours, business days and public holidays; late fees, interest and discounts.

DESIGN.md: messages go out Mon-Fri 09:00-18:00 in the debtor's time zone, less
`holidays.country_holidays(country)` (default categories, no subdivision); an empty
country has no public holidays. Fees are fixed or a percent of the open amount with a
cap; statutory interest is annual rate x days overdue / 365; rounding is half-up.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.domain.calendar import in_business_hours, is_business_day, is_public_holiday
from bot.domain.fees import early_discount, late_fee, statutory_interest
from bot.domain.policy import BusinessHours, Discount, LateFee
from bot.domain.policy_loader import load_policy

HOURS = load_policy(None).business_hours
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
TEHRAN = ZoneInfo("Asia/Tehran")
WED = date(2026, 3, 4)


def local(day: date, hh: int, mm: int = 0, ss: int = 0, tz: ZoneInfo = SAO_PAULO) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tz)


# ---------------------------------------------------------------- business hours


def test_the_default_window_is_mon_to_fri_nine_to_six() -> None:
    assert HOURS == BusinessHours(time(9, 0), time(18, 0), (0, 1, 2, 3, 4))


@pytest.mark.parametrize(
    ("hh", "mm", "ss", "inside"),
    [
        (8, 59, 59, False),
        (9, 0, 0, True),
        (12, 30, 0, True),
        (17, 59, 59, True),
        (18, 0, 0, False),
        (20, 0, 0, False),
        (0, 0, 0, False),
    ],
)
def test_the_window_is_half_open_nine_to_six(hh: int, mm: int, ss: int, inside: bool) -> None:
    assert in_business_hours(local(WED, hh, mm, ss), "BR", HOURS) is inside


@pytest.mark.parametrize("day", [date(2026, 3, 7), date(2026, 3, 8)])
def test_weekends_are_closed_in_every_country(day: date) -> None:
    for country in ("", "BR", "US", "IR", "NZ"):
        assert not is_business_day(day, country, HOURS)
        assert not in_business_hours(local(day, 10), country, HOURS)


def test_the_window_is_read_in_the_debtors_own_zone() -> None:
    # 12:00 UTC is 09:00 in Sao Paulo (open) but 15:30 in Tehran (open), 11:59 UTC is 08:59 SP.
    noon = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    assert in_business_hours(noon.astimezone(SAO_PAULO), "BR", HOURS)
    before = datetime(2026, 3, 4, 11, 59, tzinfo=UTC)
    assert not in_business_hours(before.astimezone(SAO_PAULO), "BR", HOURS)
    # 21:00 UTC on Thursday is 00:30 Friday in Tehran: a business day, but not the hours.
    late = datetime(2026, 3, 5, 21, 0, tzinfo=UTC).astimezone(TEHRAN)
    assert late.date() == date(2026, 3, 6)
    assert not in_business_hours(late, "", HOURS)
    # 21:00 UTC on Sunday is 10:00 Monday in Auckland (summer time, UTC+13).
    nz = datetime(2026, 3, 8, 21, 0, tzinfo=UTC).astimezone(ZoneInfo("Pacific/Auckland"))
    assert (nz.date(), nz.hour) == (date(2026, 3, 9), 10)
    assert in_business_hours(nz, "NZ", HOURS)


def test_a_policy_may_choose_other_weekdays_and_hours() -> None:
    hours = BusinessHours(time(8, 0), time(12, 0), (5,))  # Saturday mornings only
    assert in_business_hours(local(date(2026, 3, 7), 8), "", hours)
    assert not in_business_hours(local(date(2026, 3, 7), 12), "", hours)
    assert not in_business_hours(local(WED, 10), "", hours)


# ---------------------------------------------------------------- public holidays


@pytest.mark.parametrize(
    ("country", "day"),
    [
        ("BR", date(2026, 11, 20)),  # Dia da Consciencia Negra (national since 2024), a Friday
        ("US", date(2026, 11, 26)),  # Thanksgiving, a Thursday
        ("GB", date(2026, 4, 3)),  # Good Friday
        ("NZ", date(2026, 4, 27)),  # Anzac Day observed on the Monday
        ("IR", date(2026, 3, 23)),  # Nowruz holiday, a Monday
    ],
)
def test_a_public_holiday_is_not_a_business_day(country: str, day: date) -> None:
    assert day.weekday() < 5
    assert day in holidays.country_holidays(country, years=day.year)  # the package agrees
    assert is_public_holiday(day, country)
    assert not is_business_day(day, country, HOURS)
    assert not in_business_hours(local(day, 10), country, HOURS)
    # ... only for that country; the day before and after are open
    assert is_business_day(day, "", HOURS)
    assert in_business_hours(local(day, 10), "", HOURS)


def test_an_empty_country_has_no_public_holidays() -> None:
    for day in (date(2026, 1, 1), date(2026, 11, 26), date(2026, 12, 25)):
        assert not is_public_holiday(day, "")
    assert is_business_day(date(2026, 12, 25), "", HOURS)  # a Friday


def test_subdivision_holidays_do_not_count() -> None:
    # 9 July is a holiday in the state of Sao Paulo only; 20 April in Massachusetts only.
    assert date(2026, 7, 9) in holidays.country_holidays("BR", subdiv="SP", years=2026)
    assert not is_public_holiday(date(2026, 7, 9), "BR")
    assert is_business_day(date(2026, 7, 9), "BR", HOURS)
    assert date(2026, 4, 20) in holidays.country_holidays("US", subdiv="MA", years=2026)
    assert is_business_day(date(2026, 4, 20), "US", HOURS)


def test_holidays_are_looked_up_for_the_right_year() -> None:
    assert is_public_holiday(date(2025, 11, 27), "US")  # Thanksgiving 2025
    assert not is_public_holiday(date(2026, 11, 27), "US")
    assert is_public_holiday(date(2027, 11, 25), "US")


# ---------------------------------------------------------------- late fees


def test_no_fee_without_a_fee() -> None:
    assert late_fee(None, 100_000) is None


def test_a_fixed_fee_is_its_value_whatever_the_amount() -> None:
    fee = LateFee("fixed", Decimal("25.00"))
    assert late_fee(fee, 100_000) == 2_500
    assert late_fee(fee, 500) == 2_500


@pytest.mark.parametrize(
    ("percent", "open_cents", "expected"),
    [
        (Decimal("1.5"), 100_000, 1_500),
        (Decimal("0.5"), 123_456, 617),  # 6.1728 -> 6.17
        (Decimal("0.5"), 100, 1),  # 0.005 -> 0.01, half-up (not to even)
        (Decimal("1"), 150, 2),  # 0.015 -> 0.02
        (Decimal("1"), 149, 1),  # 0.0149 -> 0.01
    ],
)
def test_a_percent_fee_is_of_the_open_amount_half_up(
    percent: Decimal, open_cents: int, expected: int
) -> None:
    assert late_fee(LateFee("percent", percent), open_cents) == expected


def test_a_percent_fee_never_exceeds_its_cap() -> None:
    fee = LateFee("percent", Decimal("10"), cap=Decimal("50.00"))
    assert late_fee(fee, 1_000_000) == 5_000  # 10% of 10,000.00 is 1,000.00, capped
    assert late_fee(fee, 30_000) == 3_000  # under the cap: the percentage
    assert late_fee(fee, 50_000) == 5_000  # exactly the cap


# ---------------------------------------------------------------- statutory interest


def test_interest_is_open_times_rate_times_days_over_365() -> None:
    # 1,000.00 x 5% x 73 / 365 = 10.00
    assert statutory_interest(Decimal("0.05"), 100_000, 73) == 1_000
    # 1,000.00 x 5% x 1 / 365 = 0.13698... -> 0.14
    assert statutory_interest(Decimal("0.05"), 100_000, 1) == 14
    # 2,500.00 x 8% x 30 / 365 = 16.438... -> 16.44
    assert statutory_interest(Decimal("0.08"), 250_000, 30) == 1_644


def test_interest_rounds_half_up_to_the_cent() -> None:
    # 50.00 x 3.65% x 1 / 365 = 0.005 exactly -> 0.01 (banker's rounding would give 0.00)
    assert statutory_interest(Decimal("0.0365"), 5_000, 1) == 1
    # 150.00 x 3.65% x 1 / 365 = 0.015 -> 0.02
    assert statutory_interest(Decimal("0.0365"), 15_000, 1) == 2


def test_no_interest_before_the_due_date_or_without_a_rate() -> None:
    assert statutory_interest(Decimal("0.05"), 100_000, 0) is None
    assert statutory_interest(Decimal("0.05"), 100_000, -3) is None
    assert statutory_interest(None, 100_000, 40) is None


# ---------------------------------------------------------------- early-payment discount


def test_an_early_discount_is_offered_within_its_days_from_issue() -> None:
    discount = Discount(Decimal("2"), 10)
    issued = date(2026, 3, 1)
    assert early_discount(discount, issued, 100_000, date(2026, 3, 1)) == (2_000, date(2026, 3, 11))
    assert early_discount(discount, issued, 100_000, date(2026, 3, 11)) == (
        2_000,
        date(2026, 3, 11),
    )
    assert early_discount(discount, issued, 100_000, date(2026, 3, 12)) is None
    assert early_discount(None, issued, 100_000, issued) is None


def test_an_early_discount_is_of_the_open_amount_half_up() -> None:
    discount = Discount(Decimal("2"), 10)
    # 2% of 12.25 = 0.245 -> 0.25
    assert early_discount(discount, WED, 1_225, WED) == (25, date(2026, 3, 14))
