"""Claimed payments that nothing confirms (issue 13 §9): after `unmatched_claim_days`, one alert in the thread."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.domain.policy_loader import PolicyError, default_policy_text, parse_policy
from bot.importer import import_file
from bot.services.customers import resolve
from bot.services.disputes import remind_missing_credit_notes
from bot.services.payments import Claim, alert_unmatched_claims, claim_payment, decide_payment
from storage.tables import Event, StaffAlert
from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.telegram.harness import NOW, load_ledger, make_app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> App:
    the_app = make_app(database_url, FakeTelegram())
    load_ledger(the_app, tmp_path)
    yield the_app
    the_app.engine.dispose()


def claim(app: App, cents: int, reference: str, *, at=NOW) -> int:  # noqa: ANN001
    with app.engine.begin() as conn:
        return claim_payment(conn, resolve(conn, "ACME"), Claim((("INV-2", 30050),), cents, "USD", date(2026, 3, 10),
                                                                reference), actor="debtor:1", now=at)


def sweep(app: App, days_later: int) -> int:
    with app.engine.begin() as conn:
        later = NOW + timedelta(days=days_later)
        return alert_unmatched_claims(conn, now=later, wait_days=app.policy.unmatched_claim_days)


def alerts(app: App) -> list:
    with app.engine.connect() as conn:
        return conn.execute(select(StaffAlert).where(StaffAlert.kind == "payment_unmatched")).all()


def test_an_unmatched_claim_is_shown_once_after_the_policy_days(app: App) -> None:
    assert app.policy.unmatched_claim_days == 10
    pid = claim(app, 30050, "TRF <!channel>")
    assert sweep(app, 9) == 0  # not yet
    assert sweep(app, 10) == 1
    assert sweep(app, 11) == 0  # once
    [alert] = alerts(app)
    assert alert.payload == {"decision": "payment", "id": pid}  # still claimed: Confirm / Reject on it
    assert "TRF &lt;!channel&gt;" in alert.text and "<!channel>" not in alert.text
    assert "after 10 days no imported payment matches it" in alert.text
    with app.engine.connect() as conn:
        [event] = conn.execute(select(Event).where(Event.kind == "escalated")).all()
    assert event.actor == "system" and f"CLAIM-{pid}" in event.text


def test_a_claim_the_erp_imported_or_staff_rejected_is_not_shown(app: App, tmp_path: Path) -> None:
    matched = claim(app, 30050, "TRF-9")
    rejected = claim(app, 100, "TRF-10")
    confirmed = claim(app, 777, "TRF-11")
    with app.engine.begin() as conn:
        decide_payment(conn, rejected, confirm=False, reason="", actor="cli", now=NOW)
        decide_payment(conn, confirmed, confirm=True, reason="", actor="cli", now=NOW)
    path = tmp_path / "erp.csv"
    path.write_text("payment_ref,customer_ref,date,amount,currency,method,applies_to\n"
                    "TRF-9,ACME,2026-03-12,300.50,USD,wire,\n", encoding="utf-8")
    import_file(app.engine, "payments", path, app.import_context())
    assert sweep(app, 30) == 1
    [alert] = alerts(app)
    assert alert.payload == {"payment": confirmed}  # confirmed by staff, not booked by the ERP: no buttons
    assert "It was confirmed: please check that the ERP has booked it." in alert.text
    assert matched


def test_the_policy_key_is_bounded() -> None:
    with pytest.raises(PolicyError, match="unmatched_claim_days"):
        parse_policy(default_policy_text().replace("unmatched_claim_days = 10", "unmatched_claim_days = 0"))


def test_same_call_shape_as_the_credit_note_reminder(app: App) -> None:
    with app.engine.begin() as conn:
        for job in (alert_unmatched_claims, remind_missing_credit_notes):
            assert job(conn, now=NOW, wait_days=14) == 0


def test_the_sweep_raises_the_unmatched_claim_alert_and_a_dry_run_counts_it_alike(app: App) -> None:
    """The sweep itself calls alert_unmatched_claims (and remind_missing_credit_notes): nobody has to."""
    from bot.app import build_sweeper

    claim(app, 30050, "TRF-77")
    sweeper = build_sweeper(app)
    later = NOW + timedelta(days=10)
    planned = sweeper.record(later, dry_run=True)
    assert alerts(app) == []  # a dry run writes nothing
    done = sweeper.record(later)
    [alert] = alerts(app)
    assert "TRF-77" in alert.text
    assert planned.alerts == done.alerts >= 1  # the dry run counted the same staff alerts
    sweeper.record(later + timedelta(days=1))
    assert len(alerts(app)) == 1  # once
