"""SQL injection through names, refs and CLI arguments; CSV formula injection in every CSV export.

Customers and documents with hostile refs and names are imported; the commands that look them
up, change them and export them are run (the real Typer app, in process). Every value is a bound
parameter: each hostile customer is found as itself and only itself, every table is still there
with its rows, and LIKE/FTS wildcards match nothing they should not. Every CSV export (aging,
link --all-unlinked, the debtor's statement) neutralises a cell a spreadsheet would evaluate
(DESIGN "Interfaces": `=`, `+`, `-`, `@`, tab or CR first, not a plain number -> prefixed `'`).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.services.statements import customer_statement, statement_csv
from storage.engine import make_engine
from storage.tables import Customer, Document, Event, Hold
from tests.fakes.telegram_api import FakeTelegram

HOSTILE = [
    # (ref, name)
    ("X1", "Robert'); DROP TABLE customer;--"),
    ("' OR '1'='1", "Quote Ref"),
    ("PCT", "100% _Real_ \\ Co"),
    ("=CMD|' /C calc'!A0", '=HYPERLINK("http://evil.example","click")'),
    ("PLUS", "+1+1 Ltd"),
    ("MINUS", "-2+3 SA"),
    ("AT", "@SUM(1+1)"),
    # (a tab or CR in a name or ref is refused at import as a control character)
    ("FTS", 'NEAR(a b) OR "x" * ^y:z'),
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cust_csv() -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["customer_ref", "name", "segment", "currency", "credit_limit", "payment_terms_days", "locale",
                "timezone", "country", "sales_rep_slack_id", "aliases"])
    for ref, name in HOSTILE:
        w.writerow([ref, name, "default", "USD", "", "30", "en", "UTC", "US", "", ""])
    return out.getvalue()


def docs_csv() -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["doc_ref", "customer_ref", "type", "issue_date", "due_date", "amount", "currency", "related_doc_ref"])
    for i, (ref, _name) in enumerate(HOSTILE):
        w.writerow([f"=1+{i}" if i % 2 else f"INV-{i}'--", ref, "invoice", "2026-01-01", "2026-01-31", "10.00",
                    "USD", ""])
    return out.getvalue()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    the_env = {"COLLECTBOT_DATABASE_URL": database_url, "COLLECTBOT_TIMEZONE": "UTC"}
    (tmp_path / "c.csv").write_text(cust_csv(), encoding="utf-8")
    (tmp_path / "d.csv").write_text(docs_csv(), encoding="utf-8")
    for kind, name in (("customers", "c.csv"), ("documents", "d.csv")):
        res = invoke(the_env, "import", kind, str(tmp_path / name))
        assert res.exit_code == 0, res.output
    return the_env


def invoke(env: dict[str, str], *args: str):  # noqa: ANN201
    return CliRunner().invoke(cli, list(args), env=env)


def assert_intact(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Customer)).scalar() == len(HOSTILE)
            assert conn.execute(select(func.count()).select_from(Document)).scalar() == len(HOSTILE)
            names = dict(conn.execute(select(Customer.ref, Customer.name)).all())
    finally:
        engine.dispose()
    assert names == dict(HOSTILE)


def test_hostile_refs_and_names_are_found_as_themselves_and_only_themselves(env: dict[str, str],
                                                                           database_url: str) -> None:
    for ref, name in HOSTILE:
        for query in (ref, name):
            res = invoke(env, "balance", "--format", "json", "--", query)
            assert res.exit_code == 0, (query, res.output)
            doc = json.loads(res.stdout)
            assert (doc["customer_ref"], doc["name"]) == (ref, name), query
    for wildcard in ("%", "_", "*", "' OR 2=2 --", "X%", "%%", '"', "x:y", "^"):
        res = invoke(env, "balance", "--format", "json", "--", wildcard)
        assert res.exit_code in (1, 2) and "Traceback" not in res.output, (wildcard, res.output)
        assert res.stdout == "" or wildcard in res.stdout, (wildcard, res.stdout)
    assert_intact(database_url)


def test_hostile_cli_arguments_are_stored_as_text(env: dict[str, str], database_url: str) -> None:
    reason = "x'); DELETE FROM customer; --"
    assert invoke(env, "hold", "X1", "--until", "2026-12-01", "--reason", reason).exit_code == 0
    assert invoke(env, "timeline", "X1", "--format", "json").exit_code == 0
    bad = invoke(env, "hold", "X1'; DROP TABLE hold; --", "--until", "2026-12-01", "--reason", "r")
    assert bad.exit_code in (1, 2) and "Traceback" not in bad.output
    assert invoke(env, "report", "aging", "--as-of", "2026-03-01'; --").exit_code == 1
    assert_intact(database_url)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(Hold.reason)).scalars().all() == [reason]
        assert reason in " ".join(conn.execute(select(Event.text)).scalars())
    engine.dispose()


def assert_neutralised(cell: str) -> None:
    try:
        float(cell)
        return  # a plain number is left alone
    except ValueError:
        pass
    assert not cell.startswith(FORMULA_START), repr(cell)


def test_the_aging_csv_neutralises_every_formula_cell(env: dict[str, str]) -> None:
    res = invoke(env, "report", "aging", "--as-of", "2026-03-01", "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout)))
    cells = [c for row in rows for c in row]
    assert len(rows) == len(HOSTILE) + 1, rows  # the header, a row per customer
    for cell in cells:
        assert_neutralised(cell)
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in cells and "'-2+3 SA" in cells and "'@SUM(1+1)" in cells


def test_link_all_unlinked_neutralises_every_formula_cell(env: dict[str, str],
                                                         fake_telegram_thread: FakeTelegram) -> None:
    tg = fake_telegram_thread
    res = invoke(env | {"TELEGRAM_BOT_TOKEN": tg.token, "COLLECTBOT_TELEGRAM_API_URL": tg.api_url},
                 "link", "--all-unlinked", "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert len(rows) == len(HOSTILE) + 1
    for cell in (c for row in rows for c in row):
        assert_neutralised(cell)
    assert "'=CMD|' /C calc'!A0" in [row[0] for row in rows]


def test_the_debtors_statement_csv_neutralises_every_formula_cell(env: dict[str, str], database_url: str) -> None:
    from bot.services.customers import find

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            for ref, _name in HOSTILE:
                text = statement_csv(customer_statement(conn, find(conn, ref).customer, date(2026, 3, 1)))
                for cell in (c for row in csv.reader(io.StringIO(text)) for c in row):
                    assert_neutralised(cell)
    finally:
        engine.dispose()
