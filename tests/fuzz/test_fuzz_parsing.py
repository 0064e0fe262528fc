"""Amounts and dates as debtors type them, in every locale: round trips, and nothing but ParseError.

tests/domain/test_parsing.py has the examples and the reminder round trips; these properties
add what a person types by hand: any grouping the locale allows, Persian and Arabic-Indic
digits, currency marks on either side, bidi marks and odd spaces, and any locale tag at all
(a Telegram language_code is the user's to set).
"""

from __future__ import annotations

from datetime import date

import jdatetime
from babel.numbers import get_currency_symbol, get_decimal_symbol, get_group_symbol
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.csv_columns import EARLIEST_DATE, LATEST_DATE
from bot.domain.parsing import MAX_CENTS, ParseError, ParseReason, parse_amount, parse_date
from tests.fuzz.profile import fuzz

LOCALES = ["en", "en_US", "en_GB", "en_IN", "es", "es_ES", "es_MX", "pt", "pt_BR", "pt_PT", "fa", "fa_IR"]
CURRENCIES = ["USD", "EUR", "BRL", "IRR", "GBP", "MXN"]
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Any tag at all: what Telegram sends, what an ERP writes, and junk.
ANY_LOCALE = st.one_of(st.sampled_from([*LOCALES, "", "xx", "ar", "pt-BR", "EN", "zh_Hant_TW", "@", "_", "-"]),
                       st.text(max_size=12))
ANY_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="0123456789.,٫٬ ۰۱۲۳۴۵۶۷۸۹٠١٢٣/-()$€R﷼ریال\u200e\u200f\u00a0\u202f", max_size=30),
)


def _is_refusal(exc: BaseException) -> bool:
    return isinstance(exc, ParseError) and isinstance(exc.reason, ParseReason) and str(exc) == exc.reason.value


@settings(fuzz())
@given(text=ANY_TEXT, locale=ANY_LOCALE,
       currency=st.one_of(st.none(), st.sampled_from(CURRENCIES), st.text(max_size=4)))
def test_any_text_in_any_locale_is_an_amount_in_range_or_a_parse_error(text: str, locale: str,
                                                                        currency: str | None) -> None:
    try:
        cents = parse_amount(text, locale, currency=currency)
    except ParseError as exc:
        assert _is_refusal(exc)
        return
    assert isinstance(cents, int) and 0 < cents <= MAX_CENTS


@settings(fuzz())
@given(text=ANY_TEXT, locale=ANY_LOCALE)
def test_any_text_in_any_locale_is_a_date_or_a_parse_error(text: str, locale: str) -> None:
    try:
        day = parse_date(text, locale)
    except ParseError as exc:
        assert _is_refusal(exc)
        return
    assert isinstance(day, date)


def _grouped(whole: int, group: str, lakhs: bool) -> str:
    digits = str(whole)
    if not group or len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if lakhs else 3
    parts = []
    while head:
        parts.insert(0, head[-size:])
        head = head[:-size]
    return group.join([*parts, tail])


@st.composite
def typed_amounts(draw: st.DrawFn) -> tuple[str, str, str, int]:
    """(text, locale, currency, cents): an amount written the locale's way, by hand."""
    locale = draw(st.sampled_from(LOCALES))
    currency = draw(st.sampled_from(CURRENCIES))
    cents = draw(st.one_of(st.integers(1, 10_000_00), st.integers(1, MAX_CENTS)))
    whole, fraction = divmod(cents, 100)
    decimal_mark = get_decimal_symbol(locale)
    group_mark = draw(st.sampled_from([get_group_symbol(locale), "", " "]))
    if group_mark in ("\u00a0", "\u202f"):
        group_mark = draw(st.sampled_from([group_mark, " "]))
    number = _grouped(whole, group_mark, lakhs=locale == "en_IN" and draw(st.booleans()))
    if fraction:
        number += decimal_mark + (f"{fraction:02d}" if fraction % 10 or draw(st.booleans()) else str(fraction // 10))
    elif draw(st.booleans()):
        number += decimal_mark + "00"
    if locale.startswith("fa"):
        number = number.translate(draw(st.sampled_from([PERSIAN, ARABIC_INDIC, str.maketrans("", "")])))
    mark = draw(st.sampled_from(["", currency, currency.lower(), get_currency_symbol(currency, locale)]))
    space = draw(st.sampled_from(["", " ", "\u00a0", "\u200e"]))
    text = draw(st.sampled_from([f"{mark}{space}{number}", f"{number}{space}{mark}"])) if mark else number
    pad = draw(st.sampled_from(["", " ", "  ", "\u200f"]))
    return pad + text + pad, locale, currency, cents


@settings(fuzz())
@given(case=typed_amounts())
def test_an_amount_typed_the_locales_way_reads_back_as_its_cents(case: tuple[str, str, str, int]) -> None:
    text, locale, currency, cents = case
    try:
        assert parse_amount(text, locale, currency=currency) == cents, text
    except ParseError as exc:
        # The one honest refusal: "1.234" where the locale writes "." as its decimal mark.
        assert exc.reason is ParseReason.AMBIGUOUS, (text, exc.reason)
        assert cents % 100 == 0 and 1000 <= cents // 100


DATES = st.dates(min_value=EARLIEST_DATE, max_value=LATEST_DATE)  # the dates a ledger holds


@settings(fuzz())
@given(day=DATES, locale=st.sampled_from(LOCALES), digits=st.sampled_from([PERSIAN, ARABIC_INDIC, None]),
       sep=st.sampled_from(["-", "/", "."]))
def test_a_date_typed_in_any_digits_reads_back(day: date, locale: str, digits: dict | None, sep: str) -> None:
    iso = day.isoformat()
    written = iso.translate(digits) if digits else iso
    assert parse_date(written, locale) == day, written
    if locale.startswith("fa"):  # Solar Hijri, year first, as a Persian reader writes it
        j = jdatetime.date.fromgregorian(date=day)
        solar = f"{j.year}{sep}{j.month}{sep}{j.day}"
        assert parse_date(solar.translate(digits) if digits else solar, locale) == day, solar
