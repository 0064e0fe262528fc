"""CSV import against random files: random bytes, encodings, separators, line ends, headers and rows.

DESIGN "Interfaces": a bad row fails the whole file with `line N: reason` (every bad line listed,
the first 20), and nothing is written; importing the same file twice changes nothing; a dry
run reports what the import would do. Checked here against the whole database's rows, on every
backend, for files nobody would write on purpose.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.csv_rows import CUSTOMER_COLUMNS, DOCUMENT_COLUMNS, PAYMENT_COLUMNS
from bot.importer import ImportFailed, ImportResult, import_file
from tests.fuzz.ledger_state import differences, snapshot
from tests.fuzz.profile import fuzz

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
COLUMNS = {"customers": CUSTOMER_COLUMNS, "documents": DOCUMENT_COLUMNS, "payments": PAYMENT_COLUMNS}
BASE = {
    "customers": "customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,country,"
    "sales_rep_slack_id,aliases\nC1,Acme,default,USD,1000.00,30,en,UTC,US,U1,\nC2,Beta,default,EUR,,30,pt,,BR,,B|Bb\n",
    "documents": "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref\n"
    "D1,C1,invoice,2026-01-01,2026-01-31,100.00,USD,\nD2,C2,invoice,2026-01-05,,50.00,EUR,\n",
    "payments": "payment_ref,customer_ref,date,amount,currency,method,applies_to\n"
    "P1,C1,2026-02-01,10.00,USD,wire,D1:10\n",
}
LINE = re.compile(r"^line (\d+): \S")


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    the_app = App(Settings(database_url=database_url, _env_file=None), clock=FixedClock(NOW))
    for kind in ("customers", "documents", "payments"):
        path = tmp_path / f"base-{kind}.csv"
        path.write_text(BASE[kind], encoding="utf-8")
        import_file(the_app.engine, kind, path, the_app.import_context())
    yield the_app
    the_app.engine.dispose()


# ---------------------------------------------------------------- what a file may hold

JUNK = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", " ", "=1+1", "-5", "1e3", "NaN", "∞", "0x10", "1,5", "'; DROP TABLE customer;--", "\x00",
                     '"', "a\nb", "\r", "ü", "۱۲", "9" * 20, "x" * 70, "null"]),
)
REFS = st.one_of(st.sampled_from(["C1", "C2", "C3", "c1", " C1 ", "D1", "D2", "D3", "P1", "P2", "P3"]), JUNK)
VALUES = {
    "segment": st.sampled_from(["default", "DEFAULT", "government", "nope", ""]),
    "currency": st.sampled_from(["USD", "eur", "BRL", "XXX", "US", ""]),
    "credit_limit": st.sampled_from(["", "1000", "1000.5", "-1", "1,000.00", "999999999999.99", "1000000000000"]),
    "payment_terms_days": st.sampled_from(["", "30", "0", "-1", "3.5", "100000"]),
    "locale": st.sampled_from(["", "en", "pt_BR", "fa", "xx", "zz_ZZ"]),
    "timezone": st.sampled_from(["", "UTC", "America/Sao_Paulo", "Mars/Base", "../etc"]),
    "country": st.sampled_from(["", "US", "br", "XX", "USA"]),
    "type": st.sampled_from(["invoice", "INVOICE", "credit_note", "debit_note", "withholding", "receipt", ""]),
    "issue_date": st.sampled_from(["2026-01-01", "2026-02-30", "01/02/2026", "", "2026-1-1", "9999-12-31"]),
    "due_date": st.sampled_from(["", "2026-02-01", "2025-12-01", "tomorrow"]),
    "date": st.sampled_from(["2026-02-01", "2026-02-30", "", "2026-13-01"]),
    "amount": st.sampled_from(["10.00", "0", "-1", "0.001", "1e2", "1,000.00", "999999999999.99", "1000000000000.00",
                               "", "5"]),
    "applies_to": st.sampled_from(["", "D1:5", "D1:5|D2:1", "D9:1", "D1:", ":5", "D1:5:6", "D1:-1", "D1:5|D1:5"]),
    "related_doc_ref": st.sampled_from(["", "D1", "D2", "D9", "D3"]),
}


# Values a correct file holds (a file of these alone is mostly imported).
VALID = {
    "customer_ref": st.sampled_from(["C1", "C2", "C3", "C4"]),
    "doc_ref": st.sampled_from(["D1", "D2", "D3", "D4"]),
    "payment_ref": st.sampled_from(["P1", "P2", "P3"]),
    "related_doc_ref": st.sampled_from(["", "D1", "D2"]),
    "name": st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20),
    "aliases": st.sampled_from(["", "x", "x|y"]),
    "segment": st.sampled_from(["default", "DEFAULT", ""]),
    "currency": st.sampled_from(["USD", "usd"]),
    "credit_limit": st.sampled_from(["", "1000", "0.50"]),
    "payment_terms_days": st.sampled_from(["", "30", "0"]),
    "locale": st.sampled_from(["", "en", "pt_BR", "fa"]),
    "timezone": st.sampled_from(["", "UTC", "Asia/Tehran"]),
    "country": st.sampled_from(["", "US", "ir"]),
    "sales_rep_slack_id": st.sampled_from(["", "U1"]),
    "type": st.sampled_from(["invoice", "credit_note", "debit_note"]),
    "issue_date": st.sampled_from(["2026-01-01", "2026-02-01"]),
    "due_date": st.sampled_from(["", "2026-02-15"]),
    "date": st.sampled_from(["2026-02-01", "2026-03-01"]),
    "amount": st.sampled_from(["10.00", "1", "0.01", "5.5"]),
    "method": st.sampled_from(["", "wire", "=cash"]),
    "applies_to": st.sampled_from(["", "D1:0.01"]),
}


def field(column: str, clean: bool = False) -> st.SearchStrategy[str]:
    if clean:
        return VALID[column]
    if column.endswith("_ref") or column == "aliases":
        return REFS
    return st.one_of(VALUES[column], JUNK) if column in VALUES else JUNK


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """(kind, file bytes): a header (right, shuffled, re-cased, short or long) and rows of likely and junk
    values, written with a random separator, quoting, line end and encoding."""
    kind = draw(st.sampled_from(sorted(COLUMNS)))
    clean = draw(st.booleans())  # half the files hold only good values: the import's write path is fuzzed too
    columns = list(COLUMNS[kind])
    header = list(columns)
    if draw(st.booleans()):
        header = draw(st.permutations(columns))
    if draw(st.integers(0, 4)) == 0:
        header = [c.upper() for c in header]
    if not clean and draw(st.integers(0, 5)) == 0:
        header = header[: draw(st.integers(0, len(header)))] + draw(st.lists(JUNK, max_size=2))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(field(c, clean)) if c in columns else draw(JUNK) for c in header]
        if not clean and draw(st.integers(0, 6)) == 0:  # a ragged row
            row = row[: draw(st.integers(0, len(row)))] if draw(st.booleans()) else [*row, draw(JUNK)]
        rows.append(row)
    sep = draw(st.sampled_from([",", ";", "\t"] if clean else [",", ",", ";", "\t", "|"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])),
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig"] if clean else
                                    ["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if not clean and draw(st.integers(0, 5)) == 0:  # a damaged file: bytes flipped, cut short, or noise appended
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=12)) + data[cut + draw(st.integers(0, 3)) :]
    return kind, data


def check_refusal(failed: ImportFailed, data: bytes) -> None:
    """One clear reason per bad line: `line N: reason` on one line, N a line of the file, at most 20 (+ a count)."""
    physical = max(1, len(re.split(rb"\r\n|\r|\n", data)))
    assert 1 <= len(failed.lines) <= 21, failed.lines
    for n, line in enumerate(failed.lines):
        assert "\n" not in line and "\r" not in line and "Traceback" not in line, line
        if n == 20:
            assert line.startswith("... and "), line
            continue
        match = LINE.match(line)
        assert match, line
        assert 1 <= int(match.group(1)) <= physical + 1, (line, physical)
    numbers = [int(LINE.match(line).group(1)) for line in failed.lines if LINE.match(line)]
    assert numbers == sorted(numbers), failed.lines


def attempt(app: App, kind: str, path: Path, *, dry_run: bool = False) -> ImportResult | ImportFailed:
    try:
        return import_file(app.engine, kind, path, app.import_context(), dry_run=dry_run)
    except ImportFailed as exc:
        return exc


# ---------------------------------------------------------------- properties


@settings(fuzz(0.6))
@given(case=csv_files())
def test_a_random_file_is_imported_whole_or_refused_line_by_line_with_nothing_written(
    app: App, tmp_path: Path, case: tuple[str, bytes]
) -> None:
    kind, data = case
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    before = snapshot(app.engine)
    dry = attempt(app, kind, path, dry_run=True)
    assert differences(before, snapshot(app.engine)) == {}, "a dry run wrote"
    result = attempt(app, kind, path)
    event(f"{kind}: {'refused' if isinstance(result, ImportFailed) else 'imported'}")
    if isinstance(result, ImportFailed):
        check_refusal(result, data)
        assert isinstance(dry, ImportFailed) and dry.lines == result.lines
        assert differences(before, snapshot(app.engine)) == {}, "a refused file wrote"
        return
    assert isinstance(dry, ImportResult), dry.lines
    assert (dry.rows, dry.new, dry.changed, dry.unchanged) == (result.rows, result.new, result.changed,
                                                               result.unchanged)
    assert result.rows == result.new + result.changed + result.unchanged
    after = snapshot(app.engine)
    again = attempt(app, kind, path)  # the same file twice changes nothing
    assert isinstance(again, ImportResult)
    assert (again.new, again.changed, again.unchanged) == (0, 0, result.rows)
    changed = differences(after, snapshot(app.engine))
    assert set(changed) <= {"event"} and changed.get("event", 1) == 1, changed  # only the import's own event


@settings(fuzz(0.6))
@given(kind=st.sampled_from(sorted(COLUMNS)), data=st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=60).map(lambda b: codecs.BOM_UTF8 + b),
    st.text(max_size=80).map(lambda t: t.encode("utf-16")),
))
def test_random_bytes_are_refused_in_one_line_and_nothing_is_written(app: App, tmp_path: Path, kind: str,
                                                                     data: bytes) -> None:
    path = tmp_path / "bytes.csv"
    path.write_bytes(data)
    before = snapshot(app.engine)
    result = attempt(app, kind, path)
    if isinstance(result, ImportFailed):
        check_refusal(result, data)
    assert differences(before, snapshot(app.engine)) in ({}, {"event": 1}), "a refused file wrote"


@settings(fuzz(0.3))
@given(case=csv_files())
def test_the_import_command_says_one_line_per_reason_and_exits_1(app: App, tmp_path: Path,
                                                               case: tuple[str, bytes]) -> None:
    """The Typer command in process (the real CLI, without a process per example)."""
    from bot.cli import app as cli

    kind, data = case
    path = tmp_path / "cli.csv"
    path.write_bytes(data)
    env = {"COLLECTBOT_DATABASE_URL": app.settings.database_url, "COLLECTBOT_TIMEZONE": "UTC"}
    result = CliRunner().invoke(cli, ["import", kind, str(path), "--dry-run"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if result.exit_code:
        assert result.exit_code == 1
        lines = result.output.splitlines()
        assert lines and all(line.startswith(f"error: {path}: ") for line in lines), lines
