"""The batch parsers read every line exactly as the line-by-line parse_* functions do.

The batch parsers have a fast path for plainly written lines and hand every other line to
parse_customer / parse_document / parse_payment. These tests run both over lines drawn
from plain, oddly written and wrong values, and ask for the same rows or the same
`line N: reason`, whichever path each line took.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain import csv_rows as r
from bot.domain.csv_rows import CustomerDefaults, CustomerInfo, DocInfo, RowError
from bot.domain.money import parse_csv_amount, plain_cents

CUSTOMERS = {"C1": CustomerInfo(1, "USD", 30), "C2": CustomerInfo(2, "EUR", 0), "C 3": CustomerInfo(3, "EUR", 45)}
LEDGER = {
    "OLD-1": DocInfo("C1", "invoice", "USD"),
    "OLD-2": DocInfo("C2", "invoice", "EUR"),
    "OLD-CN": DocInfo("C1", "credit_note", "USD"),
}
DEFAULTS = CustomerDefaults(segments=frozenset({"default", "gold"}), timezone="Europe/Madrid", payment_terms_days=21)
OFFSET = -3

# (values a column takes, oddly written ones included; values it refuses)
REFS = (["INV-1", "INV-2", "INV-3", "INV-4", "INV-5", "CN-1", "CN-2", " INV-1", "INV-2 "], ["", "  "])
CREFS = (["C1", "C2", "C 3", " C1", "C2 "], ["NOPE", ""])
KINDS = (["invoice", "credit_note", "debit_note", "withholding", "Invoice", " CREDIT_NOTE"], ["bogus", ""])
DATES = (["2026-01-31", "2026-02-01", "2025-12-31", " 2026-01-31", "2026-W05-1"], ["2026-13-01", "20260131", ""])
DUE_DATES = (["", "", "", *DATES[0]], DATES[1][:-1])
AMOUNTS = (
    ["10.00", "10.5", "10", "007.10", "1.005", "2.675", " 7.25", "１２.５０", "٣.٥٠", "99999999999.99"],
    ["0.00", "0", "-1.00", "1e3", ".50", "5.", "1_000.00", "²", "1.2.3", "", "12,50"],
)
CURRENCIES = (["USD", "EUR", "eur", " USD"], ["EURO", "E1R", ""])
RELATED = (["", "", "", "INV-1", " INV-2", "OLD-1", "OLD-2", "CN-1"], ["OLD-CN", "NOWHERE"])


def fields(*pools: tuple[list[str], list[str]], bad: int = 3) -> st.SearchStrategy[list[str]]:
    """One line's fields: from each pool a value the column takes, or one in `bad` % of cases it refuses."""

    def pick(pool: tuple[list[str], list[str]]) -> st.SearchStrategy[str]:
        good, wrong = pool
        return st.integers(0, 99).flatmap(lambda n: st.sampled_from(wrong if n < bad and wrong else good))

    return st.tuples(*(pick(p) for p in pools)).map(list)


def records(row: st.SearchStrategy[list[str]], size: int = 8) -> st.SearchStrategy[list[r.Record]]:
    """Lines as the importer hands them over: increasing line numbers, now and then a blank
    line, a line of spaces and separators, or a line with a field too many or too few."""
    odd = st.sampled_from([[], [""], ["", " ", ""], ["x", "y"]])
    line = st.one_of(*[row] * 12, row.map(lambda f: [*f, ""]), row.map(lambda f: f[:-1]), odd)
    return st.lists(line, max_size=size).map(lambda rows: [(n, f) for n, f in enumerate(rows, start=2)])


def outcome(parse):  # noqa: ANN001, ANN201
    try:
        return parse()
    except RowError as exc:
        return str(exc)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def stripped(line: int, raw: list[str], columns: tuple[str, ...]) -> dict[str, str] | None:
    """What the importer did with a line before batch parsing."""
    values = [f.strip() for f in raw]
    if not any(values):
        return None
    if len(values) != len(columns):
        raise RowError(line, f"expected {len(columns)} fields, found {len(values)}")
    return dict(zip(columns, values, strict=True))


def reference_documents(recs: list[r.Record]) -> list[tuple]:
    seen: dict = {}
    out = []
    for line, raw in recs:
        row = stripped(line, raw, r.DOCUMENT_COLUMNS)
        if row is None:
            continue
        rec = r.parse_document(line, row, CUSTOMERS)
        if r.dedupe(line, rec["ref"], rec, seen):
            out.append((line, rec))
    in_file = {rec["ref"]: DocInfo(rec["customer_ref"], rec["type"], rec["currency"]) for _, rec in out}
    known = LEDGER | in_file
    rows = []
    for line, rec in out:
        r.check_related(line, rec, known.get(rec["related_ref"]) if rec["related_ref"] else None)
        due = rec["due_date"]
        after = due + timedelta(days=OFFSET) if due else None
        rows.append((line, rec["ref"], rec["customer_id"], rec["type"], _iso(rec["issue_date"]), _iso(due)))
        rows[-1] += (rec["amount_cents"], rec["currency"], rec["related_ref"], _iso(after))
    return rows


def batch_documents(recs: list[r.Record]) -> list[tuple]:
    docs = r.parse_documents(iter(recs), CUSTOMERS, OFFSET)
    assert r.related_refs(docs) <= {row[7] for row in docs.rows}
    r.check_related_documents(docs, {k: v for k, v in LEDGER.items() if k in r.related_refs(docs)}, CUSTOMERS)
    return [(line, *row) for line, row in zip(docs.lines, docs.rows, strict=True)]


DOCUMENT_POOLS = (REFS, CREFS, KINDS, DATES, DUE_DATES, AMOUNTS, CURRENCIES, RELATED)


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(records(fields(*DOCUMENT_POOLS)))
def test_documents_read_as_parse_document_reads_them(recs: list[r.Record]) -> None:
    assert outcome(lambda: batch_documents(recs)) == outcome(lambda: reference_documents(recs))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(records(fields(*DOCUMENT_POOLS, bad=30), size=4))
def test_documents_refused_for_the_same_first_reason(recs: list[r.Record]) -> None:
    assert outcome(lambda: batch_documents(recs)) == outcome(lambda: reference_documents(recs))


@settings(max_examples=300)
@given(
    st.lists(
        fields(
            (["INV-1", "INV-2", "INV-3"], []),
            (["C1", "C2"], []),
            (["invoice", "credit_note"], []),
            (["2026-01-31"], []),
            (["", "2026-03-01"], []),
            (["10.00", "11.00"], []),
            (["USD", "EUR"], []),
            (["", "", "INV-1", "OLD-1"], []),
            bad=0,
        ),
        max_size=6,
    )
)
def test_documents_plainly_written_agree_too(rows: list[list[str]]) -> None:
    """Mostly valid files, so that the related-document and repeat checks get their turn."""
    recs = [(n, f) for n, f in enumerate(rows, start=2)]
    assert outcome(lambda: batch_documents(recs)) == outcome(lambda: reference_documents(recs))


def reference_customers(recs: list[r.Record]) -> list[tuple]:
    seen: dict = {}
    out = []
    for line, raw in recs:
        row = stripped(line, raw, r.CUSTOMER_COLUMNS)
        if row is None:
            continue
        rec = r.parse_customer(line, row, DEFAULTS)
        if r.dedupe(line, rec["ref"], rec, seen):
            out.append((line, *(rec[f] for f in r.CUSTOMER_FIELDS)))
    return out


def batch_customers(recs: list[r.Record]) -> list[tuple]:
    batch = r.parse_customers(iter(recs), DEFAULTS)
    return [(line, *row) for line, row in zip(batch.lines, batch.rows, strict=True)]


CUSTOMER_POOLS = (
    (["C1", "C2", "C3", "C4", "C5", "C6", " C1"], [""]),
    (["Acme", " Acme Ltd ", "Ünïcode, S.A."], [""]),
    (["", "default", "gold", " gold"], ["silver"]),
    (["USD", "eur", " EUR"], ["EURO", ""]),
    (["", "1000.00", "0", "0.00", "1.005", " 2.50", "٣.٥٠"], ["-5", "x"]),
    (["", "30", "0", "045", "3650", " 30"], ["3651", "-1", "x"]),
    (["", "en", "es-MX", "pt_BR", "fa", " es"], ["de", "EN", "e"]),
    (["", "UTC", "Europe/Madrid", " America/Bogota"], ["Mars/Base"]),
    (["", "es", "ES", " us"], ["ESP", "1A"]),
    (["", "U0SALES1", " U0SALES2 "], []),
    (["", "Acme Corp|ACME", " a | | b ", "|", "  "], []),
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(records(fields(*CUSTOMER_POOLS)))
def test_customers_read_as_parse_customer_reads_them(recs: list[r.Record]) -> None:
    assert outcome(lambda: batch_customers(recs)) == outcome(lambda: reference_customers(recs))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(records(fields(*CUSTOMER_POOLS, bad=30), size=4))
def test_customers_refused_for_the_same_first_reason(recs: list[r.Record]) -> None:
    assert outcome(lambda: batch_customers(recs)) == outcome(lambda: reference_customers(recs))


def reference_payments(recs: list[r.Record]) -> list[tuple]:
    seen: dict = {}
    out = []
    for line, raw in recs:
        row = stripped(line, raw, r.PAYMENT_COLUMNS)
        if row is None:
            continue
        rec = r.parse_payment(line, row, CUSTOMERS)
        if r.dedupe(line, rec["ref"], rec, seen):
            out.append((line, rec))
    rows = []
    for line, rec in out:
        r.check_allocation_targets(line, rec, LEDGER)
        rows.append((line, rec["ref"], rec["customer_id"], _iso(rec["date"]), rec["amount_cents"], rec["currency"]))
        rows[-1] += (rec["method"], tuple(rec["allocations"]))
    return rows


def batch_payments(recs: list[r.Record]) -> list[tuple]:
    batch = r.parse_payments(iter(recs), CUSTOMERS)
    r.check_payment_targets(batch, {k: v for k, v in LEDGER.items() if k in r.allocation_refs(batch)}, CUSTOMERS)
    rows = zip(batch.lines, batch.rows, batch.allocations, strict=True)
    return [(line, *row, allocations) for line, row, allocations in rows]


PAYMENT_POOLS = (
    (["PAY-1", "PAY-2", "PAY-3", "PAY-4", "PAY-5", " PAY-1"], [""]),
    (["C1", "C2", " C2"], ["NOPE"]),
    DATES,
    (["10.00", "5", "0.50", "10.005", "٣.٥٠"], ["0", "-1", "x"]),
    CURRENCIES,
    (["", "wire", " pix "], []),
    (
        ["", "", "OLD-1:10.00", "OLD-1:5|OLD-2:5", " OLD-1 : 5.00", "|OLD-1:1", "OLD-1:1|", "  ", "OLD-1:1.005"],
        ["OLD-1:1|OLD-1:1", "OLD-1:", ":5", "OLD-1:0", "OLD-1:10.01", "OLD-CN:1.00", "NOWHERE:1.00", "OLD:1:1.00"],
    ),
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(records(fields(*PAYMENT_POOLS)))
def test_payments_read_as_parse_payment_reads_them(recs: list[r.Record]) -> None:
    assert outcome(lambda: batch_payments(recs)) == outcome(lambda: reference_payments(recs))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(records(fields(*PAYMENT_POOLS, bad=30), size=4))
def test_payments_refused_for_the_same_first_reason(recs: list[r.Record]) -> None:
    assert outcome(lambda: batch_payments(recs)) == outcome(lambda: reference_payments(recs))


@pytest.mark.parametrize("text", ["0", "1", "10", "10.5", "10.50", "007.10", "0.01", "99999999999999999.99"])
def test_plain_cents_reads_plain_amounts_as_parse_csv_amount(text: str) -> None:
    assert plain_cents(text) == parse_csv_amount(text, allow_zero=True)


@pytest.mark.parametrize("text", ["", ".5", "5.", "1.005", "-1", "+1", " 1", "1e3", "1_0", "١٢", "²", "1.2.3", "1,5"])
def test_plain_cents_leaves_anything_else_to_parse_csv_amount(text: str) -> None:
    assert plain_cents(text) is None


KINDS_OF_LINES = {
    "documents": (DOCUMENT_POOLS, batch_documents, reference_documents),
    "customers": (CUSTOMER_POOLS, batch_customers, reference_customers),
    "payments": (PAYMENT_POOLS, batch_payments, reference_payments),
}
ONE_VALUE = [
    (kind, column, value)
    for kind, (pools, _, _) in KINDS_OF_LINES.items()
    for column, (good, wrong) in enumerate(pools)
    for value in good + wrong
]


@pytest.mark.parametrize(("kind", "column", "value"), ONE_VALUE)
def test_each_value_alone_in_a_plain_line(kind: str, column: int, value: str) -> None:
    """Each value, oddly written or refused, in a line otherwise plain: same row or same reason."""
    pools, batch, reference = KINDS_OF_LINES[kind]
    line = [good[0] for good, _ in pools]
    line[column] = value
    recs = [(2, line)]
    assert outcome(lambda: batch(recs)) == outcome(lambda: reference(recs))
