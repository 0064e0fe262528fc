"""`collectbot credit-hold`, `balance`, `timeline` and `sweep` as real processes (issue 11: 1.3-1.6).

DESIGN "Dunning policy": a credit hold (the stop on new sales) is set by the formal notice or by
`collectbot credit-hold CUSTOMER --set --reason TEXT`, lifted by the first sweep with nothing
overdue or by `--release`; `credit_hold` is in `balance --format json`; events `credit_hold_set`
and `credit_hold_released`. A policy change takes effect at the next sweep; a dry run reports
what the real sweep does ("N skipped, M staff alerts"); staff alerts are in the timeline.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.importer import import_file

CUSTOMERS = [
    "customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,"
    "country,sales_rep_slack_id,aliases",
    "ACME,ACME Corporation,default,USD,50000.00,30,en,UTC,US,U0SALES01,Acme Corp",
    "CLEAN,Clean Books Ltd,default,USD,,30,en,UTC,US,U0SALES02,",
]
DOCUMENTS = [
    "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref",
    "INV-1,ACME,invoice,2026-02-02,2026-03-04,1200.00,USD,",
    "INV-2,ACME,invoice,2026-02-02,2026-03-04,300.00,USD,",
    "INV-9,CLEAN,invoice,2026-03-01,2027-05-30,50.00,USD,",
]
PAID = [
    "payment_ref,customer_ref,date,amount,currency,method,applies_to",
    "PAY-1,ACME,2026-04-21,1500.00,USD,wire,",
]
SWEEPS = ["2026-03-12T10:00:00+00:00", "2026-03-19T10:00:00+00:00", "2026-04-03T10:00:00+00:00",
          "2026-04-20T10:00:00+00:00"]  # first, second, final, formal notice

Cli = Any


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def ledger(database_url: str, tmp_path: Path) -> str:
    app = App(Settings(database_url=database_url, _env_file=None),
              clock=FixedClock(datetime(2026, 3, 1, tzinfo=UTC)))
    ctx = app.import_context()
    import_file(app.engine, "customers", write(tmp_path / "c.csv", CUSTOMERS), ctx)
    import_file(app.engine, "documents", write(tmp_path / "d.csv", DOCUMENTS), ctx)
    app.engine.dispose()
    return database_url


def ok(proc) -> str:  # noqa: ANN001
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def balance(cli: Cli, who: str, as_of: str) -> dict:
    return json.loads(ok(cli("balance", who, "--format", "json", "--as-of", as_of)))


def events(cli: Cli, who: str) -> list[dict]:
    return json.loads(ok(cli("timeline", who, "--format", "json")))["events"]


def test_the_formal_notice_sets_a_credit_hold_and_a_sweep_after_payment_lifts_it(
    ledger: str, cli: Cli, tmp_path: Path
) -> None:
    for now in SWEEPS:
        ok(cli("sweep", "--now", now))
    doc = balance(cli, "ACME", "2026-04-20")
    assert doc["credit_hold"] is True
    assert "(credit hold)" in ok(cli("balance", "ACME", "--as-of", "2026-04-20"))
    kinds = [e["kind"] for e in events(cli, "ACME")]
    assert kinds.count("credit_hold_set") == 1 and "hold_set" not in kinds
    assert kinds.count("chase_by_phone") == 4 and kinds.count("escalated") == 1 and kinds.count("heads_up") == 1
    [heads_up] = [e for e in events(cli, "ACME") if e["kind"] == "heads_up"]
    assert re.search(r"final on \d{4}-\d{2}-\d{2}", heads_up["text"]) and heads_up["doc_refs"] == ["INV-1", "INV-2"]

    ok(cli("import", "payments", write(tmp_path / "p.csv", PAID)))
    ok(cli("sweep", "--now", "2026-04-22T10:00:00+00:00"))
    assert balance(cli, "ACME", "2026-04-22")["credit_hold"] is False
    assert "(credit hold)" not in ok(cli("balance", "ACME", "--as-of", "2026-04-22"))
    released = [e for e in events(cli, "ACME") if e["kind"] == "credit_hold_released"]
    assert [e["actor"] for e in released] == ["system"]


def test_credit_hold_by_hand_needs_an_exact_name_and_a_reason(ledger: str, cli: Cli) -> None:
    bad = [
        ("credit-hold", "ACME", "--set"),  # no reason
        ("credit-hold", "ACME", "--reason", "x"),  # neither --set nor --release
        ("credit-hold", "ACME", "--set", "--release", "--reason", "x"),
        ("credit-hold", "Acme Corporatoin", "--set", "--reason", "x"),  # a lenient match
        ("credit-hold", "NOBODY", "--set", "--reason", "x"),
        ("credit-hold", "ACME", "--release", "--reason", "x"),  # not on credit hold
    ]
    for args in bad:
        proc = cli(*args)
        assert proc.returncode != 0, args
        assert len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)
    assert balance(cli, "ACME", "2026-03-20")["credit_hold"] is False
    assert [e for e in events(cli, "ACME") if e["kind"].startswith("credit_hold")] == []

    ok(cli("credit-hold", "acme corp", "--set", "--reason", "cheque bounced"))  # an alias, exactly
    assert balance(cli, "ACME", "2026-03-20")["credit_hold"] is True
    assert cli("credit-hold", "ACME", "--set", "--reason", "again").returncode != 0
    ok(cli("credit-hold", "ACME", "--release", "--reason", "cheque cleared"))
    assert balance(cli, "ACME", "2026-03-20")["credit_hold"] is False
    held = [(e["kind"], e["actor"], e["text"]) for e in events(cli, "ACME") if e["kind"].startswith("credit_hold")]
    assert held == [("credit_hold_set", "cli", "credit hold set: cheque bounced"),
                    ("credit_hold_released", "cli", "credit hold released: cheque cleared")]


def test_a_hand_set_hold_on_a_clean_account_stays_until_released_by_hand(ledger: str, cli: Cli) -> None:
    ok(cli("credit-hold", "CLEAN", "--set", "--reason", "bankruptcy filing in the news"))
    ok(cli("sweep", "--now", "2026-03-12T10:00:00+00:00"))
    assert balance(cli, "CLEAN", "2026-03-12")["credit_hold"] is True
    # one set while something is overdue is lifted by the sweep once nothing is
    ok(cli("credit-hold", "ACME", "--set", "--reason", "late"))
    assert balance(cli, "ACME", "2026-03-12")["credit_hold"] is True


def test_a_policy_file_change_applies_to_items_already_imported(ledger: str, cli: Cli, tmp_path: Path) -> None:
    """Issue 11, 1.5: pre_due moved from -3 to -5 days; nothing went out until the old date."""
    from bot.domain.policy_loader import default_policy_text

    early = "2026-02-27T10:00:00+00:00"  # Friday: 5 days before INV-1/INV-2's due date
    assert json.loads(ok(cli("sweep", "--now", early, "--format", "json")))["messages"] == []
    text = default_policy_text()
    moved = text.replace('name = "pre_due"\noffset_days = -3', 'name = "pre_due"\noffset_days = -5', 1)
    assert moved != text
    policy = tmp_path / "policy.toml"
    policy.write_text(moved, encoding="utf-8")
    env = {"COLLECTBOT_POLICY_FILE": str(policy)}
    proc = cli_with(cli, env, "sweep", "--now", early, "--format", "json", "--dry-run")
    assert [m["step"] for m in json.loads(ok(proc))["messages"]] == ["pre_due"]
    proc = cli_with(cli, env, "sweep", "--now", early, "--format", "json")
    assert [(m["customer_ref"], m["step"], m["status"]) for m in json.loads(ok(proc))["messages"]] == [
        ("ACME", "pre_due", "no_channel")]


def cli_with(cli: Cli, env: dict[str, str], *args: str):  # noqa: ANN201
    import subprocess

    from tests.conftest import COLLECTBOT, cli_env

    return subprocess.run([COLLECTBOT, *args], env=cli_env(cli.database_url) | env, cwd=cli.cwd, text=True,
                          capture_output=True, timeout=120)


def test_sweep_text_says_skipped_and_staff_alerts_alike_in_a_dry_run(ledger: str, cli: Cli) -> None:
    now = "2026-03-12T10:00:00+00:00"  # ACME: pre_due and due skipped, first to a rep by phone
    dry = ok(cli("sweep", "--now", now, "--dry-run"))
    real = ok(cli("sweep", "--now", now))
    pattern = re.compile(r"(\d+) messages?, (\d+) skipped, (\d+) staff alerts?")
    assert pattern.search(dry).groups() == pattern.search(real).groups() == ("1", "4", "1")
