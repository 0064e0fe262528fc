"""DSO by the countback method (bot.domain.dso): the worked example, edge cases, and bounds."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.dso import DSO_MONTHS, dso_countback, dso_window, monthly_sales
from bot.domain.ledger import CREDIT_NOTE, DEBIT_NOTE, INVOICE, Doc
from bot.domain.months import Month, MonthError, months_back, parse_month

AS_OF = date(2026, 11, 23)
NOV, OCT, SEP = Month(2026, 11), Month(2026, 10), Month(2026, 9)


def test_the_worked_example_of_the_docstring() -> None:
    dso = dso_countback(21_200_000, {NOV: 10_000_000, OCT: 8_000_000, SEP: 7_000_000}, AS_OF)
    assert dso.days == Decimal("67.7")  # 23 + 31 + 30 * 32,000 / 70,000
    assert [m.month for m in dso.months] == [NOV, OCT, SEP]
    assert [m.period_days for m in dso.months] == [23, 31, 30]
    assert dso.months[-1].days_counted == Decimal("13.71")
    assert not dso.capped


def test_receivables_covered_by_this_months_sales_count_a_share_of_its_days() -> None:
    # 5,000 open against 10,000 sold in the 23 days of November so far: 11.5 days.
    assert dso_countback(500_000, {NOV: 1_000_000}, AS_OF).days == Decimal("11.5")


@pytest.mark.parametrize("receivables", [0, -12_345])
def test_nothing_owed_or_a_credit_balance_is_zero_days(receivables: int) -> None:
    dso = dso_countback(receivables, {NOV: 1_000_000}, AS_OF)
    assert dso.days == 0 and dso.months == () and not dso.capped


def test_months_without_sales_count_in_full_and_no_sales_at_all_caps_at_the_window() -> None:
    assert dso_countback(100, {SEP: 100}, AS_OF).days == Decimal(23 + 31 + 30)
    capped = dso_countback(100, {}, AS_OF)
    window = sum(m.days for m in months_back(AS_OF, DSO_MONTHS)[1:]) + 23
    assert capped.capped and capped.days == window
    assert len(capped.months) == DSO_MONTHS


def test_a_shorter_window_caps_sooner() -> None:
    dso = dso_countback(21_200_000, {NOV: 10_000_000, OCT: 8_000_000, SEP: 7_000_000}, AS_OF, max_months=2)
    assert dso.capped and dso.days == Decimal(54)
    with pytest.raises(ValueError):
        dso_countback(1, {}, AS_OF, max_months=0)


def test_monthly_sales_takes_invoices_and_debit_notes_issued_in_the_window_up_to_as_of() -> None:
    docs = [
        Doc("I1", INVOICE, date(2026, 11, 2), date(2026, 12, 2), 1000, "USD"),
        Doc("I2", INVOICE, date(2026, 11, 24), date(2026, 12, 24), 7000, "USD"),  # after as_of
        Doc("D1", DEBIT_NOTE, date(2026, 10, 31), date(2026, 11, 30), 300, "USD"),
        Doc("C1", CREDIT_NOTE, date(2026, 11, 3), None, 200, "USD", "I1"),  # not a sale
        Doc("E1", INVOICE, date(2026, 1, 5), date(2026, 2, 5), 50, "EUR"),
        Doc("OLD", INVOICE, date(2025, 11, 30), date(2025, 12, 30), 9, "EUR"),  # 13 months back
    ]
    assert monthly_sales(docs, AS_OF) == {"USD": {NOV: 1000, OCT: 300}, "EUR": {Month(2026, 1): 50}}
    assert dso_window(AS_OF) == (date(2025, 12, 1), AS_OF)


def test_months_parse_and_count_back_over_the_year_end() -> None:
    assert parse_month("2026-02") == Month(2026, 2) and str(Month(2026, 2)) == "2026-02"
    assert Month(2024, 2).days == 29 and Month(2026, 2).last_day == date(2026, 2, 28)
    assert months_back(date(2026, 1, 15), 3) == [Month(2026, 1), Month(2025, 12), Month(2025, 11)]
    for bad in ("2026-13", "2026-00", "2026-1", "11/2026", "", "0000-01", "0001-01", "1899-12", "2200-01", "9999-12"):
        with pytest.raises(MonthError):
            parse_month(bad)
    assert parse_month("1900-01") == Month(1900, 1) and parse_month("2199-12") == Month(2199, 12)


sales_maps = st.dictionaries(
    st.sampled_from(months_back(AS_OF, DSO_MONTHS)), st.integers(0, 10**9), max_size=DSO_MONTHS
)


@settings(max_examples=150, deadline=None)
@given(receivables=st.integers(-(10**9), 10**10), sales=sales_maps, as_of_shift=st.integers(0, 400))
def test_dso_stays_between_zero_and_the_window(receivables: int, sales: dict, as_of_shift: int) -> None:
    as_of = AS_OF - timedelta(days=as_of_shift)
    dso = dso_countback(receivables, sales, as_of)
    window_start, _ = dso_window(as_of)
    window_days = (as_of - window_start).days + 1
    assert 0 <= dso.days <= window_days
    assert (dso.months == ()) == (receivables <= 0)
    if receivables <= 0:
        assert dso.days == 0
    if dso.capped:
        assert dso.days == window_days
        window = set(months_back(as_of, DSO_MONTHS))
        in_window = sum(v for m, v in sales.items() if m in window)
        assert receivables > in_window
    else:
        # the months used sell at least the receivables; all but the last fall short of them
        assert sum(m.sales_cents for m in dso.months) >= receivables
        assert sum(m.sales_cents for m in dso.months[:-1]) < max(receivables, 1)


@settings(max_examples=100, deadline=None)
@given(a=st.integers(0, 10**10), b=st.integers(0, 10**10), sales=sales_maps)
def test_more_receivables_never_mean_fewer_days(a: int, b: int, sales: dict) -> None:
    low, high = sorted((a, b))
    assert dso_countback(low, sales, AS_OF).days <= dso_countback(high, sales, AS_OF).days


@settings(max_examples=100, deadline=None)
@given(daily=st.integers(1, 10**6), days_owed=st.integers(1, 300))
def test_steady_daily_sales_give_the_days_of_sales_owed(daily: int, days_owed: int) -> None:
    """Selling the same every day, and owing exactly the last N days of sales, is N days of DSO."""
    sales = {m: daily * (AS_OF.day if m == NOV else m.days) for m in months_back(AS_OF, DSO_MONTHS)}
    assert dso_countback(daily * days_owed, sales, AS_OF).days == days_owed
