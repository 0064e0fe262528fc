"""Each CSV column's one rule: what it takes, what it makes of it, and what it refuses (and says why)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import csv_columns as col
from bot.domain.csv_columns import Refused
from bot.domain.ledger import DOCUMENT_TYPES


def refused(rule, raw: str) -> str:  # noqa: ANN001
    with pytest.raises(Refused) as exc:
        rule(raw)
    return str(exc.value)


# --- refs, names, free text -------------------------------------------------------------------------


def test_ref_is_trimmed_and_at_most_64_characters() -> None:
    rule = col.ref("doc_ref")
    assert rule("  INV-1 ") == "INV-1"
    assert rule("R" * 64) == "R" * 64
    assert "longer than 64" in refused(rule, "R" * 65)
    assert refused(rule, "   ") == "doc_ref is empty"


@pytest.mark.parametrize(
    ("char", "code"),
    [("\x00", "U+0000"), ("\n", "U+000A"), ("\t", "U+0009"), ("\x1b", "U+001B"),
     ("\u202e", "U+202E"), ("\u2066", "U+2066")],  # a bidi override or isolate reverses the line it is shown in
)
def test_control_characters_are_refused_in_every_text_column(char: str, code: str) -> None:
    for rule in (col.ref("customer_ref"), col.text("name", col.MAX_NAME, required=True), col.text("method", 255)):
        assert f"control character ({code})" in refused(rule, f"ab{char}cd")
    assert f"control character ({code})" in refused(col.aliases, f"A|b{char}c")
    assert f"control character ({code})" in refused(col.allocations, f"IN{char}V:1.00")


def test_names_keep_what_a_reader_writes() -> None:
    name = col.text("name", col.MAX_NAME, required=True)
    assert name("شرکت\u200cپارس") == "شرکت\u200cپارس"  # a zero-width non-joiner is Persian spelling
    assert name("Café\u00a0Zürich") == "Café\u00a0Zürich"
    assert name("N" * 255) == "N" * 255
    assert "longer than 255" in refused(name, "N" * 256)
    assert refused(name, "") == "name is empty"


def test_long_values_are_cut_in_the_reason() -> None:
    reason = refused(col.text("name", col.MAX_NAME), "x" * 10_000)
    assert len(reason) < 120 and "…" in reason


def test_free_text_is_bounded_by_its_column() -> None:
    assert col.text("method", col.MAX_TEXT)("") == ""
    assert "longer than 255" in refused(col.text("method", col.MAX_TEXT), "m" * 256)
    assert "longer than 32" in refused(col.text("sales_rep_slack_id", col.MAX_SLACK_ID), "U" * 33)


def test_aliases_are_trimmed_bounded_each_and_together() -> None:
    assert col.aliases(" ACME Corp | |Acme ") == "ACME Corp|Acme"
    assert col.aliases("") == ""
    assert "longer than 255" in refused(col.aliases, "a|" + "b" * 256)
    assert "1024" in refused(col.aliases, "|".join(["a" * 200] * 6))


# --- amounts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("10", 1000),
        ("10.5", 1050),
        (" 7.25 ", 725),
        ("2.675", 268),
        ("0.005", 1),
        ("999999999999.99", col.MAX_CENTS),
        ("0000999999999999.99", col.MAX_CENTS),
        ("１２.５０", 1250),
    ],
)
def test_amount_reads_cents_half_up(raw: str, cents: int) -> None:
    assert col.amount("amount")(raw) == cents


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1000000000000.00", "over the limit of 999999999999.99"),
        ("99999999999999999999.99", "over the limit"),
        ("999999999999.995", "over the limit"),
        ("9" * 5000, "over the limit"),
        ("-12.50", "negative"),
        ("12,50", "decimal comma"),
        ("1.234,56", "decimal comma"),
        ("1e3", "not an amount"),
        ("²", "not an amount"),
        ("0.00", "more than zero"),
        ("0.004", "more than zero"),
        ("", "amount is empty"),
    ],
)
def test_amount_refusals(raw: str, reason: str) -> None:
    assert reason in refused(col.amount("amount"), raw)


def test_credit_limit_may_be_empty_or_zero() -> None:
    rule = col.amount("credit_limit", optional=True, allow_zero=True)
    assert rule("") is None and rule("0") == 0 and rule("5000.00") == 500000
    assert "over the limit" in refused(rule, "1000000000000")


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**15), st.integers(0, 4))
def test_amount_is_decimal_half_up_within_the_limit(digits: int, places: int) -> None:
    value = Decimal(digits).scaleb(-places)
    text = format(value, "f")
    cents = int(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    if 0 < cents <= col.MAX_CENTS:
        assert col.amount("amount")(text) == cents
    else:
        refused(col.amount("amount"), text)


# --- dates and days ---------------------------------------------------------------------------------


def test_dates_are_iso_within_the_accepted_range() -> None:
    rule = col.day("issue_date")
    assert rule(" 2026-01-31 ") == "2026-01-31"
    assert rule(str(col.EARLIEST_DATE)) == "1900-01-01" and rule(str(col.LATEST_DATE)) == "2199-12-31"
    for raw in ("0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"):
        assert "outside the accepted range 1900-01-01 to 2199-12-31" in refused(rule, raw)
    for raw in ("2026-13-01", "20260131", "2026-W05-1", "31/01/2026", "２０２６-01-31"):
        assert "is not a date like 2026-01-31" in refused(rule, raw)
    assert col.day("due_date", optional=True)("") is None


def test_payment_terms_are_ascii_whole_days_up_to_ten_years() -> None:
    rule = col.payment_terms(30)
    assert rule("") == 30 and rule("0") == 0 and rule("3650") == 3650
    for raw in ("3²", "٣", "3651", "-1", "1.5", "30d"):
        assert "payment_terms_days" in refused(rule, raw)


# --- coded values, in any case ----------------------------------------------------------------------


def test_codes_are_matched_in_any_case() -> None:
    assert col.currency(" gbp") == "GBP"
    assert col.country("pt") == "PT" and col.country("") == ""
    kinds = col.one_of("type", DOCUMENT_TYPES)
    assert kinds("Invoice") == "invoice" and kinds("CREDIT_NOTE") == "credit_note"
    assert col.segment({"default", "strategic"})("Default") == "default"
    assert col.locale("en")("PT") == "pt" and col.locale("en")("pt-br") == "pt-BR" and col.locale("en")("") == "en"
    assert col.timezone("UTC")("europe/madrid") == "Europe/Madrid" and col.timezone("Asia/Tehran")("") == "Asia/Tehran"


def test_codes_that_are_not_codes_are_refused() -> None:
    assert "3-letter ISO code" in refused(col.currency, "EURO")
    assert "alpha-2" in refused(col.country, "ESP")
    assert "not one of credit_note, debit_note, invoice, withholding" in refused(
        col.one_of("type", DOCUMENT_TYPES), "bill"
    )
    assert "is not supported" in refused(col.locale("en"), "de")
    assert "IANA time zone" in refused(col.timezone("UTC"), "Mars/Base")


def test_unknown_segment_names_the_policys_segments() -> None:
    reason = refused(col.segment({"default", "government", "strategic"}), "gold")
    assert reason == "segment 'gold' is not in the dunning policy (its segments: default, government, strategic)"
    assert col.segment({"default"})("") == "default"


# --- applies_to ---------------------------------------------------------------------------------------


def test_allocations_read_each_part() -> None:
    assert col.allocations("INV-1:100.00|INV-2:50") == (("INV-1", 10000), ("INV-2", 5000))
    assert col.allocations(" INV-1 : 1.005 ") == (("INV-1", 101),)
    assert col.allocations("") == ()
    assert "twice" in refused(col.allocations, "INV-1:1|INV-1:2")
    assert "not like INV-1:100.00" in refused(col.allocations, "INV-1")
    assert "over the limit" in refused(col.allocations, "INV-1:99999999999999999999.99")
    assert "longer than 64" in refused(col.allocations, "I" * 65 + ":1.00")


PART = st.text(alphabet=["I", "N", "V", "-", "1", " ", ":", ".", "0", "5", "²", "\x00"], max_size=12)


@settings(max_examples=400, deadline=None)
@given(PART)
def test_one_part_reads_as_the_same_part_among_others(part: str) -> None:
    """The shortcut for a single plainly written part reads it as the general loop does."""

    def outcome(raw: str) -> object:
        try:
            return col.allocations(raw)
        except Refused as exc:
            return str(exc)

    assert outcome(part) == outcome(part + "|")
