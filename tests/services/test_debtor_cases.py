"""Claims, disputes and credit notes against the ledger: what counts in balances and what pauses dunning."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.importer import import_file
from bot.services.balances import balance_document
from bot.services.customers import resolve
from bot.services.disputes import missing_credit_notes, open_debtor_dispute, remind_missing_credit_notes
from bot.services.disputes import resolve as resolve_dispute
from bot.services.payments import Claim, claim_payment, decide_payment
from storage.tables import Event, StaffAlert
from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.telegram.harness import NOW, load_ledger, make_app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> App:
    the_app = make_app(database_url, FakeTelegram())
    load_ledger(the_app, tmp_path)
    yield the_app
    the_app.engine.dispose()


def balance(app: App, ref: str = "ACME") -> dict:
    with app.engine.connect() as conn:
        return balance_document(conn, resolve(conn, ref), NOW.date())


def imported(app: App, tmp_path: Path, kind: str, *lines: str) -> None:
    headers = {"payments": "payment_ref,customer_ref,date,amount,currency,method,applies_to",
               "documents": "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref"}
    path = tmp_path / f"more-{kind}.csv"
    path.write_text("\n".join([headers[kind], *lines]) + "\n", encoding="utf-8")
    import_file(app.engine, kind, path, app.import_context())


def claim(app: App, cents: int, day: date, reference: str = "TRF-1", ref: str = "INV-2",
          open_cents: int = 30050) -> int:
    with app.engine.begin() as conn:
        return claim_payment(conn, resolve(conn, "ACME"), Claim(((ref, open_cents),), cents, "USD", day, reference),
                             actor="debtor:1", now=NOW)


def test_a_claim_counts_only_once_confirmed_and_the_erps_import_of_it_does_not_count_again(
    app: App, tmp_path: Path
) -> None:
    before = balance(app)["balances"][0]["total_open"]
    assert before == "1200.50"
    pid = claim(app, 30050, date(2026, 3, 10))
    assert balance(app)["balances"][0]["total_open"] == "1200.50"  # claimed: not money yet
    assert {i["doc_ref"]: i["status"] for i in balance(app)["open_items"]}["INV-2"] == "claimed"
    with app.engine.begin() as conn:
        decide_payment(conn, pid, confirm=True, reason="", actor="cli", now=NOW)
    assert balance(app)["balances"][0]["total_open"] == "900.00"
    # the ERP's payments file brings the same payment later, under its own ref and value date
    imported(app, tmp_path, "payments", "ERP-PAY-77,ACME,2026-03-12,300.50,USD,wire,INV-2:300.50")
    assert balance(app)["balances"][0]["total_open"] == "900.00"  # not 599.50
    # a different payment of the ERP is not mistaken for it
    imported(app, tmp_path, "payments", "ERP-PAY-78,ACME,2026-03-13,50.00,USD,wire,")
    assert balance(app)["balances"][0]["total_open"] == "850.00"


def test_a_rejected_claim_never_counts_and_dunning_resumes(app: App) -> None:
    pid = claim(app, 30050, date(2026, 3, 10))
    with app.engine.begin() as conn:
        decide_payment(conn, pid, confirm=False, reason="not on the statement", actor="cli", now=NOW)
        with pytest.raises(ValueError, match="is rejected, not claimed"):
            decide_payment(conn, pid, confirm=True, reason="", actor="cli", now=NOW)
    doc = balance(app)
    assert doc["balances"][0]["total_open"] == "1200.50"
    assert {i["doc_ref"]: i["status"] for i in doc["open_items"]} == {"INV-1": "open", "INV-2": "open"}


def test_a_valid_dispute_pauses_the_invoice_until_the_erps_credit_note_comes(app: App, tmp_path: Path) -> None:
    with app.engine.begin() as conn:
        did = open_debtor_dispute(conn, resolve(conn, "ACME"), "INV-1", reason="wrong_price", text="10% off agreed",
                                  actor="debtor:1", now=NOW)
        resolve_dispute(conn, did, valid=True, reason="agreed", actor="cli", now=NOW)
    assert {i["doc_ref"]: i["status"] for i in balance(app)["open_items"]}["INV-1"] == "disputed"
    later = NOW + timedelta(days=14)
    with app.engine.begin() as conn:
        assert missing_credit_notes(conn, now=later - timedelta(seconds=1), wait_days=14) == []
        assert remind_missing_credit_notes(conn, now=later, wait_days=14) == 1
        assert remind_missing_credit_notes(conn, now=later + timedelta(days=1), wait_days=14) == 0  # once
        ((text,),) = conn.execute(select(StaffAlert.text).where(StaffAlert.kind == "credit_note_missing")).all()
        assert "dispute 1" in text and "`INV-1`" in text
        assert conn.execute(select(Event.kind).where(Event.kind == "escalated")).scalars().all() == ["escalated"]
    # CN-1 (an older credit note on INV-1) was there before the dispute: it is not the awaited one
    imported(app, tmp_path, "documents", "CN-2,ACME,credit_note,2026-03-20,,90.00,USD,INV-1")
    assert {i["doc_ref"]: i["status"] for i in balance(app)["open_items"]}["INV-1"] == "open"
    with app.engine.begin() as conn:
        assert missing_credit_notes(conn, now=later, wait_days=14) == []


def test_a_dispute_found_not_valid_resumes_dunning_at_once(app: App) -> None:
    with app.engine.begin() as conn:
        did = open_debtor_dispute(conn, resolve(conn, "ACME"), "INV-2", reason="not_received", text="",
                                  actor="debtor:1", now=NOW)
        assert {i["doc_ref"]: i["status"] for i in balance_document(conn, resolve(conn, "ACME"),
                                                                     NOW.date())["open_items"]}["INV-2"] == "disputed"
        resolve_dispute(conn, did, valid=False, reason="signed delivery note", actor="cli", now=NOW)
    assert {i["doc_ref"]: i["status"] for i in balance(app)["open_items"]}["INV-2"] == "open"
