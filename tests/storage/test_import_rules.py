"""What an import accepts and refuses is the same on every backend (DESIGN "Interfaces": CSV files).

Limits (refs 64, names 255, amounts 999,999,999,999.99), NUL bytes, dates out of range and
odd digits are refused with `line N: reason` and nothing written, on SQLite and PostgreSQL
alike; what is just inside the limits is stored as it was read. Every bad line is listed.
Separators, header and code case, and the new / changed / unchanged counts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bot.domain.csv_rows import CUSTOMER_COLUMNS, DOCUMENT_COLUMNS, PAYMENT_COLUMNS, CustomerDefaults
from bot.importer import ImportContext, ImportFailed, ImportResult, import_file
from storage.tables import Allocation, Customer, Document, Payment

HEADERS = {"customers": CUSTOMER_COLUMNS, "documents": DOCUMENT_COLUMNS, "payments": PAYMENT_COLUMNS}
CTX = ImportContext(
    CustomerDefaults(segments=frozenset({"default", "strategic"})),
    earliest_action_offset=-3,
    now=datetime(2026, 3, 1, tzinfo=UTC),
)
MAX = "999999999999.99"


def load(
    engine: Engine,
    tmp_path: Path,
    kind: str,
    *lines: str,
    sep: str = ",",
    dry_run: bool = False,
    header: str | None = None,
) -> ImportResult:
    path = tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}.csv"
    head = header if header is not None else sep.join(HEADERS[kind])
    path.write_bytes(("\n".join([head, *lines]) + "\n").encode("utf-8"))
    return import_file(engine, kind, path, CTX, dry_run=dry_run)


def refused(engine: Engine, tmp_path: Path, kind: str, *lines: str, **kw: str) -> list[str]:
    with pytest.raises(ImportFailed) as exc:
        load(engine, tmp_path, kind, *lines, **kw)
    return exc.value.lines


def counts(engine: Engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
            for t in (Customer, Document, Payment, Allocation)
        )


@pytest.fixture
def ledger(engine: Engine, tmp_path: Path) -> Engine:
    load(engine, tmp_path, "customers", "C1,One,default,USD,,30,en,UTC,US,,")
    load(engine, tmp_path, "documents", "INV-1,C1,invoice,2026-01-10,,10.00,USD,")
    return engine


def test_values_just_inside_the_limits_are_stored_as_read(engine: Engine, tmp_path: Path) -> None:
    ref, name = "R" * 64, "Ñ" * 255
    load(engine, tmp_path, "customers", f"{ref},{name},default,USD,{MAX},3650,en,UTC,US,{'U' * 32},{'a' * 255}")
    load(
        engine,
        tmp_path,
        "documents",
        f"{'D' * 64},{ref},invoice,2199-12-31,,{MAX},USD,",
        f"OLD,{ref},invoice,1900-01-01,,0.01,USD,",
    )
    load(engine, tmp_path, "payments", f"{'P' * 64},{ref},1900-01-01,{MAX},USD,{'m' * 255},{'D' * 64}:{MAX}")
    with engine.connect() as conn:
        c = conn.execute(select(Customer.ref, Customer.name, Customer.credit_limit_cents)).one()
        d = conn.execute(
            select(Document.ref, Document.amount_cents, Document.due_date).where(Document.ref != "OLD")
        ).one()
        a = conn.execute(select(Allocation.document_ref, Allocation.amount_cents)).one()
    assert tuple(c) == (ref, name, 99_999_999_999_999)
    assert tuple(d) == ("D" * 64, 99_999_999_999_999, date(2199, 12, 31) + timedelta(days=3650))  # issue + terms
    assert tuple(a) == ("D" * 64, 99_999_999_999_999)


def test_a_name_that_folds_longer_than_its_column_still_imports(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, "customers", f"C1,{'ß' * 255},default,EUR,,30,en,Europe/Berlin,DE,,{'ﷺ' * 255}")
    with engine.connect() as conn:
        assert conn.execute(select(Customer.name)).scalar_one() == "ß" * 255


@pytest.mark.parametrize(
    ("kind", "line", "reason"),
    [
        ("documents", "INV-2,C1,invoice,2026-01-10,,99999999999999999999.99,USD,", "over the limit of 999999999999.99"),
        ("documents", "INV-2,C1,invoice,2026-01-10,,1000000000000,USD,", "over the limit"),
        ("documents", f"{'R' * 65},C1,invoice,2026-01-10,,1.00,USD,", "longer than 64 characters"),
        ("documents", f"INV-2,C1,credit_note,2026-01-10,,1.00,USD,{'R' * 65}", "related_doc_ref"),
        ("documents", "INV-\x002,C1,invoice,2026-01-10,,1.00,USD,", "doc_ref contains a control character (U+0000)"),
        ("documents", "INV-2,C1,invoice,0001-01-01,,1.00,USD,", "outside the accepted range"),
        ("documents", "INV-2,C1,invoice,2026-01-10,9999-12-31,1.00,USD,", "outside the accepted range"),
        ("customers", f"C2,{'N' * 256},default,USD,,30,en,UTC,US,,", "name 'NNNN"),
        ("customers", "C2,Two\x00Ltd,default,USD,,30,en,UTC,US,,", "name contains a control character (U+0000)"),
        ("customers", "C2,Two,default,USD,,3²,en,UTC,US,,", "payment_terms_days '3²'"),
        ("customers", "C2,Two,default,USD,,30,en,UTC,US,,a|" + "b" * 256, "alias"),
        ("customers", "C2,Two,default,USD,,30,en,UTC,US," + "U" * 33 + ",", "sales_rep_slack_id"),
        (
            "customers",
            "C2,Two,gold,USD,,30,en,UTC,US,,",
            "segment 'gold' is not in the dunning policy (its segments: default, strategic)",
        ),
        ("customers", "C2,Two,default,USD,1000000000000,30,en,UTC,US,,", "credit_limit"),
        ("payments", "P1,C1,2026-02-01,5.00,USD," + "m" * 256 + ",", "method"),
        ("payments", "P1,C1,2026-02-01,5.00,USD,wire\x00,", "control character (U+0000)"),
        ("payments", "P1,C1,9999-12-31,5.00,USD,wire,", "outside the accepted range"),
    ],
)
def test_beyond_a_limit_the_row_is_refused_alike_on_every_backend(
    ledger: Engine, tmp_path: Path, kind: str, line: str, reason: str
) -> None:
    before = counts(ledger)
    (found,) = refused(ledger, tmp_path, kind, line)
    assert found.startswith("line 2: ") and reason in found, found
    assert counts(ledger) == before


def test_every_bad_row_is_listed_earliest_first_and_nothing_is_written(ledger: Engine, tmp_path: Path) -> None:
    before = counts(ledger)
    lines = [f"INV-{n},C1,invoice,2026-01-10,,{'1.00' if n % 3 else 'x'},USD," for n in range(90)]
    lines[5] = "INV-5,NOPE,invoice,2026-01-10,,1.00,USD,"
    found = refused(ledger, tmp_path, "documents", *lines)
    bad = [n + 2 for n in range(90) if n % 3 == 0 or n == 5]
    unknown, bad_amount = "unknown customer 'NOPE' (import customers first)", "amount 'x' is not an amount like 1234.56"
    assert found[:20] == [f"line {n}: " + (unknown if n == 7 else bad_amount) for n in bad[:20]]
    assert found[20:] == [f"... and {len(bad) - 20} more bad lines (the first 20 are listed)"]
    assert counts(ledger) == before


def test_bad_targets_are_listed_with_the_bad_rows(ledger: Engine, tmp_path: Path) -> None:
    found = refused(
        ledger,
        tmp_path,
        "payments",
        "P1,C1,2026-02-01,5.00,USD,,INV-404:1",
        "P2,C1,2026-02-01,x,USD,,",
        "P3,C1,2026-02-01,5.00,EUR,,INV-1:1",
    )
    assert found == [
        "line 2: applies_to names unknown document 'INV-404'",
        "line 3: amount 'x' is not an amount like 1234.56",
        "line 4: currency EUR does not match 'INV-1' in USD",
    ]


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_semicolon_and_tab_separated_files_are_read_as_such(
    ledger: Engine, tmp_path: Path, sep: str, name: str
) -> None:
    row = sep.join(["INV-2", "C1", "invoice", "2026-01-11", "", "1234.50", "USD", ""])
    result = load(ledger, tmp_path, "documents", row, sep=sep)
    assert (result.new, result.separator) == (1, sep)
    assert f"(read as {name}-separated)" in result.summary("d.csv")
    with ledger.connect() as conn:
        assert conn.execute(select(Document.amount_cents).where(Document.ref == "INV-2")).scalar_one() == 123450
    # A decimal comma, as such files often have, is named.
    (found,) = refused(ledger, tmp_path, "documents", row.replace("1234.50", "1234,50"), sep=sep)
    assert found == "line 2: amount '1234,50' has a decimal comma: write it like 1234.56"


def test_a_file_separated_otherwise_is_refused_naming_its_separator(ledger: Engine, tmp_path: Path) -> None:
    (found,) = refused(ledger, tmp_path, "documents", "INV-2|C1|invoice|2026-01-11||1.00|USD|", sep="|")
    assert found.startswith("line 1: ") and "'|'" in found and "comma" in found


def test_header_names_and_coded_values_in_any_case(engine: Engine, tmp_path: Path) -> None:
    header = ",".join(c.upper() for c in CUSTOMER_COLUMNS)
    load(engine, tmp_path, "customers", "C1,One,Default,gbp,,30,PT,europe/lisbon,pt,,", header=header)
    header = ",".join(["Customer_Ref", *[c.title() for c in DOCUMENT_COLUMNS if c != "customer_ref"]])
    load(engine, tmp_path, "documents", "C1,INV-1,INVOICE,2026-01-10,,1.00,GBP,", header=header)
    with engine.connect() as conn:
        c = conn.execute(
            select(Customer.segment, Customer.currency, Customer.locale, Customer.timezone, Customer.country)
        ).one()
        d = conn.execute(select(Document.ref, Document.type, Document.currency)).one()
    assert tuple(c) == ("default", "GBP", "pt", "Europe/Lisbon", "PT")
    assert tuple(d) == ("INV-1", "invoice", "GBP")


def test_a_reimport_counts_new_changed_and_unchanged_rows(ledger: Engine, tmp_path: Path) -> None:
    load(
        ledger,
        tmp_path,
        "documents",
        "INV-2,C1,invoice,2026-01-10,,2.00,USD,",
        "INV-3,C1,invoice,2026-01-10,,3.00,USD,",
    )
    load(ledger, tmp_path, "payments", "P1,C1,2026-02-01,5.00,USD,wire,INV-1:5")
    again = (
        "INV-1,C1,invoice,2026-01-10,,10.00,USD,",
        "INV-2,C1,invoice,2026-01-10,,2.50,USD,",
        "INV-3,C1,invoice,2026-01-10,,3.00,USD,",
        "INV-4,C1,invoice,2026-01-10,,4.00,USD,",
    )
    dry = load(ledger, tmp_path, "documents", *again, dry_run=True)
    assert (dry.new, dry.changed, dry.unchanged) == (1, 1, 2)
    assert dry.summary("d.csv") == "would import 4 documents from d.csv: 1 new, 1 changed, 2 unchanged"
    assert counts(ledger)[1] == 3
    done = load(ledger, tmp_path, "documents", *again)
    assert done.summary("d.csv") == "imported 4 documents from d.csv: 1 new, 1 changed, 2 unchanged"
    again = load(ledger, tmp_path, "documents", *again)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 4)
    pays = load(
        ledger, tmp_path, "payments", "P1,C1,2026-02-01,5.00,USD,wire,INV-1:4", "P1,C1,2026-02-01,5.00,USD,wire,INV-1:4"
    )
    assert (pays.rows, pays.new, pays.changed, pays.unchanged) == (1, 0, 1, 0)  # another applies_to: changed
    same = load(ledger, tmp_path, "customers", "C1,One,default,usd,,30,en,UTC,us,,")
    assert (same.new, same.changed, same.unchanged) == (0, 0, 1)


@pytest.mark.parametrize("others", [0, 4], ids=["file names most customers", "file names few customers"])
def test_bad_targets_read_the_same_however_many_customers_the_file_names(
    engine: Engine, tmp_path: Path, others: int
) -> None:
    """An import naming most customers checks applies_to against the documents it reads for the
    settlement; one naming few asks the database: the same lines either way."""
    extra = [f"X{n},Other {n},default,USD,,30,en,UTC,US,," for n in range(others)]
    load(
        engine,
        tmp_path,
        "customers",
        "C1,One,default,USD,,30,en,UTC,US,,",
        "C2,Two,default,USD,,30,en,UTC,US,,",
        *extra,
    )
    load(
        engine,
        tmp_path,
        "documents",
        "INV-1,C1,invoice,2026-01-10,,10.00,USD,",
        "INV-2,C2,invoice,2026-01-10,,10.00,USD,",
        "CN-1,C1,credit_note,2026-01-11,,1.00,USD,INV-1",
    )
    found = refused(
        engine,
        tmp_path,
        "payments",
        "P1,C1,2026-02-01,5.00,USD,,INV-404:1",
        "P2,C1,2026-02-01,5.00,USD,,INV-2:1",
        "P3,C1,2026-02-01,5.00,USD,,CN-1:1",
        "P4,C1,2026-02-01,5.00,EUR,,INV-1:1",
        "P5,C1,2026-02-01,5.00,USD,,INV-1:1",
    )
    assert found == [
        "line 2: applies_to names unknown document 'INV-404'",
        "line 3: applies_to document 'INV-2' belongs to customer 'C2'",
        "line 4: applies_to document 'CN-1' is a credit_note, not an invoice or debit note",
        "line 5: currency EUR does not match 'INV-1' in USD",
    ]
    assert counts(engine)[2:] == (0, 0)


def test_an_import_leaves_the_cycle_collector_as_it_found_it(ledger: Engine, tmp_path: Path) -> None:
    """The import pauses Python's cycle collector while it runs (bulk rows hold no cycles); after it,
    accepted or refused, the collector is on again, or still off if the caller had turned it off."""
    import gc

    assert gc.isenabled()
    load(ledger, tmp_path, "payments", "P1,C1,2026-02-01,5.00,USD,,INV-1:5")
    assert gc.isenabled()
    refused(ledger, tmp_path, "payments", "P2,C1,2026-02-01,x,USD,,")
    assert gc.isenabled()
    gc.disable()
    try:
        load(ledger, tmp_path, "payments", "P3,C1,2026-02-02,1.00,USD,,")
        assert not gc.isenabled()
    finally:
        gc.enable()
