"""Persian readers get Solar Hijri dates and Persian digits; other locales are unchanged.

Issue 11 item 1.7: fa reminders said "31 ژوئیه 2026" (a Gregorian month transliterated,
Latin digits). 2026-07-31 is 9 Mordad 1405: Nowruz 1405 fell on 2026-03-21, and
Farvardin to Shahrivar have 31 days each, so Mordad 1 is 2026-07-23.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from messages import render
from messages.formatting import format_date, format_money, format_number, format_short_date

ASCII_DIGIT = re.compile(r"[0-9]")


@pytest.mark.parametrize(
    ("day", "persian"),
    [
        (dt.date(2026, 7, 31), "۹ مرداد ۱۴۰۵"),
        (dt.date(2026, 7, 23), "۱ مرداد ۱۴۰۵"),
        (dt.date(2026, 3, 21), "۱ فروردین ۱۴۰۵"),  # Nowruz
        (dt.date(2026, 3, 20), "۲۹ اسفند ۱۴۰۴"),
        (dt.date(2025, 3, 20), "۳۰ اسفند ۱۴۰۳"),  # the leap day of 1403
        (dt.date(2026, 12, 31), "۱۰ دی ۱۴۰۵"),
    ],
)
def test_fa_dates_are_solar_hijri_in_persian_digits(day: dt.date, persian: str) -> None:
    assert format_date(day, "fa") == persian
    assert format_date(day, "fa_IR") == persian
    assert format_date(day, "fa-IR") == persian


def test_fa_short_dates_are_solar_hijri_year_first() -> None:
    assert format_short_date(dt.date(2026, 7, 31), "fa") == "۱۴۰۵/۰۵/۰۹"


def test_other_locales_keep_their_gregorian_dates() -> None:
    day = dt.date(2026, 7, 31)
    assert format_date(day, "en") == "Jul 31, 2026"
    assert format_date(day, "pt") == "31 de jul. de 2026"
    assert format_date(day, "es") == "31 jul 2026"


def test_the_ends_of_the_calendar_still_format() -> None:
    # Past the Solar Hijri converter's years the Gregorian date is given, in Persian digits.
    assert format_date(dt.date.max, "fa") == "۳۱ دسامبر ۹۹۹۹"
    assert not ASCII_DIGIT.search(format_date(dt.date(1, 1, 1), "fa"))
    assert format_short_date(dt.date.max, "fa") == "۹۹۹۹-۱۲-۳۱"


def test_fa_amounts_use_persian_digits_and_separators() -> None:
    assert format_money(123456, "EUR", "fa") == "\u200e€\u00a0۱٬۲۳۴٫۵۶"
    assert format_money(50000000, "IRR", "fa") == "\u200eریال\u00a0۵۰۰٬۰۰۰"  # the rial shows no decimals
    assert format_money(50000050, "IRR", "fa") == "\u200eریال\u00a0۵۰۰٬۰۰۰٫۵۰"  # ... unless it has cents
    assert format_number(1234, "fa") == "۱٬۲۳۴"
    for cents in (1, 99, 100, 123456, 99999999999999):
        assert not ASCII_DIGIT.search(format_money(cents, "USD", "fa"))


def test_other_locales_keep_their_digits_and_never_round_cents_away() -> None:
    assert format_money(123456, "USD", "en") == "$1,234.56"
    assert format_money(123456, "BRL", "pt_BR") == "R$\u00a01.234,56"
    assert format_money(123400, "JPY", "en") == "¥1,234"
    assert format_money(123456, "JPY", "en") == "¥1,234.56"  # not ¥1,235: the ledger holds cents
    assert format_number(1234, "en") == "1,234"


def _reminder_ctx() -> dict:
    return {
        "customer": {"ref": "C-7", "name": "شرکت نمونه"},
        "contact_name": "",
        "tone": "first",
        "items": [
            {
                "doc_ref": "INV-7",
                "due_date": dt.date(2026, 7, 31),
                "open_cents": 1234500,
                "currency": "IRR",
                "days_overdue": 10,
                "fee_cents": 12345,
                "interest_cents": None,
                "payment_link": None,
                "discount": {"cents": 2000, "until": dt.date(2026, 7, 20)},
            }
        ],
        "totals": [{"currency": "IRR", "open_cents": 1234500}],
        "company_name": "شرکت ما",
    }


@pytest.mark.parametrize("template", ["first", "second", "final", "formal_notice", "due", "pre_due", "gentle"])
def test_fa_reminders_show_solar_hijri_dates_and_persian_numbers(template: str) -> None:
    text = render(f"reminder/{template}", "fa", **_reminder_ctx())
    assert "۹ مرداد ۱۴۰۵" in text
    assert "ژوئیه" not in text and "2026" not in text
    assert "۱۲٬۳۴۵" in text  # the open amount, 12,345 rials
    assert not ASCII_DIGIT.search(text.replace("INV-7", "")), text  # refs stay as the invoice says


def test_fa_instalment_reminder_counts_in_persian() -> None:
    ctx = {
        "customer": {"ref": "C-7", "name": "شرکت نمونه"},
        "contact_name": "",
        "company_name": "شرکت ما",
        "installment": {"plan_id": 7, "seq": 2, "count": 6, "due_date": dt.date(2026, 7, 31),
                        "amount_cents": 150000, "currency": "IRR"},
    }
    text = render("reminder/installment", "fa", **ctx)
    assert "قسط ۲ از ۶" in text
    assert "۹ مرداد ۱۴۰۵" in text
    assert "۱٬۵۰۰" in text
