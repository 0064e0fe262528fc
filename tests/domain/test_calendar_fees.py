"""Business hours, business days and public holidays; late fees, interest and discounts.

DESIGN.md: messages go out 09:00-18:00 in the debtor's time zone on the country's
working week (its weekend from the `holidays` package: Friday in Iran, Saturday and
Sunday in Spain) less `holidays.country_holidays(country)` (default categories, no
subdivision); an empty or unknown country means Monday to Friday and no public
holidays; the policy may override the working days per country. Fees are fixed (per
currency) or a percent of the open amount with a cap (per currency); statutory interest
is annual rate x days overdue / 365; rounding is half-up.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.domain.calendar import (
    add_days,
    in_business_hours,
    is_business_day,
    is_public_holiday,
    next_business_day,
    working_week,
)
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
    assert HOURS == BusinessHours(time(9, 0), time(18, 0), {})
    assert HOURS == BusinessHours()


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
def test_saturday_and_sunday_are_closed_where_they_are_the_weekend(day: date) -> None:
    for country in ("", "BR", "US", "ES", "NZ", "XX"):
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


def test_a_policy_may_choose_the_hours_and_one_countrys_days() -> None:
    hours = BusinessHours(time(8, 0), time(12, 0), {"BR": (5,)})  # Brazil: Saturday mornings only
    assert in_business_hours(local(date(2026, 3, 7), 8), "BR", hours)
    assert not in_business_hours(local(date(2026, 3, 7), 12), "BR", hours)
    assert not in_business_hours(local(WED, 10), "BR", hours)
    # ... and every other country keeps its own week, in the policy's hours
    assert in_business_hours(local(WED, 8), "ES", hours)
    assert not in_business_hours(local(date(2026, 3, 7), 8), "ES", hours)
    assert not in_business_hours(local(WED, 12), "ES", hours)


# ---------------------------------------------------------------- each country's working week

FRI, SAT, SUN, MON = date(2026, 7, 31), date(2026, 8, 1), date(2026, 8, 2), date(2026, 8, 3)


def test_iran_works_saturday_to_thursday_and_rests_on_friday() -> None:
    assert holidays.country_holidays("IR").weekend == {4}  # the package's word on it
    assert working_week("IR", HOURS, 2026) == (0, 1, 2, 3, 5, 6)
    assert not is_business_day(FRI, "IR", HOURS)
    assert not in_business_hours(local(FRI, 11, tz=TEHRAN), "IR", HOURS)
    for day in (SAT, SUN, MON):
        assert is_business_day(day, "IR", HOURS), day
    assert in_business_hours(local(SUN, 10, tz=TEHRAN), "IR", HOURS)
    assert not in_business_hours(local(SUN, 8, 59, tz=TEHRAN), "IR", HOURS)  # the hours still apply
    assert not is_business_day(date(2026, 8, 4), "IR", HOURS)  # Arbaeen, a Tuesday


def test_spain_works_monday_to_friday_as_before() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    assert working_week("ES", HOURS, 2026) == (0, 1, 2, 3, 4)
    assert in_business_hours(local(FRI, 10, tz=madrid), "ES", HOURS)
    assert not in_business_hours(local(SUN, 10, tz=madrid), "ES", HOURS)
    assert not in_business_hours(local(SAT, 10, tz=madrid), "ES", HOURS)
    assert not is_business_day(date(2026, 10, 12), "ES", HOURS)  # Fiesta Nacional, a Monday


@pytest.mark.parametrize("country", ["", "XX", "zz", "ir "])
def test_an_empty_or_unknown_country_works_monday_to_friday(country: str) -> None:
    if country.strip().upper() == "IR":  # any case and stray spaces still name Iran
        assert not is_business_day(FRI, country, HOURS) and is_business_day(SUN, country, HOURS)
        return
    assert working_week(country, HOURS, 2026) == (0, 1, 2, 3, 4)
    assert [is_business_day(d, country, HOURS) for d in (FRI, SAT, SUN, MON)] == [True, False, False, True]
    assert is_business_day(date(2026, 12, 25), country, HOURS)  # no public holidays either


def test_the_packages_year_by_year_weekend_is_followed() -> None:
    # The UAE moved its weekend from Friday-Saturday to Saturday-Sunday in 2022.
    assert not is_business_day(date(2021, 6, 4), "AE", HOURS)  # a Friday
    assert is_business_day(date(2021, 6, 6), "AE", HOURS)  # a Sunday
    assert not is_business_day(date(2023, 6, 4), "AE", HOURS)  # a Sunday


def test_a_working_day_override_is_per_country_and_keeps_public_holidays() -> None:
    hours = BusinessHours(working_days={"IR": (5, 6, 0, 1, 2)})  # Saturday to Wednesday
    assert not is_business_day(date(2026, 7, 30), "IR", hours)  # Thursday: off by the policy
    assert is_business_day(SAT, "IR", hours)
    assert not is_business_day(date(2026, 8, 4), "IR", hours)  # Arbaeen stays a holiday
    assert is_business_day(date(2026, 7, 30), "ES", hours)  # other countries are untouched
    assert working_week("ir", hours, 2026) == (0, 1, 2, 5, 6)


# ---------------------------------------------------------------- the ends of the calendar


@pytest.mark.parametrize("country", ["", "IR", "ES", "US", "BR", "XX"])
def test_the_calendars_ends_never_raise(country: str) -> None:
    for day in (date.min, date(1, 1, 2), date(9999, 12, 30), date.max):
        is_business_day(day, country, HOURS)
        in_business_hours(datetime.combine(day, time(10), UTC), country, HOURS)
    last = next_business_day(date.max, country, HOURS)
    assert last is None or last == date.max


def test_next_business_day() -> None:
    assert next_business_day(FRI, "IR", HOURS) == SAT
    assert next_business_day(SAT, "ES", HOURS) == MON
    assert next_business_day(FRI, "ES", HOURS) == FRI
    assert next_business_day(date(9999, 12, 31), "", HOURS) == date(9999, 12, 31)  # a Friday
    assert next_business_day(date(9999, 12, 25), "XX", HOURS) is not None


def test_adding_days_stays_inside_the_calendar() -> None:
    assert add_days(date(2026, 7, 31), 3) == date(2026, 8, 3)
    assert add_days(date(9999, 12, 30), 10) == date.max
    assert add_days(date(1, 1, 5), -10) == date.min


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
    assert late_fee(None, 100_000, "EUR") is None


def test_a_fixed_fee_is_its_currencys_amount_whatever_the_open_amount() -> None:
    fee = LateFee(fixed={"EUR": Decimal("25.00"), "IRR": Decimal("1500000")})
    assert late_fee(fee, 100_000, "EUR") == 2_500
    assert late_fee(fee, 500, "EUR") == 2_500
    assert late_fee(fee, 10**12, "IRR") == 150_000_000  # not 25.00 IRR


def test_a_currency_without_a_fixed_fee_gets_none() -> None:
    fee = LateFee(fixed={"EUR": Decimal("25.00")})
    assert late_fee(fee, 100_000, "IRR") is None
    assert late_fee(fee, 100_000, "USD") is None


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
    assert late_fee(LateFee(percent=percent), open_cents, "BRL") == expected


def test_a_percent_fee_never_exceeds_its_currencys_cap() -> None:
    fee = LateFee(percent=Decimal("10"), cap={"EUR": Decimal("50.00"), "IRR": Decimal("2000000")})
    assert late_fee(fee, 1_000_000, "EUR") == 5_000  # 10% of 10,000.00 is 1,000.00, capped
    assert late_fee(fee, 30_000, "EUR") == 3_000  # under the cap: the percentage
    assert late_fee(fee, 50_000, "EUR") == 5_000  # exactly the cap
    assert late_fee(fee, 10**11, "IRR") == 200_000_000  # IRR's own cap, not 50.00 IRR
    assert late_fee(fee, 1_000_000, "USD") == 100_000  # no cap named for USD: the percentage


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


def test_an_early_discount_at_the_end_of_the_calendar_does_not_overflow() -> None:
    discount = Discount(Decimal("2"), 365)
    assert early_discount(discount, date(9999, 12, 1), 100_000, date(9999, 12, 31)) == (2_000, date.max)


def test_an_early_discount_is_of_the_open_amount_half_up() -> None:
    discount = Discount(Decimal("2"), 10)
    # 2% of 12.25 = 0.245 -> 0.25
    assert early_discount(discount, WED, 1_225, WED) == (25, date(2026, 3, 14))
