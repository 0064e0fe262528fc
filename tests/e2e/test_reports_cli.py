"""`collectbot report digest|weekly|prospects|scorecard` through the real `collectbot` process.

Read-only checks share the bundled sample ledger (imported once per backend); the
digest gets its own small ledger with a dispute and a claim recorded by the services.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

import bot
from bot.domain.months import Month
from bot.services.cases import open_dispute
from bot.services.reports import prospects_document, scorecard_document, weekly_document
from storage.engine import make_engine
from storage.tables import Allocation, Customer, Payment
from tests.conftest import COLLECTBOT, Cli, cli_env

SAMPLE = Path(bot.__file__).parent / "sample_data"
AS_OF = "2026-11-23"
AMOUNT = re.compile(r"^-?\d+\.\d\d$")
REPORTS = ("digest", "weekly", "prospects", "scorecard")


@pytest.fixture(scope="module")
def sample(new_database, cli_for, tmp_path_factory) -> Iterator[Cli]:  # noqa: ANN001
    cwd = tmp_path_factory.mktemp("reports")
    with new_database(cwd) as url:
        cli = cli_for(url, cwd)
        for kind in ("customers", "documents", "payments"):
            proc = cli("import", kind, SAMPLE / f"{kind}.csv")
            assert proc.returncode == 0, proc.stderr
        yield cli


def run_json(cli: Cli, *args: str) -> dict:
    proc = cli(*args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout)  # exactly one document: json.loads refuses anything after it


def amounts(node: object) -> Iterator[tuple[str, object]]:
    """Every (key, value) of the money fields anywhere in a document."""
    money = {"current", "1-30", "31-60", "61-90", "90+", "overdue", "unapplied_credit", "total_open", "receivables",
             "sales", "credit_limit", "available_credit", "invoiced", "collected", "amount", "paid", "overdue_open"}
    if isinstance(node, dict):
        for k, v in node.items():
            if k in money and not isinstance(v, dict):
                yield k, v
            yield from amounts(v)
    elif isinstance(node, list):
        for v in node:
            yield from amounts(v)


def in_process(cli: Cli, build) -> dict:  # noqa: ANN001
    eng = make_engine(cli.database_url)
    try:
        with eng.connect() as conn:
            return build(conn)
    finally:
        eng.dispose()


def test_json_documents_are_the_services_documents_with_contract_amounts(sample: Cli) -> None:
    weekly = run_json(sample, "report", "weekly", "--as-of", AS_OF)
    prospects = run_json(sample, "report", "prospects", "--as-of", AS_OF)
    card = run_json(sample, "report", "scorecard", "--as-of", AS_OF)  # the month of --as-of
    day = date.fromisoformat(AS_OF)
    assert weekly == in_process(sample, lambda c: weekly_document(c, day))
    assert prospects == in_process(sample, lambda c: prospects_document(c, day))
    assert card == in_process(sample, lambda c: scorecard_document(c, Month(2026, 11)))
    assert card["month"] == "2026-11"
    for doc in (weekly, prospects, card):
        found = list(amounts(doc))
        assert found and all(isinstance(v, str) and AMOUNT.match(v) for _, v in found), found
    usd = next(c for c in weekly["currencies"] if c["currency"] == "USD")
    assert usd["top_overdue"][0]["customer_ref"] == "NANDU" and usd["dso"]["days"] == "57.0"
    assert "ACAI" in {p["customer_ref"] for p in prospects["prospects"]}


def test_the_scorecard_month_argument_and_the_rep_filter(sample: Cli) -> None:
    card = run_json(sample, "report", "scorecard", "2026-10", "--rep", "U0SALES01")
    assert (card["month"], card["rep_slack_id"]) == ("2026-10", "U0SALES01")
    usd = next(r for r in card["reports"] if r["currency"] == "USD")
    assert usd["rows"] == [{"sales_rep_slack_id": "U0SALES01", "invoiced": "22420.00", "collected": "15567.87"}]
    everyone = run_json(sample, "report", "scorecard", "2026-10")
    reps = [r["sales_rep_slack_id"] for r in everyone["reports"][0]["rows"]]
    assert reps == ["U0SALES01", "U0SALES02", "U0SALES03", "U0SALES04", "U0SALES05", None]
    assert all([r["sales_rep_slack_id"] for r in rep["rows"]] == reps for rep in everyone["reports"])


def test_text_reports_are_tables(sample: Cli) -> None:
    weekly = sample("report", "weekly", "--as-of", AS_OF)
    assert weekly.returncode == 0, weekly.stderr
    assert "Weekly aging summary as of 2026-11-23" in weekly.stdout
    assert "Most overdue, USD" in weekly.stdout and "Ñandú Logística S.R.L." in weekly.stdout
    prospects = sample("report", "prospects", "--as-of", AS_OF, "--rep", "U0SALES04")
    assert "Prospects as of 2026-11-23 for U0SALES04's customers" in prospects.stdout
    assert "Cerámicas Gaudí S.A." in prospects.stdout and "ACAI" not in prospects.stdout
    card = sample("report", "scorecard", "2026-10")
    assert "Scorecard for 2026-10" in card.stdout and "(no rep)" in card.stdout and "TOTAL" in card.stdout


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_weekly_writes_the_aging_chart(sample: Cli) -> None:
    chart = sample.cwd / "aging.png"
    proc = sample("report", "weekly", "--as-of", AS_OF, "--chart", chart)
    assert proc.returncode == 0, proc.stderr
    assert f"aging chart written to {chart}" in proc.stderr
    assert png_size(chart.read_bytes()) == (800, 520)  # six currencies


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "weekly", "--as-of", "2026-13-01"), "error: --as-of '2026-13-01' is not a date like 2026-11-23"),
        (("report", "scorecard", "2026-13"), "error: month '2026-13' is not a month like 2026-11"),
        (("report", "weekly", "--chart", "/nonexistent/dir/a.png"), "error: --chart /nonexistent/dir/a.png: cannot"),
    ],
)
def test_bad_input_is_one_line_and_prints_no_report(sample: Cli, args: tuple[str, ...], message: str) -> None:
    proc = sample(*args)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith(message), proc.stderr


def run_with(cli: Cli, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COLLECTBOT, *args], env=cli_env(cli.database_url) | env, cwd=cli.cwd, text=True,
                          capture_output=True, timeout=120)


@pytest.mark.parametrize("report", ["weekly", "scorecard"])
def test_post_without_slack_says_what_to_configure(sample: Cli, report: str) -> None:
    proc = sample("report", report, "--post", "--format", "json")
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == "error: posting to Slack needs SLACK_BOT_TOKEN and COLLECTBOT_SLACK_CHANNEL set\n"


def test_post_names_only_the_missing_setting_and_never_the_token(sample: Cli) -> None:
    proc = run_with(sample, {"SLACK_BOT_TOKEN": "xoxb-secret-123"}, "report", "digest", "--post")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == "error: posting to Slack needs COLLECTBOT_SLACK_CHANNEL set\n"
    unreachable = {"SLACK_BOT_TOKEN": "xoxb-secret-123", "COLLECTBOT_SLACK_CHANNEL": "C123",
                   "COLLECTBOT_SLACK_API_URL": "http://127.0.0.1:9/api/"}  # nothing listens on port 9
    proc = run_with(sample, unreachable, "report", "weekly", "--post")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == "error: cannot post to Slack: cannot reach the Slack Web API (URLError)\n" or (
        len(proc.stderr.splitlines()) == 1 and "cannot post to Slack" in proc.stderr and "xoxb" not in proc.stderr
    ), proc.stderr


def test_every_report_help_works(sample: Cli) -> None:
    top = sample("report", "--help")
    assert top.returncode == 0
    for report in ("aging", *REPORTS):
        assert report in top.stdout
    helps = {report: sample("report", report, "--help") for report in REPORTS}
    for report, proc in helps.items():
        assert proc.returncode == 0, proc.stderr
        for option in ("--as-of", "--rep", "--post", "--format", "Example: collectbot report " + report):
            assert option in proc.stdout, (report, option)
    assert "--chart" in helps["weekly"].stdout and "YYYY-MM" in helps["scorecard"].stdout


CUSTOMERS = """customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,country,\
sales_rep_slack_id,aliases
EVIL,[red]Evil[/red] <!channel>,default,USD,,30,en,UTC,,U7,
PLAIN,Plain Co,default,USD,,30,en,UTC,,U8,
"""
DOCUMENTS = """doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref
E-1,EVIL,invoice,2026-10-01,2026-10-31,120.00,USD,
P-1,PLAIN,invoice,2026-10-01,2026-10-31,80.00,USD,
"""


def test_the_digest_lists_open_disputes_and_claims_with_names_as_text(cli: Cli, tmp_path: Path) -> None:
    for kind, text in (("customers", CUSTOMERS), ("documents", DOCUMENTS)):
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        assert cli("import", kind, tmp_path / f"{kind}.csv").returncode == 0
    eng = make_engine(cli.database_url)
    with eng.begin() as conn:
        open_dispute(conn, ["E-1"], reason="quality", text="broken [bold]glass[/bold]", actor="debtor:5",
                     now=datetime(2026, 11, 20, 10, tzinfo=UTC))
        plain = conn.execute(select(Customer.__table__.c.id).where(Customer.__table__.c.ref == "PLAIN")).scalar()
        pid = conn.execute(insert(Payment.__table__).values(
            ref="CLAIM-9", customer_id=plain, date=date(2026, 11, 21), amount_cents=8000, currency="USD",
            method="pix", status="claimed", source="debtor", reference="E2E-9",
            created_at=datetime(2026, 11, 21, 12, tzinfo=UTC),
        )).inserted_primary_key[0]
        conn.execute(insert(Allocation.__table__).values(payment_id=pid, document_ref="P-1", amount_cents=8000))
    eng.dispose()
    doc = run_json(cli, "report", "digest", "--as-of", AS_OF)
    assert doc["counts"]["disputes_open"] == 1 and doc["counts"]["claims_waiting"] == 1
    assert doc["disputes_open"][0]["name"] == "[red]Evil[/red] <!channel>"
    assert (doc["disputes_open"][0]["age_days"], doc["claims_waiting"][0]["age_days"]) == (3, 2)
    text = cli("report", "digest", "--as-of", AS_OF)
    assert text.returncode == 0, text.stderr
    assert "Daily digest for 2026-11-23 (UTC)" in text.stdout
    assert "[red]Evil[/red] <!channel>" in text.stdout  # rich markup in a name stays text
    assert "Open disputes (1)" in text.stdout and "Claimed payments waiting (1)" in text.stdout
    assert "CLAIM" not in text.stdout or "80.00" in text.stdout
    mine = run_json(cli, "report", "digest", "--as-of", AS_OF, "--rep", "U8")
    assert mine["disputes_open"] == [] and [c["payment_ref"] for c in mine["claims_waiting"]] == ["CLAIM-9"]
