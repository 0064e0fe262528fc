"""The ledger through the real `collectbot` process: import, balance, aging, bad input.

Each subprocess costs a second or two, so read-only checks share one imported
sample ledger per backend, and the bad files are all imported (at once) into one
small ledger that must come out row-for-row unchanged. Results are checked with
in-process readers where the CLI itself is not what is being tested.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select
from sqlmodel import SQLModel

import bot
import storage.tables  # noqa: F401  (registers every table on the metadata)
from bot.services.balances import aging_document, balance_document
from bot.services.customers import customers_by_id
from storage.engine import make_engine
from storage.tables import Customer, Document
from tests.conftest import Cli

SAMPLE = Path(bot.__file__).parent / "sample_data"
KINDS = ("customers", "documents", "payments")
AS_OF = "2026-11-23"
AMOUNT = re.compile(r"^-?\d+\.\d\d$")
BUCKET_KEYS = ["current", "1-30", "31-60", "61-90", "90+"]
BALANCE_KEYS = ["currency", "total_open", "overdue", "unapplied_credit", "buckets",
                "credit_limit", "available_credit"]
ITEM_KEYS = ["doc_ref", "type", "due_date", "open_amount", "currency", "days_overdue", "status"]
AGING_ROW_KEYS = ["customer_ref", "name", *BUCKET_KEYS, "unapplied_credit", "total"]
AGING_SUMS = [*BUCKET_KEYS, "unapplied_credit", "total"]
LEDGER_TABLES = ("customer", "customer_key", "document", "payment", "allocation")
# Rows of these tables are replaced on upsert, so their surrogate ids may change.
REPLACED_ROWS = ("customer_key", "allocation")

CUSTOMERS_HEADER = ("customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,"
                    "timezone,country,sales_rep_slack_id,aliases")
DOCUMENTS_HEADER = "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref"
PAYMENTS_HEADER = "payment_ref,customer_ref,date,amount,currency,method,applies_to"


# --- helpers --------------------------------------------------------------------------------


def write(directory: Path, name: str, *lines: str, eol: str = "\n", bom: bool = False) -> Path:
    """A CSV file whose physical lines are exactly `lines`."""
    path = directory / name
    data = (eol.join(lines) + eol).encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + data if bom else data)
    return path


def customer_row(ref: str, name: str, currency: str = "USD", limit: str = "") -> str:
    return f"{ref},{name},default,{currency},{limit},30,en,UTC,US,,"


@dataclass
class Db:
    """A database the CLI writes to, with in-process readers for checking it."""

    url: str
    cli: Callable[..., subprocess.CompletedProcess[str]]

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        eng = make_engine(self.url)
        try:
            with eng.connect() as conn:
                yield conn
        finally:
            eng.dispose()

    def snapshot(self, tables: tuple[str, ...] | None = None) -> dict[str, list[tuple]]:
        """Every row of every table (or of `tables`), sorted."""
        out = {}
        with self.connect() as conn:
            for name, table in SQLModel.metadata.tables.items():
                if tables is None or name in tables:
                    cols = [c for c in table.columns
                            if not (name in REPLACED_ROWS and c.name == "id")]
                    out[name] = sorted((tuple(r) for r in conn.execute(select(*cols))), key=repr)
        return out

    def count(self, table: type[SQLModel]) -> int:
        with self.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()

    def aging(self, as_of: str = AS_OF) -> dict:
        """The `report aging --format json` document, in process."""
        with self.connect() as conn:
            return aging_document(conn, date.fromisoformat(as_of))

    def balances(self, as_of: str = AS_OF) -> dict[str, dict]:
        """The `balance --format json` document of every customer, in process."""
        with self.connect() as conn:
            rows = customers_by_id(conn, list(conn.execute(select(Customer.id)).scalars()))
            return {r.ref: balance_document(conn, r, date.fromisoformat(as_of))
                    for r in rows.values()}


def run_json(cli, *args: str) -> dict:
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_one_line_error(proc, line: int, reason: str) -> None:
    assert proc.returncode != 0, f"accepted bad input:\n{proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"line {line}: " in lines[0], lines[0]
    assert reason in lines[0], lines[0]
    assert proc.stdout == ""


# --- the sample ledger, imported once per backend ------------------------------------------


@pytest.fixture(scope="module")
def sample(new_database, cli_for, tmp_path_factory) -> Iterator[tuple[Db, dict]]:
    cwd = tmp_path_factory.mktemp("sample")
    with new_database(cwd) as url:
        db = Db(url, cli_for(url, cwd))
        results = {kind: db.cli("import", kind, SAMPLE / f"{kind}.csv") for kind in KINDS}
        yield db, results


def test_sample_ledger_imports(sample) -> None:
    db, results = sample
    for kind, proc in results.items():
        assert proc.returncode == 0, f"{kind}: {proc.stderr}"
        assert proc.stdout == ""
    assert "imported 30 customers" in results["customers"].stderr
    assert "imported 125 documents" in results["documents"].stderr
    assert "imported 66 payments" in results["payments"].stderr
    assert db.count(Customer) == 30
    assert db.count(Document) == 125


def test_importing_the_same_files_again_changes_nothing(sample) -> None:
    db, _ = sample
    before = (db.aging(), db.balances(), db.snapshot(LEDGER_TABLES))
    for kind, n in zip(KINDS, (30, 125, 66), strict=True):
        proc = db.cli("import", kind, SAMPLE / f"{kind}.csv")
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.strip().endswith(f"{kind}.csv: 0 new, 0 changed, {n} unchanged"), proc.stderr
    after = (db.aging(), db.balances(), db.snapshot(LEDGER_TABLES))
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert {t: len(r) for t, r in after[2].items()} == {t: len(r) for t, r in before[2].items()}
    assert after[2] == before[2]


def assert_balance_contract(doc: dict) -> None:
    assert list(doc) == ["customer_ref", "name", "as_of", "credit_hold", "balances", "open_items"]
    assert isinstance(doc["credit_hold"], bool)
    for b in doc["balances"]:
        assert list(b) == BALANCE_KEYS
        assert list(b["buckets"]) == BUCKET_KEYS
        amounts = [b["total_open"], b["overdue"], b["unapplied_credit"], *b["buckets"].values()]
        amounts += [b[k] for k in ("credit_limit", "available_credit") if b[k] is not None]
        for amount in amounts:
            assert isinstance(amount, str) and AMOUNT.match(amount), amount
    for item in doc["open_items"]:
        assert list(item) == ITEM_KEYS
        assert isinstance(item["open_amount"], str) and AMOUNT.match(item["open_amount"])
        assert isinstance(item["days_overdue"], int)
        date.fromisoformat(item["due_date"])


def test_balance_json_contract(sample) -> None:
    db, _ = sample
    doc = run_json(db.cli, "balance", "ACME", "--format", "json", "--as-of", AS_OF)
    assert_balance_contract(doc)
    assert doc == {
        "customer_ref": "ACME",
        "name": "ACME Corporation",
        "as_of": AS_OF,
        "credit_hold": False,
        "balances": [{
            "currency": "USD", "total_open": "7576.88", "overdue": "7576.88",
            "unapplied_credit": "0.00",
            "buckets": {"current": "0.00", "1-30": "0.00", "31-60": "185.00", "61-90": "0.00",
                        "90+": "7391.88"},
            "credit_limit": "50000.00", "available_credit": "42423.12",
        }],
        "open_items": [
            {"doc_ref": "INV-1013", "type": "invoice", "due_date": "2026-03-10",
             "open_amount": "7391.88", "currency": "USD", "days_overdue": 258, "status": "open"},
            {"doc_ref": "DN-4002", "type": "debit_note", "due_date": "2026-10-01",
             "open_amount": "185.00", "currency": "USD", "days_overdue": 53, "status": "open"},
        ],
    }


def test_balance_json_of_a_customer_in_credit(sample) -> None:
    db, _ = sample
    doc = run_json(db.cli, "balance", "PENALARA", "--format", "json", "--as-of", AS_OF)
    assert_balance_contract(doc)
    (eur,) = doc["balances"]
    assert (eur["currency"], eur["total_open"], eur["unapplied_credit"]) == ("EUR", "-100.00",
                                                                             "100.00")
    assert eur["available_credit"] == "30100.00"
    assert doc["open_items"] == []


def test_every_sample_balance_follows_the_contract(sample) -> None:
    db, _ = sample
    for doc in db.balances().values():
        assert_balance_contract(doc)


@pytest.fixture(scope="module")
def sample_aging(sample) -> dict:
    return run_json(sample[0].cli, "report", "aging", "--format", "json", "--as-of", AS_OF)


def test_aging_json_shape_and_totals(sample_aging: dict) -> None:
    doc = sample_aging
    assert list(doc) == ["as_of", "reports"]
    assert doc["as_of"] == AS_OF
    currencies = [r["currency"] for r in doc["reports"]]
    assert currencies == sorted(currencies) == ["BRL", "EUR", "GBP", "IRR", "MXN", "USD"]
    for report in doc["reports"]:
        assert list(report) == ["currency", "rows", "totals"]
        assert list(report["totals"]) == AGING_SUMS
        for row in report["rows"]:
            assert list(row) == AGING_ROW_KEYS
            for key in AGING_SUMS:
                assert AMOUNT.match(row[key]), row
            buckets = sum(Decimal(row[k]) for k in BUCKET_KEYS)
            assert Decimal(row["total"]) == buckets - Decimal(row["unapplied_credit"])
        for key in AGING_SUMS:
            assert AMOUNT.match(report["totals"][key])
            assert Decimal(report["totals"][key]) == sum(Decimal(r[key]) for r in report["rows"])
    usd = {r["customer_ref"]: r for r in doc["reports"][-1]["rows"]}
    assert usd["ACME"]["total"] == "7576.88"
    assert usd["FORMULA"]["name"] == '=HYPERLINK("http://x","ACME")'  # JSON keeps it as is
    eur = {r["customer_ref"]: r for r in doc["reports"][1]["rows"]}
    assert eur["PENALARA"]["total"] == "-100.00"


def test_aging_rows_agree_with_balances(sample, sample_aging: dict) -> None:
    aging = sample_aging
    assert aging == sample[0].aging()  # the CLI prints exactly the service's document
    balances = sample[0].balances()
    for report in aging["reports"]:
        for row in report["rows"]:
            (b,) = [b for b in balances[row["customer_ref"]]["balances"]
                    if b["currency"] == report["currency"]]
            assert row["total"] == b["total_open"]
            assert row["unapplied_credit"] == b["unapplied_credit"]
            assert [row[k] for k in BUCKET_KEYS] == list(b["buckets"].values())


def test_aging_csv_holds_customers_only_so_a_column_sums_to_the_total(sample, sample_aging: dict) -> None:
    db, _ = sample
    proc = db.cli("report", "aging", "--format", "csv", "--as-of", AS_OF)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    refs = {(r["currency"], r["customer_ref"]) for r in rows}
    assert refs == {(rep["currency"], row["customer_ref"]) for rep in sample_aging["reports"] for row in rep["rows"]}
    assert len(rows) == len(refs)  # no TOTAL rows
    for rep in sample_aging["reports"]:
        mine = [r for r in rows if r["currency"] == rep["currency"]]
        for key in AGING_SUMS:
            assert sum(Decimal(r[key]) for r in mine) == Decimal(rep["totals"][key])


def test_aging_csv_neutralises_formula_names(sample) -> None:
    db, _ = sample
    proc = db.cli("report", "aging", "--format", "csv", "--as-of", AS_OF)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["currency", *AGING_ROW_KEYS]
    by_ref = {r[1]: r for r in rows[1:]}
    assert by_ref["FORMULA"][2] == '\'=HYPERLINK("http://x","ACME")'
    assert by_ref["PENALARA"][-1] == "-100.00"  # a negative amount stays a number
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), row
            assert not cell.startswith("-") or AMOUNT.match(cell), row


def test_json_output_is_pure_even_on_a_fresh_database(empty_database_url: str, tmp_path: Path) -> None:
    # The first command also migrates the database: nothing of that may reach stdout (or stderr).
    proc = Cli(empty_database_url, tmp_path)("report", "aging", "--format", "json", "--as-of", AS_OF)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout) == {"as_of": AS_OF, "reports": []}


# --- name resolution through the CLI ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "ref"),
    [("Smith Jones", "SMITHJ"), ("Cafe Zurik", "CAFEZ"),
     ("distribuciones penalara s.l.", "PENALARA")],
    ids=["alias", "typo", "folded-name"],
)
def test_balance_finds_customer_leniently(sample, query: str, ref: str) -> None:
    db, _ = sample
    doc = run_json(db.cli, "balance", query, "--format", "json", "--as-of", AS_OF)
    assert doc["customer_ref"] == ref


def test_ambiguous_name_exits_2_listing_candidates(sample) -> None:
    db, _ = sample
    # A word two names share ("S.A. de C.V." is a legal form now, ignored: DESIGN's name rules).
    proc = db.cli("balance", "Café", "--format", "json", "--as-of", AS_OF)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert "CAFEZ" in line and "ANDINO" in line


def test_unknown_name_exits_1(sample) -> None:
    db, _ = sample
    proc = db.cli("balance", "Wayne Enterprises", "--format", "json", "--as-of", AS_OF)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Wayne Enterprises" in proc.stderr


def test_bad_as_of_exits_non_zero_with_one_line(sample) -> None:
    db, _ = sample
    proc = db.cli("balance", "ACME", "--as-of", "2026-13-01")
    assert proc.returncode != 0
    assert proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert "2026-13-01" in line


# --- import order -------------------------------------------------------------------------


def test_import_order_does_not_change_balances(sample, new_database, cli_for, tmp_path) -> None:
    header, *rows = (SAMPLE / "documents.csv").read_text(encoding="utf-8").splitlines()
    refs = sorted({r.split(",")[1] for r in rows})
    first_refs = set(refs[::2])  # split by customer: a credit note stays with its invoice
    first = write(tmp_path, "docs-1.csv", header,
                  *(r for r in rows if r.split(",")[1] in first_refs))
    second = write(tmp_path, "docs-2.csv", header,
                   *(r for r in rows if r.split(",")[1] not in first_refs))
    pay_header, *pay_rows = (SAMPLE / "payments.csv").read_text(encoding="utf-8").splitlines()
    reversed_pays = write(tmp_path, "pays-reversed.csv", pay_header, *reversed(pay_rows))
    orders = {
        "a": [("customers", SAMPLE / "customers.csv"), ("documents", first),
              ("documents", second), ("payments", SAMPLE / "payments.csv")],
        "b": [("customers", SAMPLE / "customers.csv"), ("documents", second),
              ("documents", first), ("payments", reversed_pays)],
    }

    def build(name: str) -> tuple[dict, dict]:
        directory = tmp_path / name
        directory.mkdir()
        with new_database(directory) as url:
            db = Db(url, cli_for(url, directory))
            for kind, path in orders[name]:
                proc = db.cli("import", kind, path)
                assert proc.returncode == 0, proc.stderr
            return db.aging(), db.balances()

    with ThreadPoolExecutor(max_workers=2) as pool:
        (aging_a, balances_a), (aging_b, balances_b) = pool.map(build, orders)
    assert aging_a == aging_b
    assert balances_a == balances_b
    assert balances_a == sample[0].balances()  # the whole files in one go, too


# --- bad input: a small ledger shared by every refusal -----------------------------------


@pytest.fixture(scope="module")
def ledger(new_database, cli_for, tmp_path_factory) -> Iterator[Db]:
    cwd = tmp_path_factory.mktemp("ledger")
    with new_database(cwd) as url:
        db = Db(url, cli_for(url, cwd))
        customers = write(cwd, "customers.csv", CUSTOMERS_HEADER,
                          customer_row("C1", "First Co", "USD", "1000.00"),
                          customer_row("C2", "Second Co", "EUR"))
        documents = write(cwd, "documents.csv", DOCUMENTS_HEADER,
                          "INV-1,C1,invoice,2026-01-10,2026-02-09,100.00,USD,",
                          "INV-2,C2,invoice,2026-01-10,2026-02-09,200.00,EUR,")
        for kind, path in (("customers", customers), ("documents", documents)):
            proc = db.cli("import", kind, path)
            assert proc.returncode == 0, proc.stderr
        yield db


@dataclass(frozen=True)
class Bad:
    """A file `import KIND` must refuse with `line LINE: ...REASON...` on stderr (and `also` more lines)."""

    kind: str
    lines: tuple[str, ...] | None  # None: a 0-byte file
    line: int
    reason: str
    eol: str = "\n"
    args: tuple[str, ...] = ()
    also: tuple[tuple[int, str], ...] = ()


GOOD_DOC = "INV-10,C1,invoice,2026-03-01,2026-03-31,10.00,USD,"
BAD_INPUTS = {
    "missing-column": Bad("documents", (DOCUMENTS_HEADER.rsplit(",", 1)[0],
                                        "INV-10,C1,invoice,2026-03-01,2026-03-31,10.00,USD"),
                          1, "missing column"),
    "extra-column": Bad("documents", (DOCUMENTS_HEADER + ",note", GOOD_DOC + ",hi"),
                        1, "unexpected column"),
    "unknown-customer": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                          "INV-11,NOPE,invoice,2026-03-01,2026-03-31,10.00,USD,"),
                            3, "unknown customer"),
    "unknown-related": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                         "CN-1,C1,credit_note,2026-03-05,,5.00,USD,INV-404"),
                           3, "unknown related document"),
    "negative-amount": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                         "INV-11,C1,invoice,2026-03-01,2026-03-31,-12.50,USD,"),
                           3, "negative"),
    "comma-decimal": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                       'INV-11,C1,invoice,2026-03-01,2026-03-31,"12,50",USD,'),
                         3, "12,50"),
    "bad-date": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                  "INV-11,C1,invoice,2026-13-01,2026-03-31,12.50,USD,"),
                    3, "2026-13-01"),
    "due-before-issue": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                          "INV-11,C1,invoice,2026-03-01,2026-02-28,12.50,USD,"),
                            3, "before issue_date"),
    "credit-currency-mismatch": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                                  "CN-1,C1,credit_note,2026-03-05,,5.00,EUR,INV-1"),
                                    3, "does not match"),
    "same-ref-different-content": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                                    GOOD_DOC.replace("10.00", "11.00")),
                                      3, "appears again"),
    "wrong-field-count": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC, "INV-11,C1,invoice"),
                             3, "fields"),
    "empty-file": Bad("documents", None, 1, "empty"),
    "crlf-and-blank-lines": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC, "",
                                              "INV-12,C1,invoice,2026-03-01,2026-03-31,1.00,USD,",
                                              "",
                                              "INV-13,C1,invoice,2026-03-01,2026-03-31,x,USD,"),
                                6, "amount", eol="\r\n"),
    "line-inside-quoted-field": Bad("customers", (CUSTOMERS_HEADER, 'C20,"Two',
                                                  'Lines Ltd",default,USD,,30,en,UTC,US,,',
                                                  "C21,Bad Zone,default,USD,,30,en,Mars/Base,US,,"),
                                    2, "name contains a control character (U+000A)",
                                    also=((4, "time zone"),)),
    "amount-over-the-limit": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                               "INV-11,C1,invoice,2026-03-01,,99999999999999999999.99,USD,"),
                                 3, "over the limit of 999999999999.99"),
    "name-over-255": Bad("customers", (CUSTOMERS_HEADER, customer_row("C9", "N" * 256)), 2, "longer than 255"),
    "ref-over-64": Bad("documents", (DOCUMENTS_HEADER, "R" * 65 + ",C1,invoice,2026-03-01,,1.00,USD,"),
                       2, "longer than 64"),
    "nul-byte": Bad("customers", (CUSTOMERS_HEADER, customer_row("C9", "Nul\x00Ltd")), 2, "(U+0000)"),
    "superscript-terms": Bad("customers", (CUSTOMERS_HEADER, "C9,Nine,default,USD,,3²,en,UTC,US,,"),
                             2, "payment_terms_days '3²'"),
    "dates-out-of-range": Bad("documents", (DOCUMENTS_HEADER, "INV-11,C1,invoice,0001-01-01,,1.00,USD,",
                                            "INV-12,C1,invoice,2026-03-01,9999-12-31,1.00,USD,"),
                              2, "outside the accepted range", also=((3, "outside the accepted range"),)),
    "unknown-segment": Bad("customers", (CUSTOMERS_HEADER, "C9,Nine,gold,USD,,30,en,UTC,US,,"),
                           2, "(its segments: default, government, individual, strategic)"),
    "pipe-separated": Bad("documents", (DOCUMENTS_HEADER.replace(",", "|"), GOOD_DOC.replace(",", "|")),
                          1, "separated by '|'"),
    "customer-bad-currency": Bad("customers", (CUSTOMERS_HEADER, customer_row("C9", "Nine"),
                                               customer_row("C10", "Ten", "dollars")),
                                 3, "currency"),
    "payment-unknown-target": Bad("payments", (PAYMENTS_HEADER,
                                               "PAY-1,C1,2026-03-01,10.00,USD,wire,INV-1:10.00",
                                               "PAY-2,C1,2026-03-01,10.00,USD,wire,INV-404:10.00"),
                                  3, "unknown document"),
    "payment-over-allocated": Bad("payments", (PAYMENTS_HEADER,
                                               "PAY-1,C1,2026-03-01,10.00,USD,wire,INV-1:10.01"),
                                  2, "more than the payment"),
    "dry-run-still-checks": Bad("documents", (DOCUMENTS_HEADER, GOOD_DOC,
                                              "INV-11,NOPE,invoice,2026-03-01,2026-03-31,1.00,USD,"),
                                3, "unknown customer", args=("--dry-run",)),
}


@dataclass(frozen=True)
class Refusals:
    before: dict
    results: dict[str, subprocess.CompletedProcess]
    after: dict


@pytest.fixture(scope="module")
def refusals(ledger: Db, tmp_path_factory) -> Refusals:
    """Every bad file imported at once (the subprocesses are the slow part), between snapshots."""
    directory = tmp_path_factory.mktemp("bad")
    paths = {}
    for name, case in BAD_INPUTS.items():
        if case.lines is None:
            paths[name] = directory / f"{name}.csv"
            paths[name].write_bytes(b"")
        else:
            paths[name] = write(directory, f"{name}.csv", *case.lines, eol=case.eol)
    before = ledger.snapshot()

    def run(name: str) -> subprocess.CompletedProcess:
        return ledger.cli("import", BAD_INPUTS[name].kind, paths[name], *BAD_INPUTS[name].args)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(paths, pool.map(run, paths), strict=True))
    return Refusals(before, results, ledger.snapshot())


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_is_refused_with_its_physical_line(refusals: Refusals, name: str) -> None:
    case = BAD_INPUTS[name]
    proc = refusals.results[name]
    if not case.also:
        assert_one_line_error(proc, case.line, case.reason)
        return
    assert proc.returncode != 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 + len(case.also), proc.stderr
    for text, (line, reason) in zip(lines, [(case.line, case.reason), *case.also], strict=True):
        assert text.startswith("error: ") and f"line {line}: " in text and reason in text, text


def test_every_bad_row_is_on_its_own_line_the_first_20_then_how_many_more(ledger: Db, tmp_path: Path) -> None:
    rows = [f"INV-{n},C1,invoice,2026-03-01,,{'x' if n % 2 else '1.00'},USD," for n in range(60)]
    path = write(tmp_path, "docs.csv", DOCUMENTS_HEADER, *rows)
    before = ledger.snapshot()
    proc = ledger.cli("import", "documents", path)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines[:20] == [f"error: {path}: line {n + 2}: amount 'x' is not an amount like 1234.56"
                          for n in range(1, 41, 2)]
    assert lines[20:] == [f"error: {path}: ... and 10 more bad lines (the first 20 are listed)"]
    assert ledger.snapshot() == before


def test_refused_imports_change_nothing(refusals: Refusals) -> None:
    accepted = [name for name, proc in refusals.results.items() if proc.returncode == 0]
    assert accepted == []
    assert refusals.after == refusals.before


def test_dry_run_writes_nothing(ledger: Db, tmp_path: Path) -> None:
    path = write(tmp_path, "docs.csv", DOCUMENTS_HEADER, GOOD_DOC)
    before = ledger.snapshot()
    proc = ledger.cli("import", "documents", path, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "would import 1 documents" in proc.stderr and ": 1 new, 0 changed, 0 unchanged" in proc.stderr
    assert ledger.snapshot() == before


def test_a_semicolon_separated_file_is_read_and_says_so(ledger: Db, tmp_path: Path) -> None:
    path = write(tmp_path, "docs.csv", DOCUMENTS_HEADER.replace(",", ";"), "INV-30;C1;Invoice;2026-03-01;;10.00;usd;")
    proc = ledger.cli("import", "documents", path, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == f"would import 1 documents from {path} (read as semicolon-separated): " \
                                  "1 new, 0 changed, 0 unchanged"


# --- awkward but valid files --------------------------------------------------------------------


def test_bom_and_crlf_are_accepted(cli, database_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, "customers.csv", CUSTOMERS_HEADER, customer_row("B1", "Bom Co"),
                 customer_row("B2", "Crlf Co"), eol="\r\n", bom=True)
    proc = cli("import", "customers", path)
    assert proc.returncode == 0, proc.stderr
    names = Db(database_url, cli).snapshot(("customer",))["customer"]
    assert sorted(r[1:3] for r in names) == [("B1", "Bom Co"), ("B2", "Crlf Co")]


def test_quoted_field_with_a_comma_and_identical_repeats(cli, database_url: str,
                                                        tmp_path: Path) -> None:
    customers = write(tmp_path, "customers.csv", CUSTOMERS_HEADER,
                      'Q1,"Smith, Jones & Partners LLP",default,GBP,,30,en,UTC,GB,,"Smith, Jones"')
    assert (proc := cli("import", "customers", customers)).returncode == 0, proc.stderr
    row = "INV-1,Q1,invoice,2026-03-01,,10.00,GBP,"
    documents = write(tmp_path, "documents.csv", DOCUMENTS_HEADER, row, row)
    assert (proc := cli("import", "documents", documents)).returncode == 0, proc.stderr
    (doc,) = Db(database_url, cli).balances().values()
    assert doc["name"] == "Smith, Jones & Partners LLP"
    (item,) = doc["open_items"]
    assert (item["doc_ref"], item["open_amount"], item["due_date"]) == ("INV-1", "10.00",
                                                                        "2026-03-31")
