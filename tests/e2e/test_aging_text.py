"""`report aging` as text on a narrow terminal: the unapplied credit is a column, and no amount is cut."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from bot import cli_ledger
from bot.cli import app

CUSTOMERS = (
    "customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,country,"
    "sales_rep_slack_id,aliases\n"
    "CREDITED,Distribuciones Peñalara S.L.,default,EUR,,30,es,Europe/Madrid,ES,,\n"
    "OWING,Smith Jones & Partners LLP of the Very Long Name,default,EUR,,30,en,UTC,GB,,\n"
)
DOCUMENTS = (
    "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref\n"
    "CN-1,CREDITED,credit_note,2026-03-01,,100.00,EUR,\n"
    "INV-1,OWING,invoice,2026-01-01,2026-01-31,123456789.05,EUR,\n"
)


def test_a_customer_in_credit_shows_why_its_total_is_negative(database_url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLLECTBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("COLLECTBOT_TIMEZONE", "UTC")
    runner = CliRunner()
    for kind, text in (("customers", CUSTOMERS), ("documents", DOCUMENTS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        assert runner.invoke(app, ["import", kind, str(path)]).exit_code == 0
    screen = io.StringIO()
    monkeypatch.setattr(cli_ledger, "out", Console(file=screen, width=80, highlight=False))
    result = runner.invoke(app, ["report", "aging", "--as-of", "2026-04-01"])
    assert result.exit_code == 0, result.output
    text = screen.getvalue()
    header = " ".join(line for line in text.splitlines() if "┃" in line)
    assert "unapplied" in header and "credit" in header
    credited = next(line for line in text.splitlines() if "CREDITED" in line)
    assert [cell.strip() for cell in credited.split("│")[3:-1]] == ["0.00"] * 5 + ["100.00", "-100.00"]
    owing = next(line for line in text.splitlines() if "OWING" in line)
    assert "123456789.05" in owing and "…" not in text
    assert "total = open items − unapplied credit" in text
