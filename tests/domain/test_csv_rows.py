"""Whole files through the one loop of column rules: rows made, every bad line listed, headers in any case."""

from __future__ import annotations

import pytest

from bot.domain import csv_rows as r
from bot.domain.csv_rows import CustomerDefaults, CustomerInfo, DocInfo, RowError, RowErrors

CUSTOMERS = {"C1": CustomerInfo(1, "USD", 30), "C2": CustomerInfo(2, "EUR", 10)}
DEFAULTS = CustomerDefaults(segments=frozenset({"default", "strategic"}), timezone="Europe/Madrid")


def read(rules: r.FileRules, *lines: list[str]) -> tuple[r.Batch, RowErrors]:
    errors = RowErrors()
    return r.read_rows(list(enumerate(lines, start=2)), rules, errors), errors


def docs(*lines: str) -> tuple[r.Batch, RowErrors]:
    return read(r.document_rules(CUSTOMERS, -3), *(line.split(",") for line in lines))


def test_documents_become_rows_with_due_dates_and_next_actions() -> None:
    batch, errors = docs(
        "INV-1,C1,Invoice,2026-01-10,,10.00,usd,",
        "INV-2,C2,invoice,2026-01-10,2026-03-01,20.5,EUR,",
        "CN-1,C1,CREDIT_NOTE,2026-01-12,,1.00,USD,INV-1",
    )
    assert not errors
    assert batch.rows == [
        ("INV-1", 1, "invoice", "2026-01-10", "2026-02-09", 1000, "USD", None, "2026-02-06"),
        ("INV-2", 2, "invoice", "2026-01-10", "2026-03-01", 2050, "EUR", None, "2026-02-26"),
        ("CN-1", 1, "credit_note", "2026-01-12", None, 100, "USD", "INV-1", None),
    ]
    assert batch.lines == [2, 3, 4]


def test_a_due_date_on_a_credit_note_is_ignored_whatever_it_says() -> None:
    batch, errors = docs(
        "CN-1,C1,credit_note,2026-01-12,not a date,1.00,USD,", "WH-1,C1,withholding,2026-01-12,2025-01-01,1,USD,"
    )
    assert not errors and [row[4] for row in batch.rows] == [None, None]
    _, errors = docs(
        "INV-1,C1,invoice,2026-01-12,not a date,1.00,USD,", "INV-2,C1,debit_note,2026-01-12,2026-01-11,1,USD,"
    )
    assert errors.lines() == [
        "line 2: due_date 'not a date' is not a date like 2026-01-31",
        "line 3: due_date 2026-01-11 is before issue_date 2026-01-12",
    ]


def test_every_bad_line_is_listed_with_every_fault_and_nothing_kept_from_it() -> None:
    batch, errors = docs(
        "INV-1,C1,invoice,2026-01-10,,10.00,USD,",
        "INV-2,NOPE,bill,2026-13-01,,-1,EURO,",
        "",
        "INV-3,C1,invoice",
        "INV-4,C1,invoice,0001-01-01,,99999999999999999999.99,USD,",
        "INV-5,C1,invoice,2026-01-10,,1.00,USD,",
    )
    assert errors.lines() == [
        "line 3: unknown customer 'NOPE' (import customers first); "
        "type 'bill' is not one of credit_note, debit_note, invoice, withholding; "
        "issue_date '2026-13-01' is not a date like 2026-01-31; amount '-1' is negative; "
        "currency 'EURO' is not a 3-letter ISO code like EUR",
        "line 5: expected 8 fields, found 3",
        "line 6: issue_date 0001-01-01 is outside the accepted range 1900-01-01 to 2199-12-31; "
        "amount '99999999999999999999.99' is over the limit of 999999999999.99",
    ]
    assert [row[0] for row in batch.rows] == ["INV-1", "INV-5"]


def test_the_first_20_bad_lines_are_kept_earliest_first_and_all_are_counted() -> None:
    errors = RowErrors()
    for line in [*range(40, 10, -1), 5, 99]:
        errors.add(line, "bad")
    assert [n for n, _ in errors.first] == [5, *range(11, 30)]
    assert errors.count == 32


def test_a_ref_repeated_identically_is_dropped_and_differently_refused() -> None:
    batch, errors = docs(
        "INV-1,C1,invoice,2026-01-10,,10.00,USD,",
        " INV-1 ,C1,INVOICE,2026-01-10,,10,usd,",
        "INV-1,C1,invoice,2026-01-10,,11.00,USD,",
    )
    assert len(batch) == 1
    assert errors.lines() == ["line 4: 'INV-1' appears again with different content (first on line 2)"]


def test_customers_take_defaults_and_codes_in_any_case() -> None:
    fields = ["C9", "Nine", "Strategic", "gbp", "", "", "PT", "", "es", "", " A | B "]
    batch, errors = read(r.customer_rules(DEFAULTS), fields)
    assert not errors
    assert batch.rows == [("C9", "Nine", "strategic", "GBP", None, 30, "pt", "Europe/Madrid", "ES", "", "A|B")]


def test_payments_carry_their_applies_to_and_may_not_allocate_more_than_they_are() -> None:
    rules = r.payment_rules(CUSTOMERS)
    batch, errors = read(
        rules,
        "P1,C1,2026-02-01,10.00,usd,Wire,INV-1:4|INV-2:6".split(","),
        "P2,C1,2026-02-01,10.00,USD,,INV-1:10.01".split(","),
    )
    assert batch.rows == [("P1", 1, "2026-02-01", 1000, "USD", "Wire", (("INV-1", 400), ("INV-2", 600)))]
    assert errors.lines() == ["line 3: applies_to amounts add up to more than the payment"]


def test_targets_and_related_documents_are_checked_against_file_and_ledger() -> None:
    ledger = {"OLD-1": DocInfo(2, "invoice", "EUR"), "OLD-CN": DocInfo(1, "credit_note", "USD")}
    batch, errors = docs(
        "INV-1,C1,invoice,2026-01-10,,10.00,USD,",
        "CN-1,C1,credit_note,2026-01-12,,1.00,USD,INV-1",
        "CN-2,C1,credit_note,2026-01-12,,1.00,USD,OLD-1",
        "CN-3,C1,credit_note,2026-01-12,,1.00,USD,OLD-CN",
        "CN-4,C1,credit_note,2026-01-12,,1.00,EUR,INV-1",
        "CN-5,C1,credit_note,2026-01-12,,1.00,USD,NOWHERE",
    )
    r.check_related_documents(batch, ledger, CUSTOMERS, errors)
    assert errors.lines() == [
        "line 4: related document 'OLD-1' belongs to customer 'C2'",
        "line 5: related document 'OLD-CN' is a credit_note, not an invoice or debit note",
        "line 6: currency EUR does not match 'INV-1' in USD",
        "line 7: unknown related document 'NOWHERE'",
    ]
    pays, errors = read(r.payment_rules(CUSTOMERS), "P1,C1,2026-02-01,5,USD,,OLD-1:1|OLD-CN:1|NEW:1".split(","))
    r.check_payment_targets(pays, ledger, CUSTOMERS, errors)
    assert errors.lines() == [
        "line 2: applies_to document 'OLD-1' belongs to customer 'C2'; applies_to document 'OLD-CN' is a "
        "credit_note, not an invoice or debit note; applies_to names unknown document 'NEW'"
    ]


@pytest.mark.parametrize(
    "header",
    [r.DOCUMENT_COLUMNS, [c.upper() for c in r.DOCUMENT_COLUMNS], [f" {c.title()} " for c in r.DOCUMENT_COLUMNS[::-1]]],
)
def test_header_names_in_any_case_and_order(header: list[str]) -> None:
    order = r.check_header(list(header), r.DOCUMENT_COLUMNS)
    assert [header[i].strip().casefold() for i in order] == list(r.DOCUMENT_COLUMNS)


def test_header_faults_are_refused_on_line_1() -> None:
    with pytest.raises(RowError, match="line 1: missing column.s.: related_doc_ref"):
        r.check_header(list(r.DOCUMENT_COLUMNS[:-1]), r.DOCUMENT_COLUMNS)
    with pytest.raises(RowError, match="line 1: unexpected column.s.: 'note'"):
        r.check_header([*r.DOCUMENT_COLUMNS, "note"], r.DOCUMENT_COLUMNS)
    with pytest.raises(RowError, match="appears twice"):
        r.check_header([*r.DOCUMENT_COLUMNS, "DOC_REF"], r.DOCUMENT_COLUMNS)
