"""Amounts and dates typed by debtors, read the way they write them in their locale.

DESIGN "Chat behaviour": amounts "the way the debtor writes them in their locale"
("1.234,56" in pt/es), dates as ISO in every locale besides the locale's own short
form (dd/mm/yyyy in pt and es). Refusals carry a reason key, never an English sentence;
whatever the text, nothing but ParseError comes out.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.csv_columns import EARLIEST_DATE, LATEST_DATE
from bot.domain.parsing import MAX_CENTS, ParseError, ParseReason, not_in_future, parse_amount, parse_date
from messages.formatting import format_date, format_money, format_short_date

LOCALES = ["en", "en_US", "en_GB", "en_IN", "es", "es_ES", "es_MX", "pt", "pt_BR", "pt_PT", "fa", "fa_IR"]
CURRENCIES = ["EUR", "USD", "BRL", "IRR", "JPY", "INR", "MXN", "GBP"]


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("text", "locale", "cents"),
    [
        ("1.234,56", "pt", 123456),
        ("1234,56", "pt", 123456),
        ("R$ 1.234,56", "pt_BR", 123456),
        ("R$1.234,56", "pt_BR", 123456),
        ("1.234,56 BRL", "pt_BR", 123456),
        ("1.234", "pt", 123400),  # pt groups with "."
        ("1.234.567", "pt", 123456700),
        ("1 234,56", "pt", 123456),
        ("0,5", "pt", 50),
        ("1234,5", "es", 123450),
        ("1.234,56 €", "es", 123456),
        ("1,234.56", "en", 123456),
        ("1234.56", "en", 123456),
        ("$1,234.56", "en", 123456),
        ("USD 1,234.56", "en", 123456),
        ("usd 10", "en", 1000),
        ("1,234", "en", 123400),
        ("1,234,567", "en", 123456700),
        ("12,34,567.89", "en_IN", 123456789),  # lakhs
        ("1234.56", "es_MX", 123456),  # Mexico writes the decimal with "."
        ("۱۲۳۴٫۵۶", "fa", 123456),
        ("۱٬۲۳۴٫۵۶", "fa", 123456),
        ("\u200eریال ۱٬۲۳۴", "fa", 123400),  # as a fa reminder writes it, LRM included
        ("﷼ ۱۲۳۴", "fa", 123400),  # the rial sign
        ("١٢٣٤٫٥٦", "fa", 123456),  # Arabic-Indic digits
        ("ريال ۱۰۰", "fa", 10000),  # Arabic yeh for Persian yeh
        ("1234.56", "fa", 123456),
        ("  7  ", "en", 700),
        ("１２３", "en", 12300),  # full-width digits
        ("999999999999.99", "en", MAX_CENTS),
        ("999.999.999.999,99", "pt", MAX_CENTS),
        ("0.01", "en", 1),
        ("007", "en", 700),
    ],
)
def test_amounts_are_read_the_debtors_way(text: str, locale: str, cents: int) -> None:
    assert parse_amount(text, locale) == cents


@pytest.mark.parametrize(
    ("text", "locale", "reason"),
    [
        ("", "en", ParseReason.EMPTY),
        ("   ", "pt", ParseReason.EMPTY),
        ("\u200e", "fa", ParseReason.EMPTY),
        ("abc", "en", ParseReason.MALFORMED),
        ("1.2.3,4,5", "pt", ParseReason.MALFORMED),
        ("1..5", "en", ParseReason.MALFORMED),
        ("12,34.56", "en", ParseReason.MALFORMED),  # bad grouping
        ("1.5k", "en", ParseReason.MALFORMED),
        ("10 toman", "fa", ParseReason.MALFORMED),
        ("۱۰۰ تومان", "fa", ParseReason.MALFORMED),  # a toman is ten rials: never guessed
        ("R$ 10 BRL", "pt", ParseReason.MALFORMED),
        ("10 / 2", "en", ParseReason.MALFORMED),
        ("১০", "en", ParseReason.MALFORMED),  # Bengali digits are not ours
        ("1" * 101, "en", ParseReason.MALFORMED),
        ("-5", "en", ParseReason.NEGATIVE),
        ("−5,00", "pt", ParseReason.NEGATIVE),
        ("R$ -5", "pt", ParseReason.NEGATIVE),
        ("5-", "pt", ParseReason.NEGATIVE),
        ("(10.00)", "en", ParseReason.NEGATIVE),
        ("0", "en", ParseReason.ZERO),
        ("0,00", "pt", ParseReason.ZERO),
        ("۰", "fa", ParseReason.ZERO),
        ("1.234,567", "pt", ParseReason.TOO_MANY_DECIMALS),
        ("12.3456", "en", ParseReason.TOO_MANY_DECIMALS),
        ("1234.567", "en", ParseReason.TOO_MANY_DECIMALS),
        ("0.125", "en", ParseReason.TOO_MANY_DECIMALS),
        ("1.234", "en", ParseReason.AMBIGUOUS),  # 1234, or 1.234 with three decimals?
        ("1,234", "pt", ParseReason.AMBIGUOUS),
        ("1,234", "es", ParseReason.AMBIGUOUS),
        ("1.234", "fa", ParseReason.AMBIGUOUS),
        ("1000000000000", "en", ParseReason.TOO_LARGE),
        ("99999999999999999999.99", "en", ParseReason.TOO_LARGE),
        ("1.000.000.000.000,00", "pt", ParseReason.TOO_LARGE),
    ],
)
def test_bad_amounts_are_refused_with_a_reason_key(text: str, locale: str, reason: ParseReason) -> None:
    with pytest.raises(ParseError) as caught:
        parse_amount(text, locale)
    assert caught.value.reason is reason
    assert str(caught.value) == reason.value  # a key to translate, not a sentence


def test_a_currency_in_the_text_must_be_the_expected_one() -> None:
    assert parse_amount("R$ 10", "pt", currency="BRL") == 1000
    assert parse_amount("10 eur", "en", currency="EUR") == 1000
    assert parse_amount("$10", "en", currency="USD") == 1000
    assert parse_amount("10", "en", currency="EUR") == 1000  # no currency written: the expected one
    for text, locale, currency in [("10 USD", "en", "EUR"), ("€10", "en", "USD"), ("R$ 10", "pt", "EUR")]:
        with pytest.raises(ParseError) as caught:
            parse_amount(text, locale, currency=currency)
        assert caught.value.reason is ParseReason.WRONG_CURRENCY


@settings(max_examples=300, deadline=None)
@given(
    cents=st.integers(min_value=1, max_value=MAX_CENTS),
    locale=st.sampled_from(LOCALES),
    currency=st.sampled_from(CURRENCIES),
)
def test_formatting_then_parsing_an_amount_round_trips(cents: int, locale: str, currency: str) -> None:
    """What a reminder says the debtor owes, typed back, is read as that amount."""
    written = format_money(cents, currency, locale)
    assert parse_amount(written, locale, currency=currency) == cents, written


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40), locale=st.sampled_from([*LOCALES, "", "xx", "de_AT", "ar"]))
def test_random_text_is_an_amount_or_a_parse_error(text: str, locale: str) -> None:
    try:
        cents = parse_amount(text, locale)
    except ParseError as exc:
        assert isinstance(exc.reason, ParseReason)
        return
    assert 0 < cents <= MAX_CENTS


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="0123456789.,٫٬ ۰۱۲۳۴۵-$€R", max_size=20),
    locale=st.sampled_from(LOCALES),
)
def test_number_like_text_is_an_amount_or_a_parse_error(text: str, locale: str) -> None:
    try:
        cents = parse_amount(text, locale)
    except ParseError:
        return
    assert 0 < cents <= MAX_CENTS


# ---------------------------------------------------------------- dates

JULY_31 = date(2026, 7, 31)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("2026-07-31", "en"),
        ("2026-07-31", "pt"),
        ("2026-07-31", "es"),
        ("2026-07-31", "fa"),
        ("۲۰۲۶-۰۷-۳۱", "fa"),
        ("31/07/2026", "pt"),
        ("31/7/2026", "pt_BR"),
        ("31-07-2026", "pt"),
        ("31.07.2026", "es"),
        ("31/7/26", "es"),
        ("7/31/2026", "en"),  # 31 cannot be a month
        ("31/7/2026", "en"),
        ("7/31/2026", "en_US"),
        ("31/07/2026", "en_GB"),
        ("2026/07/31", "pt"),  # year first is never ambiguous
        ("۱۴۰۵/۰۵/۰۹", "fa"),  # Solar Hijri, 9 Mordad 1405
        ("1405/5/9", "fa"),
        ("۱۴۰۵-۰۵-۰۹", "fa"),
        ("۹ مرداد ۱۴۰۵", "fa"),  # as a fa reminder writes it
        ("Jul 31, 2026", "en"),  # as an en reminder writes it
        ("31 July 2026", "en_GB"),
        ("31 de jul. de 2026", "pt"),
        ("31 de julho de 2026", "pt_BR"),
        ("31 jul 2026", "es"),
        ("31 de julio de 2026", "es"),
        (" 2026-07-31 ", "en"),
    ],
)
def test_dates_are_read_the_debtors_way(text: str, locale: str) -> None:
    assert parse_date(text, locale) == JULY_31


@pytest.mark.parametrize(
    ("text", "locale", "reason"),
    [
        ("", "en", ParseReason.EMPTY),
        ("yesterday", "en", ParseReason.MALFORMED),
        ("31/07", "pt", ParseReason.MALFORMED),
        ("31/07/202", "pt", ParseReason.MALFORMED),
        ("31/07-2026", "pt", ParseReason.MALFORMED),
        ("2026-07-31T10:00", "en", ParseReason.MALFORMED),
        ("31/05/1405", "fa", ParseReason.MALFORMED),  # Persian dates are written year first
        ("Jul 31", "en", ParseReason.MALFORMED),
        ("Foo 31, 2026", "en", ParseReason.MALFORMED),
        ("05/03/2026", "en", ParseReason.AMBIGUOUS),  # 5 March or May 3: plain "en" says neither
        ("31/02/2026", "pt", ParseReason.NO_SUCH_DATE),
        ("2026-13-01", "en", ParseReason.NO_SUCH_DATE),
        ("0000-01-01", "en", ParseReason.NO_SUCH_DATE),
        ("9999-12-31", "en", ParseReason.NO_SUCH_DATE),  # beyond the dates a ledger holds: no overflow later
        ("0001-01-01", "pt", ParseReason.NO_SUCH_DATE),
        ("۱۴۰۴/۱۲/۳۰", "fa", ParseReason.NO_SUCH_DATE),  # 1404 is not a leap year
        ("02/31/2026", "en_US", ParseReason.NO_SUCH_DATE),
    ],
)
def test_bad_dates_are_refused_with_a_reason_key(text: str, locale: str, reason: ParseReason) -> None:
    with pytest.raises(ParseError) as caught:
        parse_date(text, locale)
    assert caught.value.reason is reason


def test_the_solar_hijri_leap_day_is_a_date() -> None:
    assert parse_date("۱۴۰۳/۱۲/۳۰", "fa") == date(2025, 3, 20)
    assert parse_date("1403/01/01", "fa") == date(2024, 3, 20)  # Nowruz 1403


def test_plain_en_reads_numeric_dates_only_when_the_order_cannot_matter() -> None:
    assert parse_date("13/03/2026", "en") == date(2026, 3, 13)
    assert parse_date("03/13/2026", "en") == date(2026, 3, 13)
    assert parse_date("03/03/2026", "en") == date(2026, 3, 3)
    assert parse_date("05/03/2026", "en_US") == date(2026, 5, 3)  # a region settles it
    assert parse_date("05/03/2026", "en_GB") == date(2026, 3, 5)


DATES = st.dates(min_value=EARLIEST_DATE, max_value=LATEST_DATE)  # the dates a ledger holds


@settings(max_examples=300, deadline=None)
@given(day=DATES, locale=st.sampled_from([loc for loc in LOCALES if loc != "en"]))
def test_formatting_then_parsing_a_date_round_trips(day: date, locale: str) -> None:
    """Both the short numeric form and the form reminders print are read back as the same date."""
    assert parse_date(format_short_date(day, locale), locale) == day
    assert parse_date(format_date(day, locale), locale) == day
    assert parse_date(day.isoformat(), locale) == day


@settings(max_examples=200, deadline=None)
@given(day=DATES)
def test_plain_en_round_trips_or_asks_which_order(day: date) -> None:
    assert parse_date(format_date(day, "en"), "en") == day  # "Jul 31, 2026" is never ambiguous
    try:
        assert parse_date(format_short_date(day, "en"), "en") == day
    except ParseError as exc:
        assert exc.reason is ParseReason.AMBIGUOUS
        assert day.day <= 12 and day.month != day.day


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40), locale=st.sampled_from([*LOCALES, "", "xx", "ar"]))
def test_random_text_is_a_date_or_a_parse_error(text: str, locale: str) -> None:
    try:
        parse_date(text, locale)
    except ParseError as exc:
        assert isinstance(exc.reason, ParseReason)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="0123456789/-. ۰۱۲۳۴۵۶۷۸۹", max_size=14), locale=st.sampled_from(LOCALES))
def test_date_like_text_is_a_date_or_a_parse_error(text: str, locale: str) -> None:
    try:
        parse_date(text, locale)
    except ParseError:
        pass


def test_a_payment_date_may_not_be_in_the_debtors_future() -> None:
    today = date(2026, 7, 31)
    assert not_in_future(today, today) == today
    assert not_in_future(today - timedelta(days=400), today) == today - timedelta(days=400)
    with pytest.raises(ParseError) as caught:
        not_in_future(today + timedelta(days=1), today)
    assert caught.value.reason is ParseReason.FUTURE
