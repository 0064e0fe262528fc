"""Payment plans in the sweep: instalment reminders, a missed instalment, a plan paid off.

DESIGN.md: "invoices in an approved plan (the plan's own instalment reminders
apply instead)"; "A missed instalment or a broken promise escalates"; the sweep
contract lists plan instalment reminders with step `installment`. The packaged
policy announces an instalment 3 days before it falls due
(installment_reminder_days_before) and counts it missed 3 days after
(installment_grace_days) when payments, or claims staff have not decided yet,
do not cover it and every instalment before it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import test_sweep
from sqlalchemy import insert, select
from test_sweep import PAYMENTS_HEADER, Make, _write, at_local, cust, doc, items

from bot.importer import import_file
from bot.services.cases import decide_plan, propose_plan
from bot.services.holds import set_hold
from storage.tables import Allocation, Customer, Payment, PaymentPlan, PlanInstallment, ReminderSend

world = test_sweep.world  # the fixture: one database with an imported ledger
APPROVED = date(2026, 3, 16)  # a Monday; instalments fall on 04-16, 05-16 (a Saturday), 06-16


def approve_plan(w, refs: list[str], total_cents: int, count: int) -> int:  # noqa: ANN001
    now = at_local(APPROVED, 11)
    with w.engine.begin() as conn:
        plan_id = propose_plan(conn, refs, total_cents=total_cents, count=count, actor="debtor:1001", now=now)
    with w.engine.begin() as conn:
        decide_plan(conn, plan_id, approve=True, actor="slack:UCREDIT", now=now, today=APPROVED)
    return plan_id


def plan_status(w, plan_id: int) -> str:  # noqa: ANN001
    with w.engine.connect() as conn:
        return conn.execute(select(PaymentPlan.status).where(PaymentPlan.id == plan_id)).scalar_one()


def schedule(w, plan_id: int) -> list[tuple[int, date, int]]:  # noqa: ANN001
    t = PlanInstallment.__table__
    with w.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(t.c.seq, t.c.due_date, t.c.amount_cents).where(t.c.plan_id == plan_id).order_by(t.c.seq))]


def pay(w, tmp_path: Path, ref: str, day: date, amount: str, applies_to: str) -> None:  # noqa: ANN001
    path = _write(tmp_path / f"{ref}.csv", PAYMENTS_HEADER, [f"{ref},C1,{day},{amount},USD,wire,{applies_to}"])
    import_file(w.engine, "payments", path, w.app.import_context())


def installment_rows(w) -> list[tuple[str, str]]:  # noqa: ANN001
    t = ReminderSend.__table__
    with w.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(t.c.key, t.c.status).where(t.c.step == "installment").order_by(t.c.id))]


def test_an_approved_plan_gets_its_instalment_reminders_instead(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", date(2026, 3, 4), "900.00")])
    w.link("C1", 1001)
    plan_id = approve_plan(w, ["INV-1"], 90_000, 3)
    assert schedule(w, plan_id) == [
        (1, date(2026, 4, 16), 30_000), (2, date(2026, 5, 16), 30_000), (3, date(2026, 6, 16), 30_000)]

    # In the plan, the invoice is not dunned, although `first` (+7) and `second` (+15) are long due.
    for day in (date(2026, 3, 17), date(2026, 4, 1), date(2026, 4, 10)):
        assert w.sweep(at_local(day, 10)).messages == []

    report = w.sweep(at_local(date(2026, 4, 13), 10))  # 3 days before the first instalment
    assert items(report) == [("C1", "INV-1", "installment", "sent")]
    message = report.as_json()["messages"][0]
    assert message["step"] == "installment"
    assert message["doc_refs"] == ["INV-1"]
    assert len(w.sent) == 1
    text = w.sent[0].text
    assert "instalment 1 of 3" in text
    assert "300.00" in text
    assert "16" in text and "2026" in text
    assert installment_rows(w) == [(f"plan:{plan_id}:inst:1:pre", "sent")]
    assert [e.text for e in w.events("reminder_sent")] == ["installment reminder sent"]

    # once per instalment: later the same day and on the following days, nothing
    for day in (date(2026, 4, 13), date(2026, 4, 14), date(2026, 4, 15), date(2026, 4, 16)):
        assert w.sweep(at_local(day, 15)).messages == []
    assert len(w.sent) == 1


def test_paid_instalments_keep_the_plan_and_the_next_one_is_announced(world: Make, tmp_path: Path) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", date(2026, 3, 4), "900.00")])
    w.link("C1", 1001)
    plan_id = approve_plan(w, ["INV-1"], 90_000, 3)
    w.sweep(at_local(date(2026, 4, 13), 10))
    pay(w, tmp_path, "PAY-1", date(2026, 4, 15), "300.00", "INV-1:300.00")
    for day in range(17, 31):  # past the first instalment's grace: paid, so nothing happens
        assert w.sweep(at_local(date(2026, 4, day), 10)).messages == []
    assert plan_status(w, plan_id) == "approved"
    # 05-16 is a Saturday: its reminder window opens on Wednesday 05-13
    report = w.sweep(at_local(date(2026, 5, 13), 10))
    assert items(report) == [("C1", "INV-1", "installment", "sent")]
    assert "instalment 2 of 3" in w.sent[-1].text
    assert [k for k, _ in installment_rows(w)] == [f"plan:{plan_id}:inst:1:pre", f"plan:{plan_id}:inst:2:pre"]


def test_a_missed_instalment_breaks_the_plan_escalates_and_dunning_resumes(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", date(2026, 3, 4), "900.00")])
    w.link("C1", 1001)
    plan_id = approve_plan(w, ["INV-1"], 90_000, 3)
    w.sweep(at_local(date(2026, 4, 13), 10))
    # due 04-16, grace 3 days: still the plan's on the 19th
    assert w.sweep(at_local(date(2026, 4, 19), 10)).messages == []
    assert plan_status(w, plan_id) == "approved"
    report = w.sweep(at_local(date(2026, 4, 20), 10))  # a Monday, 47 days after the due date
    assert plan_status(w, plan_id) == "broken"
    assert [e.text for e in w.events("plan_broken")] == [
        f"plan {plan_id}: instalment 1 due 2026-04-16 was not paid; reminders resume"]
    broken = [(ref, text) for ref, kind, text in w.posted if kind == "plan_broken"]
    assert len(broken) == 1
    assert broken[0][0] == "C1"
    assert "C1 Ltd" in broken[0][1] and "instalment 1 of 3" in broken[0][1]
    # dunning resumes in the same sweep, one step at a time: the skippable ones are skipped
    assert items(report) == [("C1", "INV-1", "first", "sent")]
    assert w.sweep(at_local(date(2026, 4, 23), 10)).messages[0].step == "second"
    # the break is told once, and a broken plan announces nothing more
    for day in (date(2026, 5, 13), date(2026, 5, 14)):
        w.sweep(at_local(day, 10))
    assert len([k for _r, k, _t in w.posted if k == "plan_broken"]) == 1
    assert [k for k, _ in installment_rows(w)] == [f"plan:{plan_id}:inst:1:pre"]


def test_a_claimed_payment_keeps_an_instalment_from_counting_as_missed(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", date(2026, 3, 4), "900.00")])
    w.link("C1", 1001)
    plan_id = approve_plan(w, ["INV-1"], 90_000, 3)
    with w.engine.begin() as conn:
        cid = conn.execute(select(Customer.id).where(Customer.ref == "C1")).scalar_one()
        pid = conn.execute(insert(Payment).values(
            ref="CLAIM-1", customer_id=cid, date=date(2026, 4, 16), amount_cents=30_000, currency="USD",
            status="claimed", source="debtor", created_at=at_local(date(2026, 4, 16), 9),
        ).returning(Payment.id)).scalar_one()
        conn.execute(insert(Allocation).values(payment_id=pid, document_ref="INV-1", amount_cents=30_000))
    assert w.sweep(at_local(date(2026, 4, 22), 10)).messages == []
    assert plan_status(w, plan_id) == "approved"
    assert w.events("plan_broken") == []


def test_a_plan_paid_in_full_is_completed(world: Make, tmp_path: Path) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", date(2026, 3, 4), "900.00")])
    w.link("C1", 1001)
    plan_id = approve_plan(w, ["INV-1"], 90_000, 3)
    pay(w, tmp_path, "PAY-ALL", date(2026, 3, 20), "900.00", "INV-1:900.00")
    assert w.sweep(at_local(date(2026, 3, 23), 10)).messages == []
    assert plan_status(w, plan_id) == "completed"
    assert len(w.events("plan_completed")) == 1
    for day in (date(2026, 4, 13), date(2026, 4, 20)):
        assert w.sweep(at_local(day, 10)).messages == []
    assert installment_rows(w) == []
    assert w.events("plan_broken") == []


def test_instalment_reminders_wait_for_business_hours_and_a_dry_run_records_nothing(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", date(2026, 3, 4), "900.00")])
    w.link("C1", 1001)
    approve_plan(w, ["INV-1"], 90_000, 3)
    early = w.sweep(at_local(date(2026, 4, 13), 7))
    assert items(early) == [("C1", "INV-1", "installment", "deferred")]
    dry = w.sweep(at_local(date(2026, 4, 13), 10), dry_run=True)
    assert items(dry) == [("C1", "INV-1", "installment", "dry_run")]
    assert installment_rows(w) == [] and w.sent == []
    assert items(w.sweep(at_local(date(2026, 4, 13), 10))) == [("C1", "INV-1", "installment", "sent")]


def test_no_linked_chat_asks_sales_to_phone_about_the_instalment(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", date(2026, 3, 4), "900.00")])
    plan_id = approve_plan(w, ["INV-1"], 90_000, 3)
    report = w.sweep(at_local(date(2026, 4, 13), 10))
    assert items(report) == [("C1", "INV-1", "installment", "no_channel")]
    assert installment_rows(w) == [(f"plan:{plan_id}:inst:1:pre", "no_channel")]
    chase = [text for _r, kind, text in w.posted if kind == "chase_by_phone"]
    assert len(chase) == 1
    assert f"Payment plan {plan_id}: instalment 1 of 3" in chase[0]
    assert w.sweep(at_local(date(2026, 4, 14), 10)).messages == []


def test_a_customer_hold_silences_instalment_reminders_too(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", date(2026, 3, 4), "900.00")])
    w.link("C1", 1001)
    approve_plan(w, ["INV-1"], 90_000, 3)
    with w.engine.begin() as conn:
        set_hold(conn, "C1", until=date(2026, 4, 14), reason="audit", actor="cli",
                 now=at_local(date(2026, 4, 1), 10))
    assert w.sweep(at_local(date(2026, 4, 13), 10)).messages == []
    assert w.sweep(at_local(date(2026, 4, 14), 10)).messages == []
    assert items(w.sweep(at_local(date(2026, 4, 15), 10))) == [("C1", "INV-1", "installment", "sent")]


def test_an_instalment_and_a_ladder_step_share_one_message_in_the_higher_tone(world: Make) -> None:
    w = world([cust("C1")], [
        doc("INV-1", "C1", date(2026, 3, 4), "900.00"),
        doc("INV-2", "C1", date(2026, 4, 6), "100.00"),
    ])
    w.link("C1", 1001)
    approve_plan(w, ["INV-1"], 90_000, 3)
    w.sweep(at_local(date(2026, 4, 6), 10))  # INV-2: pre_due skipped... due is +1
    report = w.sweep(at_local(date(2026, 4, 13), 10))  # INV-2 +7: first; INV-1's instalment
    assert sorted(items(report)) == [("C1", "INV-1", "installment", "sent"), ("C1", "INV-2", "first", "sent")]
    assert len(report.messages) == 1 and report.messages[0].step == "first"
    text = w.sent[-1].text
    assert "INV-2" in text and "instalment 1 of 3" in text


def test_plan_approve_and_sweep_on_the_command_line_show_the_instalment(world: Make, cli) -> None:  # noqa: ANN001
    """`collectbot plan approve` (its --now-less clock is the real one, so the plan is approved
    at COLLECTBOT's today); `collectbot sweep --format json` then lists the instalment."""
    import json
    from datetime import UTC, datetime, timedelta

    w = world([cust("C1")], [doc("INV-1", "C1", date(2026, 3, 4), "900.00")])
    with w.engine.begin() as conn:
        plan_id = propose_plan(conn, ["INV-1"], total_cents=90_000, count=2, actor="debtor:1001",
                               now=at_local(APPROVED, 11))
    proc = cli("plan", "approve", str(plan_id))
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(cli("plan", "list", "--format", "json").stdout)["plans"]
    assert [(p["id"], p["status"], len(p["installments"])) for p in listed] == [(plan_id, "approved", 2)]
    first_due = date.fromisoformat(listed[0]["installments"][0]["due_date"])
    day = first_due - timedelta(days=3)
    while day.weekday() >= 5:  # a weekday inside the reminder window
        day += timedelta(days=1)
    now = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).isoformat()
    proc = cli("sweep", "--now", now, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["messages"] == [{
        "customer_ref": "C1", "channel": "none", "step": "installment", "doc_refs": ["INV-1"],
        "items": [{"doc_ref": "INV-1", "step": "installment"}], "status": "no_channel"}]
