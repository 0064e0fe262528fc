"""Faults of the sweep core found in real use (issue 11: 1.1, 1.3, 1.4, 1.5, 1.6), over a real database.

- 1.1 a customer with 300 overdue invoices: the event's document list is a real list, alert keys
  fit their column, and a customer whose decision fails records nothing of it.
- 1.3 a sales heads-up names the date the step really goes out, once per (item, step), in one
  message per customer per sweep, and every staff alert is in the customer's timeline.
- 1.4 a credit hold is set by the formal notice (`credit_hold_set`) and lifted by the first sweep
  with nothing overdue (`credit_hold_released`).
- 1.5 a policy change applies at the next sweep to items already imported.
- 1.6 a dry run reports the same plan (messages, skipped steps, staff alerts) and writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from bot.importer import import_file
from bot.scheduler.sweep import Sweeper
from bot.services.balances import balance_document
from bot.services.customers import customers_by_id
from storage.tables import (
    Customer,
    Document,
    Event,
    HeadsUp,
    OutboundMessage,
    Promise,
    ReminderSend,
    StaffAlert,
    SweepSetting,
)
from tests.scheduler import test_sweep
from tests.scheduler.test_sweep import (
    DUE,
    PAYMENTS_HEADER,
    START,
    Make,
    World,
    _write,
    at_local,
    cust,
    doc,
    items,
    off,
)

world = test_sweep.world  # the fixture: one database with an imported ledger


def timeline(w: World, customer: str) -> list[tuple[str, str, list[str], str]]:
    """(kind, actor, doc_refs, text) of the customer's events, oldest first."""
    e, c = Event.__table__, Customer.__table__
    with w.engine.connect() as conn:
        rows = conn.execute(
            select(e.c.kind, e.c.actor, e.c.doc_refs, e.c.text)
            .join(c, c.c.id == e.c.customer_id)
            .where(c.c.ref == customer)
            .order_by(e.c.at, e.c.id)
        ).all()
    return [(k, a, list(r), t) for k, a, r, t in rows]


def kinds(w: World, customer: str) -> list[str]:
    return [k for k, *_ in timeline(w, customer)]


def import_more(w: World, tmp_path: Path, kind: str, header: str, rows: list[str]) -> None:
    import_file(w.engine, kind, _write(tmp_path / f"more-{kind}.csv", header, rows), w.app.import_context())


def counts(engine: Engine) -> dict[str, int]:
    """Rows in every table a sweep writes, and the next-action dates: what a dry run must leave alone."""
    out = {}
    with engine.connect() as conn:
        for t in (ReminderSend, StaffAlert, Event, HeadsUp, OutboundMessage, SweepSetting, Promise):
            out[t.__tablename__] = conn.execute(select(func.count()).select_from(t)).scalar_one()
        out["next_actions"] = hash(tuple(conn.execute(
            select(Document.id, Document.next_action_on).order_by(Document.id)).all()))
        out["holds"] = hash(tuple(conn.execute(
            select(Customer.id, Customer.credit_hold).order_by(Customer.id)).all()))
        out["promises"] = hash(tuple(conn.execute(select(Promise.id, Promise.status)).all()))
    return out


# ---------------------------------------------------------------- 1.1 many invoices, no half-record

MANY = 300
LADDER_DAYS = (8, 15, 30, 47)  # first, second, final, formal_notice (47: Monday 20 April)


def test_a_customer_with_300_overdue_invoices_is_chased_with_every_ref_in_the_timeline(world: Make) -> None:
    w = world([cust("BIG")], [doc(f"INV-{k:04d}", "BIG", DUE) for k in range(MANY)])
    refs = [f"INV-{k:04d}" for k in range(MANY)]
    for n in LADDER_DAYS:
        report = w.sweep(at_local(off(n), 10))
        assert {m.status for m in report.messages} == {"no_channel"}
        assert len(items(report)) == MANY
    events = timeline(w, "BIG")
    sent = [(r, t) for k, _a, r, t in events if k == "reminder_sent"]
    assert len(sent) == len(LADDER_DAYS)
    assert all(sorted(r) == refs for r, _t in sent)  # every ref, as a list
    chases = [r for k, _a, r, _t in events if k == "chase_by_phone"]
    assert len(chases) == len(LADDER_DAYS) and all(sorted(r) == refs for r in chases)
    escalated = [r for k, _a, r, _t in events if k == "escalated"]
    assert len(escalated) == 1 and sorted(escalated[0]) == refs
    assert "credit_hold_set" in kinds(w, "BIG")
    alerts = Counter(k for k, _key in w.alerts())
    assert alerts == {"chase_by_phone": len(LADDER_DAYS), "formal_notice": 1, "heads_up": 1}
    [told] = [r for k, _a, r, _t in events if k == "heads_up"]  # one message for all 300 finals
    assert sorted(told) == refs
    assert all(len(key) <= 128 for _k, key in w.alerts())
    assert len([r for r in w.outbox() if r[2] == "no_channel"]) == MANY * len(LADDER_DAYS)


class BrokenTemplate:
    """The app's renderer, except that one staff template fails (as an operator's broken template would)."""

    def __init__(self, renderer: object, broken: str) -> None:
        self.renderer, self.broken = renderer, broken

    def render(self, name: str, locale: str, **ctx: object) -> str:
        if name == self.broken:
            raise RuntimeError(f"template {name} is broken")
        return self.renderer.render(name, locale, **ctx)  # type: ignore[attr-defined]


def test_a_customer_whose_decision_fails_records_none_of_it(world: Make) -> None:
    """Issue 11, 1.1: "285 outbox rows stay committed with no timeline event and no chase alert"."""
    w = world([cust("C1")], [doc(f"INV-{k}", "C1", DUE) for k in range(5)])
    broken = Sweeper(engine=w.engine, policy=w.app.policy, debtor=w.sweeper.debtor, staff=w.sweeper.staff,
                     renderer=BrokenTemplate(w.app.renderer, "staff/chase_by_phone"))
    with pytest.raises(RuntimeError):
        broken.sweep(at_local(off(8), 10))
    assert w.outbox() == []  # not the skips, not the intent: nothing of that customer's decision
    assert w.alerts() == []
    assert timeline(w, "C1") == []
    report = w.sweep(at_local(off(8), 10))  # the next sweep does it all, once
    assert len(items(report)) == 5
    assert kinds(w, "C1").count("chase_by_phone") == 1
    assert len([r for r in w.outbox() if r[2] == "no_channel"]) == 5


# ---------------------------------------------------------------- 1.3 heads-ups

BERLIN = "Europe/Berlin"


def heads_up_texts(w: World, customer: str) -> list[str]:
    return [t for k, _a, _r, t in timeline(w, customer) if k == "heads_up"]


def test_the_heads_up_names_the_real_date_of_the_final_and_comes_before_it(world: Make) -> None:
    """Issue 11, 1.3: Berlin, 1000.00 due 2026-01-31, first swept 2026-03-12: the heads-up said
    "final on Mar 2, 2026" that day, and the final really went out on 19 March unannounced."""
    due = date(2026, 1, 31)
    w = world([cust("BER", BERLIN, "DE", currency="EUR")], [doc("INV-B", "BER", due, currency="EUR")])
    w.link("BER", 77)
    told: list[tuple[date, str]] = []
    sent: list[tuple[date, str]] = []
    day = date(2026, 3, 12)
    while day <= date(2026, 3, 31):
        before = len(w.posted)
        report = w.sweep(at_local(day, 10, BERLIN))
        sent += [(day, s) for _c, _r, s, st in items(report) if st == "sent"]
        told += [(day, t) for _c, k, t in w.posted[before:] if k == "heads_up"]
        day += timedelta(days=1)
    assert sent == [(date(2026, 3, 12), "first"), (date(2026, 3, 16), "second"),
                    (date(2026, 3, 19), "final"), (date(2026, 3, 23), "formal_notice")]
    assert [d for d, _t in told] == [date(2026, 3, 16)]  # 3 days before the final's real date
    assert "2026-03-19" in told[0][1] and "final" in told[0][1]
    assert heads_up_texts(w, "BER") == ["sales told: final on 2026-03-19 (INV-B)"]
    with w.engine.connect() as conn:
        assert conn.execute(select(HeadsUp.step, HeadsUp.projected_on)).all() == [("final", date(2026, 3, 19))]


def test_a_heads_up_never_names_a_past_date_even_after_downtime(world: Make) -> None:
    w = world([cust("C1", "Europe/Madrid", "ES")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1)
    for n in (-3, 1, 7, 15):
        w.sweep(at_local(off(n), 11, "Europe/Madrid"))
    # down from +16 to +40: the final (+30) is long overdue; it goes out now, so the rep hears now
    report = w.sweep(at_local(off(40), 11, "Europe/Madrid"))  # Monday 13 April
    assert [s for *_x, s, _st in items(report)] == ["final"]
    [text] = heads_up_texts(w, "C1")
    assert text == f"sales told: final on {off(40).isoformat()} (INV-1)"


def test_an_evening_sweep_projects_the_next_business_day(world: Make) -> None:
    w = world([cust("C1", "Europe/Madrid", "ES")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1)
    for n in (-3, 1, 7, 15):
        w.sweep(at_local(off(n), 11, "Europe/Madrid"))
    # the final's date, +30, is Good Friday (a national holiday in Spain), then a weekend: it
    # really goes out on Monday 6 April
    w.sweep(at_local(off(27), 20, "Europe/Madrid"))  # Tuesday 31 March, 20:00: 6 days before
    assert heads_up_texts(w, "C1") == []
    w.sweep(at_local(off(30), 20, "Europe/Madrid"))  # Friday 3 April, evening: 3 days before
    assert heads_up_texts(w, "C1") == ["sales told: final on 2026-04-06 (INV-1)"]


def test_one_heads_up_message_per_customer_per_sweep_and_once_per_item_and_step(world: Make) -> None:
    """Issue 11, 1.3: "on a 400-customer first sweep: 930 heads-ups, one customer got 11 in one
    sweep"; the rule: once per (item, step), one message per customer per sweep."""
    docs = [doc(f"INV-{k}", "STR", DUE - timedelta(days=10 * k)) for k in range(6)]
    w = world([cust("STR", segment="strategic")], docs)
    w.link("STR", 5)
    first = True
    for n in range(2, 92):  # from Friday 6 March
        before = len(w.posted)
        w.sweep(at_local(off(n), 10))
        told = [t for c, k, t in w.posted[before:] if k == "heads_up"]
        assert len(told) <= 1, (off(n), told)
        if first:  # the first sweep: four (item, step) pairs are near, told in one message
            assert len(told) == 1 and sum(told[0].count(f"INV-{k}`") for k in range(6)) == 4
            first = False
    with w.engine.connect() as conn:
        given = conn.execute(
            select(Document.ref, HeadsUp.step).join(Document, Document.id == HeadsUp.document_id)
        ).all()
    assert Counter(given) == {(f"INV-{k}", s): 1 for k in range(6) for s in ("final", "formal_notice")}
    texts = heads_up_texts(w, "STR")
    assert len(texts) == len([k for _c, k, _t in w.posted if k == "heads_up"]) < 12
    assert sum(t.count("INV-") for t in texts) == 12  # each (item, step) named once, ever
    assert all(t.startswith("sales told: ") for t in texts)


# ---------------------------------------------------------------- 1.4 credit hold


def test_the_formal_notice_sets_a_credit_hold_that_the_first_sweep_with_nothing_overdue_lifts(
    world: Make, tmp_path: Path
) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    for n in LADDER_DAYS:
        w.sweep(at_local(off(n), 10))
    assert w.customer("C1").credit_hold is True
    set_events = [(a, t) for k, a, _r, t in timeline(w, "C1") if k == "credit_hold_set"]
    assert len(set_events) == 1 and set_events[0][0] == "system"
    assert "hold_set" not in kinds(w, "C1")  # that kind is for holds on reminders
    assert kinds(w, "C1").count("escalated") == 1
    w.sweep(at_local(off(48), 10))  # still overdue: the hold stays
    assert w.customer("C1").credit_hold is True
    import_more(w, tmp_path, "payments", PAYMENTS_HEADER, ["PAY-1,C1,2026-04-21,1000.00,USD,wire,INV-1:1000.00"])
    w.sweep(at_local(off(49), 10))
    assert w.customer("C1").credit_hold is False
    released = [(a, t) for k, a, _r, t in timeline(w, "C1") if k == "credit_hold_released"]
    assert len(released) == 1 and released[0][0] == "system"
    with w.engine.connect() as conn:
        row = customers_by_id(conn, [w.customer("C1").id])[w.customer("C1").id]
        assert balance_document(conn, row, off(49))["credit_hold"] is False
    w.sweep(at_local(off(50), 10))
    assert kinds(w, "C1").count("credit_hold_released") == 1


def test_a_credit_hold_lifts_only_when_nothing_is_overdue_in_any_currency(world: Make, tmp_path: Path) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE), doc("INV-E", "C1", off(20), currency="EUR")])
    for n in LADDER_DAYS:
        w.sweep(at_local(off(n), 10))
    assert w.customer("C1").credit_hold is True
    import_more(w, tmp_path, "payments", PAYMENTS_HEADER, ["PAY-1,C1,2026-04-21,1000.00,USD,wire,INV-1:1000.00"])
    w.sweep(at_local(off(49), 10))  # the EUR invoice is still overdue
    assert w.customer("C1").credit_hold is True


# ---------------------------------------------------------------- 1.5 a policy change


def with_pre_due(policy, offset: int):  # noqa: ANN001, ANN201
    seg = policy.segments["default"]
    steps = tuple(dataclasses.replace(s, offset_days=offset) if s.name == "pre_due" else s for s in seg.steps)
    segments = dict(policy.segments) | {"default": dataclasses.replace(seg, steps=steps)}
    return dataclasses.replace(policy, segments=segments)


@pytest.mark.parametrize("swept_before", [True, False], ids=["swept-before", "never-swept"])
def test_a_policy_change_applies_at_the_next_sweep_to_items_already_imported(
    world: Make, swept_before: bool
) -> None:
    """Issue 11, 1.5: pre_due moved from -3 to -5 days: nothing went out until the old date."""
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1)
    if swept_before:
        assert w.sweep(at_local(off(-7), 10)).messages == []  # armed under the old policy
    moved = Sweeper(engine=w.engine, policy=with_pre_due(w.app.policy, -5), debtor=w.sweeper.debtor,
                    staff=w.sweeper.staff, renderer=w.app.renderer)
    dry = moved.sweep(at_local(off(-5), 10), dry_run=True)
    assert items(dry) == [("C1", "INV-1", "pre_due", "dry_run")]
    report = moved.sweep(at_local(off(-5), 10))
    assert items(report) == [("C1", "INV-1", "pre_due", "sent")]
    assert w.outbox() == [("INV-1", "pre_due", "sent", off(-5))]
    # the next sweep with the same policy re-arms nothing: the item waits for `due`
    assert moved.sweep(at_local(off(-4), 10)).messages == []
    with w.engine.connect() as conn:
        assert conn.execute(select(Document.next_action_on)).scalar_one() > off(-4)


# ---------------------------------------------------------------- 1.6 dry run = the real plan


def busy_ledger(world: Make) -> World:
    """Skips, a chase, a formal notice, a heads-up, an approval request and a broken promise, at +8."""
    customers = [cust("LATE"), cust("NOCHAT"), cust("STRAT", segment="strategic"), cust("PROM"), cust("FN")]
    docs = [
        doc("L-1", "LATE", off(-20)),  # first swept at +28: pre_due and due skipped, first sent
        doc("N-1", "NOCHAT", off(-10)),  # no chat: the rep is asked to phone
        doc("S-1", "STRAT", off(-60)),  # +68: the formal notice waits for sales
        doc("S-2", "STRAT", off(-27)),  # +35: first now, and the final is near: a heads-up
        doc("P-1", "PROM", off(-10)),  # promised for +5: broken
        doc("F-1", "FN", off(-45)),  # +53: formal notice, credit hold, credit staff alerted
    ]
    w = world(customers, docs)
    for k, ref in enumerate(("LATE", "STRAT", "PROM", "FN")):
        w.link(ref, 700 + k)
    history = {"S-1": (("pre_due", -63), ("due", -59), ("first", -53), ("second", -45), ("final", -30)),
               "F-1": (("pre_due", -48), ("due", -44), ("first", -38), ("second", -30), ("final", -15))}
    with w.engine.begin() as conn:
        cid, did = conn.execute(select(Document.customer_id, Document.id).where(Document.ref == "P-1")).one()
        conn.execute(insert(Promise).values(customer_id=cid, document_id=did, promised_date=off(5),
                                            amount_cents=100_000, currency="USD", status="open",
                                            made_at=START))
        for ref, steps in history.items():
            did, cid = conn.execute(select(Document.id, Document.customer_id).where(Document.ref == ref)).one()
            for step, n in steps:
                conn.execute(insert(ReminderSend).values(
                    key=f"doc:{did}:{step}", customer_id=cid, document_id=did, step=step, status="sent",
                    local_date=off(n), created_at=START, updated_at=START))
    return w


def test_a_dry_run_reports_the_same_plan_as_the_real_sweep_and_writes_nothing(world: Make) -> None:
    """Issue 11, 1.6: "0 skipped, 0 staff alerts" where the real sweep at the same instant does 2 and 323."""
    w = busy_ledger(world)
    now = at_local(off(8), 10)
    before = counts(w.engine)
    dry = w.sweep(now, dry_run=True)
    assert counts(w.engine) == before
    assert w.sent == [] and w.posted == []
    real = w.sweep(now)
    assert (dry.skipped, dry.alerts) == (real.skipped, real.alerts)
    assert real.skipped >= 2 and real.alerts >= 4
    assert [(c, r, s) for c, r, s, _st in items(dry)] == [(c, r, s) for c, r, s, _st in items(real)]
    assert dry.summary() == real.summary()
    assert real.alerts == len(w.alerts())
    # the next instant again: a dry run and the real sweep agree (the approval already asked is not new)
    later = at_local(off(9), 10)
    dry2 = w.sweep(later, dry_run=True)
    real2 = w.sweep(later)
    assert (dry2.skipped, dry2.alerts, len(dry2.messages)) == (real2.skipped, real2.alerts, len(real2.messages))


def test_the_sweep_summary_says_skipped_and_staff_alerts() -> None:
    from bot.scheduler.sweep import SweepReport

    r = SweepReport(datetime(2026, 3, 16, tzinfo=UTC), skipped=2, alerts=323)
    assert r.summary() == "0 messages, 2 skipped, 323 staff alerts"
