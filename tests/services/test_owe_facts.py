"""The facts of "what does ACME owe?" (bot.services.owe) and a rep's aging (bot.services.slack_reports)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.services.balances import aging_document, balance_document
from bot.services.cases import make_promise, open_dispute, propose_plan
from bot.services.customers import resolve
from bot.services.owe import owe_facts
from bot.services.slack_reports import aging_document_for
from bot.services.talk import record_inbound
from tests.handlers.slack.questions.rig import NOW, REP1, build_app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    the_app = build_app(database_url, tmp_path)
    yield the_app
    the_app.engine.dispose()


def facts_of(app: App, name: str) -> dict:
    with app.engine.connect() as conn:
        return owe_facts(conn, resolve(conn, name), now=app.now(), policy=app.policy, company_tz=app.company_tz)


def test_the_balance_is_the_balance_commands_and_every_case_fact_is_there(app: App) -> None:
    with app.engine.begin() as conn:
        open_dispute(conn, ["INV-2"], reason="quality", text="two boxes broken", actor="debtor:7", now=NOW)
        make_promise(conn, "INV-1", promised=date(2026, 11, 30), amount_cents=50_000, actor="debtor:7", now=NOW)
        plan = propose_plan(
            conn,
            ["INV-1"],
            total_cents=100_000,
            count=2,
            actor="debtor:7",
            now=NOW,
            dates=[date(2026, 12, 15), date(2027, 1, 15)],
        )
        acme = resolve(conn, "ACME")
        record_inbound(conn, acme, actor="debtor:7", text="call me", now=NOW - timedelta(hours=1))
    f = facts_of(app, "ACME")
    with app.engine.connect() as conn:
        contract = balance_document(conn, resolve(conn, "ACME"), date(2026, 11, 23))
    assert f["balances"] == contract["balances"] and f["open_items"] == contract["open_items"]
    assert [i["status"] for i in f["open_items"]] == ["promised", "disputed"]
    assert f["customer"] | {"credit_hold": False} == {
        "ref": "ACME",
        "name": "ACME Corporation",
        "segment": "default",
        "currency": "USD",
        "sales_rep_slack_id": REP1,
        "credit_hold": False,
    }
    assert f["disputes"][0] | {"opened_at": ""} == {
        "id": 1,
        "reason": "quality",
        "text": "two boxes broken",
        "opened_at": "",
        "doc_refs": ["INV-2"],
    }
    assert f["promises"] == [{"promised_date": "2026-11-30", "amount": "500.00", "currency": "USD", "doc_ref": "INV-1"}]
    assert f["plans"][0]["id"] == plan and f["plans"][0]["status"] == "proposed"
    assert f["plans"][0]["next_installment"] == {"seq": 1, "count": 2, "due_date": "2026-12-15", "amount": "500.00"}
    assert f["last_contact"]["kind"] == "plan_proposed" and f["last_contact"]["actor"] == "debtor:7"
    assert f["next_step"] is None and f["paused"] == {"disputed": 1, "promised": 1}
    assert f["overdue_count"] == 1 and f["rating"]["grade"] is not None and f["dso"][0]["currency"] == "USD"


def test_nothing_reminded_yet_projects_the_first_step(app: App) -> None:
    f = facts_of(app, "ACME")
    assert f["next_step"] == {"step": "first", "date": "2026-11-23", "doc_refs": ["INV-1"], "awaiting_sales": False}
    assert f["last_contact"] is None and f["disputes"] == [] and f["claims"] == []


def test_a_reps_aging_is_the_aging_report_cut_to_their_customers(app: App) -> None:
    day = date(2026, 11, 23)
    with app.engine.connect() as conn:
        everyone = aging_document(conn, day)
        assert aging_document_for(conn, day)["reports"] == everyone["reports"]
        mine = aging_document_for(conn, day, REP1)
    refs = {r["customer_ref"] for rep in mine["reports"] for r in rep["rows"]}
    assert refs == {"ACME", "CADIZ6", "CADIZ8", "EVIL"}
    usd = next(r for r in mine["reports"] if r["currency"] == "USD")
    assert usd["totals"]["total"] == "1623.45"
