"""The sweep over a real database (SQLite always, PostgreSQL when configured).

DESIGN.md "Rules of the sweep", "Ladder dates and windows", "Ladder rules" and
"Reliability": a step is recorded once per invoice ever, the ladder walks its
dates in the debtor's business hours and time zone, `no_channel` counts as done
and asks sales to phone, dry runs record nothing, holds end after their last day,
two sweepers never double-send, and a send whose result was lost is `unknown`:
shown to staff and never repeated.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, Row, func, insert, select, update

from bot.app import App, build_sweeper
from bot.clock import FixedClock
from bot.config import Settings
from bot.importer import import_file
from bot.scheduler.channels import (
    ConsoleAlertChannel,
    ConsoleDebtorChannel,
    ContactUnreachable,
    DebtorChannel,
    Outgoing,
)
from bot.scheduler.sweep import Sweeper, SweepReport
from bot.services.holds import release_hold, set_hold
from storage.engine import make_engine
from storage.tables import (
    Allocation,
    Contact,
    Conversation,
    Customer,
    Dispute,
    DisputeItem,
    Document,
    Event,
    Payment,
    PaymentPlan,
    PlanItem,
    Promise,
    ReminderSend,
    StaffAlert,
)

CUSTOMERS_HEADER = (
    "customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,"
    "timezone,country,sales_rep_slack_id,aliases"
)
DOCUMENTS_HEADER = "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref"
PAYMENTS_HEADER = "payment_ref,customer_ref,date,amount,currency,method,applies_to"
SP = "America/Sao_Paulo"
DUE = date(2026, 3, 4)  # a Wednesday
START = datetime(2026, 2, 1, 12, tzinfo=UTC)  # when the ledger is imported


def cust(ref: str, tz: str = "UTC", country: str = "", segment: str = "default",
         currency: str = "USD") -> str:
    return f"{ref},{ref} Ltd,{segment},{currency},,30,en,{tz},{country},U{ref},"


def doc(ref: str, customer: str, due: date, amount: str = "1000.00", currency: str = "USD",
        issue: date | None = None, kind: str = "invoice", related: str = "") -> str:
    issued = issue or due - timedelta(days=30)
    due_text = due.isoformat() if kind in ("invoice", "debit_note") else ""
    return f"{ref},{customer},{kind},{issued},{due_text},{amount},{currency},{related}"


def at_local(day: date, hour: int, tz: str = "UTC", minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(tz)).astimezone(UTC)


def off(n: int, due: date = DUE) -> date:
    return due + timedelta(days=n)


@dataclass
class World:
    """One database with an imported ledger and a sweeper on console channels."""

    app: App
    sweeper: Sweeper
    reports: list[SweepReport] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.app.engine

    @property
    def sent(self) -> list[Outgoing]:
        return self.sweeper.debtor.sent  # type: ignore[attr-defined]

    @property
    def posted(self) -> list[tuple[str | None, str, str]]:
        """(customer ref, kind, text) of every staff alert posted (after its transaction committed)."""
        return [(p.customer_ref, p.kind, p.text) for p in self.sweeper.staff.posted]  # type: ignore[attr-defined]

    def sweep(self, now: datetime, *, dry_run: bool = False) -> SweepReport:
        report = self.sweeper.sweep(now, dry_run=dry_run)
        self.reports.append(report)
        return report

    def link(self, customer: str, chat_id: int, *, reachable: bool = True,
             linked_at: datetime = START) -> None:
        with self.engine.begin() as conn:
            cid = conn.execute(select(Customer.id).where(Customer.ref == customer)).scalar_one()
            conn.execute(insert(Contact).values(
                customer_id=cid, name="AP", telegram_chat_id=chat_id, verified=True,
                reachable=reachable, linked_at=linked_at,
            ))

    def outbox(self) -> list[tuple[str, str, str, date]]:
        """(doc ref, step, status, local date) of every outbox row, in insertion order."""
        t, d = ReminderSend.__table__, Document.__table__
        q = (select(d.c.ref, t.c.step, t.c.status, t.c.local_date)
             .join(d, d.c.id == t.c.document_id).order_by(t.c.id))
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]

    def alerts(self) -> list[tuple[str, str]]:
        t = StaffAlert.__table__
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(  # type: ignore[misc]
                select(t.c.kind, t.c.key).order_by(t.c.id))]

    def events(self, kind: str) -> list[Row]:
        t = Event.__table__
        with self.engine.connect() as conn:
            return list(conn.execute(select(t).where(t.c.kind == kind).order_by(t.c.id)))

    def customer(self, ref: str) -> Row:
        t = Customer.__table__
        with self.engine.connect() as conn:
            return conn.execute(select(t).where(t.c.ref == ref)).one()


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def load(database_url: str, tmp_path: Path, customers: list[str], documents: list[str],
         payments: Sequence[str] = (), debtor: DebtorChannel | None = None) -> World:
    app = App(Settings(database_url=database_url, _env_file=None), clock=FixedClock(START))
    ctx = app.import_context()
    import_file(app.engine, "customers", _write(tmp_path / "c.csv", CUSTOMERS_HEADER, customers),
                ctx)
    import_file(app.engine, "documents", _write(tmp_path / "d.csv", DOCUMENTS_HEADER, documents),
                ctx)
    if payments:
        import_file(app.engine, "payments", _write(tmp_path / "p.csv", PAYMENTS_HEADER,
                                                   list(payments)), ctx)
    return World(app, build_sweeper(app, debtor=debtor or ConsoleDebtorChannel()))


Make = Callable[..., World]


def items(report: SweepReport) -> list[tuple[str, str, str, str]]:
    """(customer, doc ref, step, status) of every item of every message."""
    return [(m.customer_ref, ref, step, m.status) for m in report.messages for ref, step in m.items]


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[Make]:
    worlds: list[World] = []

    def make(customers: list[str], documents: list[str], payments: Sequence[str] = (),
             debtor: DebtorChannel | None = None) -> World:
        w = load(database_url, tmp_path, customers, documents, payments, debtor)
        worlds.append(w)
        return w

    yield make
    for w in worlds:
        w.engine.dispose()


# ---------------------------------------------------------------- once per invoice, ever


def test_a_step_is_recorded_once_two_sweeps_at_the_same_now(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    now = at_local(off(8), 10)  # a Thursday
    first = w.sweep(now)
    assert items(first) == [("C1", "INV-1", "first", "sent")]
    assert first.as_json()["messages"][0]["channel"] == "console"
    second = w.sweep(now)
    assert second.messages == []
    assert len(w.sent) == 1
    assert w.outbox() == [
        ("INV-1", "pre_due", "skipped", off(8)),
        ("INV-1", "due", "skipped", off(8)),
        ("INV-1", "first", "sent", off(8)),
    ]
    assert len(w.events("step_skipped")) == 2
    assert len(w.events("reminder_sent")) == 1
    # later the same day, and the next days before the gap: still nothing
    for n in (8, 9, 10):
        assert w.sweep(at_local(off(n), 16)).messages == []
    assert len(w.sent) == 1


def test_one_message_per_customer_lists_every_due_invoice_in_the_highest_tone(world: Make) -> None:
    w = world([cust("C1"), cust("C2")], [
        doc("INV-A", "C1", DUE), doc("INV-B", "C1", off(15)), doc("INV-C", "C1", off(-20)),
        doc("INV-D", "C2", off(15)),
    ])
    w.link("C1", 1001)
    w.link("C2", 1002)
    report = w.sweep(at_local(off(12), 10))  # a Monday: INV-A +12, INV-B -3, INV-C +32
    assert sorted(items(report)) == [
        ("C1", "INV-A", "first", "sent"),
        ("C1", "INV-B", "pre_due", "sent"),
        ("C1", "INV-C", "first", "sent"),
        ("C2", "INV-D", "pre_due", "sent"),
    ]
    by_customer = {m.customer_ref: m for m in report.messages}
    assert by_customer["C1"].step == "first"
    assert by_customer["C2"].step == "pre_due"
    assert len(w.sent) == 2
    c1 = next(m for m in w.sent if m.customer_ref == "C1")
    assert c1.chat_id == 1001
    for ref in ("INV-A", "INV-B", "INV-C"):
        assert ref in c1.text
    rows = [r for r in w.outbox() if r[2] == "sent"]
    assert len(rows) == 4


# ---------------------------------------------------------------- the whole ladder, day by day


def test_day_by_day_the_ladder_walks_its_dates_in_business_hours(world: Make) -> None:
    # Sao Paulo, Brazil: 1 March is a Sunday, 3 April is Good Friday (a national holiday),
    # 18 April a Saturday.
    w = world([cust("C1", SP, "BR")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    seen: list[tuple[date, str, str]] = []
    heads_up_days: list[date] = []
    for n in range(-5, 61):
        day = off(n)
        before = len(w.posted)
        report = w.sweep(at_local(day, 10, SP))
        seen.extend((day, step, status) for _c, _r, step, status in items(report))
        heads_up_days.extend(day for _c, kind, _t in w.posted[before:] if kind == "heads_up")
    sent = [(d, s) for d, s, status in seen if status == "sent"]
    assert sent == [
        (date(2026, 3, 2), "pre_due"),  # -3 was Sunday
        (date(2026, 3, 5), "due"),
        (date(2026, 3, 11), "first"),
        (date(2026, 3, 19), "second"),
        (date(2026, 4, 6), "final"),  # +30 was Good Friday, then a weekend
        (date(2026, 4, 20), "formal_notice"),  # +45 was a Saturday
    ]
    deferred = [(d, s) for d, s, status in seen if status == "deferred"]
    assert deferred == [
        (date(2026, 3, 1), "pre_due"),
        (date(2026, 4, 3), "final"), (date(2026, 4, 4), "final"), (date(2026, 4, 5), "final"),
        (date(2026, 4, 18), "formal_notice"), (date(2026, 4, 19), "formal_notice"),
    ]
    assert {status for _d, _s, status in seen} == {"sent", "deferred"}
    assert len(w.sent) == 6
    assert all(m.chat_id == 1001 and m.customer_ref == "C1" for m in w.sent)
    assert w.outbox() == [("INV-1", s, "sent", d) for d, s in sent]
    # final's offset date is Good Friday, 3 April: it really goes out Monday 6 April, and the
    # heads-up comes 3 days before that real date, naming it
    assert heads_up_days == [date(2026, 4, 3)]
    assert [e.text for e in w.events("heads_up")] == ["sales told: final on 2026-04-06 (INV-1)"]
    kinds = Counter(kind for _c, kind, _t in w.posted)
    assert kinds == {"heads_up": 1, "formal_notice": 1}
    assert w.customer("C1").credit_hold is True
    assert [k for k, _ in w.alerts()] == ["heads_up", "formal_notice"]
    assert len(w.events("reminder_sent")) == 6


def test_credit_hold_is_set_only_by_the_formal_notice(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    w.sweep(at_local(off(30), 10))  # a Friday: first
    assert w.customer("C1").credit_hold is False
    for n in (33, 36, 44):  # second, final, and nothing yet on +44
        w.sweep(at_local(off(n), 10))
    assert w.customer("C1").credit_hold is False
    w.sweep(at_local(off(47), 10))  # Monday 20 April: formal_notice
    assert [(s, st) for _r, s, st, _d in w.outbox()] == [
        ("pre_due", "skipped"), ("due", "skipped"), ("first", "sent"), ("second", "sent"),
        ("final", "sent"), ("formal_notice", "sent"),
    ]
    assert w.customer("C1").credit_hold is True


def test_day_counts_use_the_debtors_local_date(world: Make) -> None:
    # 21:00 UTC on Tuesday 10 March is 10:00 Wednesday 11 March in Auckland (+13): day +7.
    w = world([cust("NZ1", "Pacific/Auckland", "NZ"), cust("US1", "UTC", "US")],
              [doc("INV-NZ", "NZ1", DUE), doc("INV-US", "US1", DUE)])
    w.link("NZ1", 1)
    w.link("US1", 2)
    for n in range(-5, 7):
        w.sweep(at_local(off(n), 10, "Pacific/Auckland"))
        w.sweep(at_local(off(n), 10))
    report = w.sweep(datetime(2026, 3, 10, 21, tzinfo=UTC))
    assert items(report) == [("NZ1", "INV-NZ", "first", "sent")]
    assert w.outbox()[-1] == ("INV-NZ", "first", "sent", date(2026, 3, 11))


# ---------------------------------------------------------------- business hours


def test_after_hours_the_step_is_deferred_and_goes_out_next_morning(world: Make) -> None:
    w = world([cust("C1", SP, "BR")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    evening = at_local(off(-2), 20, SP)  # Monday 2 March, 20:00 local (23:00 UTC)
    report = w.sweep(evening)
    assert items(report) == [("C1", "INV-1", "pre_due", "deferred")]
    assert w.outbox() == []
    assert w.sent == []
    assert w.sweep(at_local(off(-2), 18, SP)).messages[0].status == "deferred"  # 18:00 is closed
    early = w.sweep(at_local(off(-1), 8, SP, minute=59))
    assert items(early) == [("C1", "INV-1", "pre_due", "deferred")]
    assert w.outbox() == []
    morning = w.sweep(at_local(off(-1), 9, SP))
    assert items(morning) == [("C1", "INV-1", "pre_due", "sent")]
    assert w.outbox() == [("INV-1", "pre_due", "sent", off(-1))]
    assert len(w.sent) == 1


def test_on_a_saturday_the_step_waits_for_monday(world: Make) -> None:
    w = world([cust("C1", "Europe/Madrid", "ES")], [doc("INV-1", "C1", date(2026, 3, 10))])
    w.link("C1", 1001)
    sat, sun, mon = date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)
    for day in (sat, sun):
        report = w.sweep(at_local(day, 11, "Europe/Madrid"))
        assert items(report) == [("C1", "INV-1", "pre_due", "deferred")]
    assert w.outbox() == []
    report = w.sweep(at_local(mon, 11, "Europe/Madrid"))
    assert items(report) == [("C1", "INV-1", "pre_due", "sent")]
    assert w.outbox() == [("INV-1", "pre_due", "sent", mon)]


def test_in_iran_the_step_waits_out_friday_and_goes_on_saturday(world: Make) -> None:
    """DESIGN: the country's working week from the holidays package: Friday is Iran's weekend."""
    w = world([cust("C1", "Asia/Tehran", "IR")], [doc("INV-1", "C1", date(2026, 8, 3))])
    w.link("C1", 1001)
    fri, sat = date(2026, 7, 31), date(2026, 8, 1)  # no public holiday in Iran either day
    report = w.sweep(at_local(fri, 11, "Asia/Tehran"))
    assert items(report) == [("C1", "INV-1", "pre_due", "deferred")]
    assert w.outbox() == []
    report = w.sweep(at_local(sat, 11, "Asia/Tehran"))
    assert items(report) == [("C1", "INV-1", "pre_due", "sent")]
    assert w.outbox() == [("INV-1", "pre_due", "sent", sat)]


def test_business_hours_come_first_even_without_a_linked_chat(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    report = w.sweep(at_local(off(8), 20))
    assert [(m.status, m.channel) for m in report.messages] == [("deferred", "none")]
    assert [(r, s, st) for r, s, st, _d in w.outbox() if st != "skipped"] == []
    assert not any(k == "chase_by_phone" for _c, k, _t in w.posted)


# ---------------------------------------------------------------- no channel


def test_no_linked_chat_counts_as_done_and_asks_sales_to_phone(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "no_channel")]
    assert report.messages[0].channel == "none"
    assert w.sent == []
    assert w.outbox()[-1] == ("INV-1", "first", "no_channel", off(8))
    assert [(c, k) for c, k, _t in w.posted] == [("C1", "chase_by_phone")]
    assert [k for k, _ in w.alerts()] == ["chase_by_phone"]
    # the step is done: not again, and the next one follows on its own date
    assert w.sweep(at_local(off(9), 10)).messages == []
    report = w.sweep(at_local(off(15), 10))
    assert items(report) == [("C1", "INV-1", "second", "no_channel")]
    assert [k for _c, k, _t in w.posted] == ["chase_by_phone", "chase_by_phone"]


def test_an_unreachable_contact_is_no_channel(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001, reachable=False)
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "no_channel")]
    assert w.sent == []
    assert w.outbox()[-1][2] == "no_channel"
    assert [k for _c, k, _t in w.posted] == ["chase_by_phone"]


def test_a_linked_contact_counts_whenever_it_was_linked(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001, linked_at=datetime(2030, 1, 1, tzinfo=UTC))  # linked "after" --now
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "sent")]
    assert len(w.sent) == 1


def test_a_contact_without_a_chat_is_no_channel(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    with w.engine.begin() as conn:  # a contact row without a Telegram chat is not linked
        cid = conn.execute(select(Customer.id).where(Customer.ref == "C1")).scalar_one()
        conn.execute(insert(Contact).values(customer_id=cid, name="AP", reachable=True))
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "no_channel")]


class BlockedChannel:
    name = "telegram"

    def __init__(self) -> None:
        self.calls: list[Outgoing] = []

    async def send(self, message: Outgoing, leaving=None) -> str:  # noqa: ANN001
        if leaving is not None:
            await leaving()
        self.calls.append(message)
        raise ContactUnreachable("403: bot was blocked by the user")


def test_a_blocked_chat_marks_the_contact_unreachable(world: Make) -> None:
    channel = BlockedChannel()
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)], debtor=channel)
    w.link("C1", 1001)
    w.sweep(at_local(off(8), 10))
    assert len(channel.calls) == 1
    with w.engine.connect() as conn:
        assert conn.execute(select(Contact.reachable)).scalar_one() is False
    assert w.outbox()[-1] == ("INV-1", "first", "no_channel", off(8))
    assert len(w.events("contact_unreachable")) == 1
    assert any(k == "contact_unreachable" for _c, k, _t in w.posted)
    # the next step finds no reachable chat: no_channel, no send attempt, sales asked to phone
    report = w.sweep(at_local(off(15), 10))
    assert items(report) == [("C1", "INV-1", "second", "no_channel")]
    assert len(channel.calls) == 1
    assert any(k == "chase_by_phone" for _c, k, _t in w.posted)


class BlocksSome:
    """A bot that some chats have blocked (403) and others still receive."""

    name = "telegram"

    def __init__(self, blocked: set[int]) -> None:
        self.blocked = blocked
        self.calls: list[Outgoing] = []

    async def send(self, message: Outgoing, leaving=None) -> str:  # noqa: ANN001
        if leaving is not None:
            await leaving()
        self.calls.append(message)
        if message.chat_id in self.blocked:
            raise ContactUnreachable("403: bot was blocked by the user")
        return f"m{len(self.calls)}"


def test_a_403_falls_back_to_the_customers_next_chat_in_the_order_they_were_linked(world: Make) -> None:
    channel = BlocksSome({2001})
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)], debtor=channel)
    w.link("C1", 2001)  # linked first: it has blocked the bot
    w.link("C1", 2002)
    w.link("C1", 2003)
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "sent")]
    assert [m.chat_id for m in channel.calls] == [2001, 2002]  # in link order; one message delivered
    assert w.outbox()[-1] == ("INV-1", "first", "sent", off(8))
    assert len(w.events("contact_unreachable")) == 1
    assert not any(k == "chase_by_phone" for _c, k, _t in w.posted)
    # the blocked chat is never tried again
    w.sweep(at_local(off(15), 10))
    assert [m.chat_id for m in channel.calls[2:]] == [2002]


def test_when_every_chat_blocks_the_bot_sales_are_asked_to_phone(world: Make) -> None:
    channel = BlocksSome({2001, 2002})
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)], debtor=channel)
    w.link("C1", 2001)
    w.link("C1", 2002)
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "no_channel")]
    assert len(w.events("contact_unreachable")) == 2
    chase = [t for _c, k, t in w.posted if k == "chase_by_phone"]
    assert len(chase) == 1 and "INV-1" in chase[0]
    assert w.events("reminder_sent")[-1].text == (
        "first: every linked chat blocked the bot; sales rep asked to chase by phone")


def test_a_send_answered_with_403_is_reported_no_channel(world: Make) -> None:
    """DESIGN: "a customer whose linked contacts are all unreachable (blocked the bot) is
    `no_channel`, and so is a send answered with 403"."""
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)], debtor=BlockedChannel())
    w.link("C1", 1001)
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "no_channel")]


EVIL = "<!channel> Evil & <b>Co</b>"


def test_staff_alerts_escape_the_customer_name_for_slack(world: Make) -> None:
    """DESIGN: "Text from users is escaped before it is sent in HTML or Slack mrkdwn (in
    every field of a Slack message)"; a ledger name must not ping the channel."""
    w = world([cust("C1").replace("C1 Ltd", EVIL), cust("C2").replace("C2 Ltd", EVIL)],
              [doc("INV-1", "C1", DUE), doc("INV-2", "C2", DUE)], debtor=BlockedChannel())
    w.link("C1", 1001)  # blocked: contact_unreachable, then chase_by_phone; C2 has no chat: chase_by_phone
    w.sweep(at_local(off(8), 10))
    kinds = sorted(k for _c, k, _t in w.posted)
    assert kinds == ["chase_by_phone", "chase_by_phone", "contact_unreachable"]
    raw = [(kind, text) for _c, kind, text in w.posted
           if "<!channel>" in text or "&lt;!channel&gt;" not in text]
    assert raw == []


# ---------------------------------------------------------------- dry run


def test_a_dry_run_records_nothing_and_a_real_run_agrees(world: Make) -> None:
    w = world([cust("C1"), cust("C2")], [doc("INV-1", "C1", DUE), doc("INV-2", "C2", off(-1))])
    w.link("C1", 1001)
    now = at_local(off(27), 10)  # INV-1 at +27 (first), INV-2 at +28: heads-up for final
    with w.engine.connect() as conn:
        next_before = sorted(conn.execute(select(Document.ref, Document.next_action_on)))
        events_before = conn.execute(select(func.count()).select_from(Event)).scalar_one()
    dry = w.sweep(now, dry_run=True)
    assert sorted(items(dry)) == [
        ("C1", "INV-1", "first", "dry_run"),
        ("C2", "INV-2", "first", "dry_run"),
    ]
    assert w.outbox() == []
    assert w.alerts() == []
    assert w.sent == [] and w.posted == []
    with w.engine.connect() as conn:
        assert sorted(conn.execute(select(Document.ref, Document.next_action_on))) == next_before
        assert conn.execute(select(func.count()).select_from(Event)).scalar_one() == events_before
    real = w.sweep(now)
    assert sorted((c, r, s) for c, r, s, _ in items(real)) == sorted(
        (c, r, s) for c, r, s, _ in items(dry))
    assert sorted(items(real)) == [
        ("C1", "INV-1", "first", "sent"),
        ("C2", "INV-2", "first", "no_channel"),
    ]


def test_a_dry_run_outside_hours_reports_deferred(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    report = w.sweep(at_local(off(8), 20), dry_run=True)
    assert [m.status for m in report.messages] == ["deferred"]
    assert w.outbox() == []


# ---------------------------------------------------------------- holds


def test_a_hold_pauses_until_its_last_day_inclusive(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE), doc("INV-2", "C1", off(5))])
    w.link("C1", 1001)
    with w.engine.begin() as conn:
        set_hold(conn, "C1", until=off(8), reason="sales asked", actor="cli", now=START)
    for n in range(-5, 9):
        assert w.sweep(at_local(off(n), 10)).messages == [], off(n)
        assert w.sweep(at_local(off(n), 23, "Pacific/Kiritimati")).messages == [], off(n)
    assert w.outbox() == []
    report = w.sweep(at_local(off(9), 10))  # Friday 13 March: the day after the hold
    assert sorted(items(report)) == [
        ("C1", "INV-1", "first", "sent"), ("C1", "INV-2", "due", "sent"),
    ]
    assert sorted((r, s, st) for r, s, st, _ in w.outbox()) == [
        ("INV-1", "due", "skipped"), ("INV-1", "first", "sent"), ("INV-1", "pre_due", "skipped"),
        ("INV-2", "due", "sent"), ("INV-2", "pre_due", "skipped"),
    ]


def test_a_document_hold_pauses_only_that_document(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE), doc("INV-2", "C1", DUE)])
    w.link("C1", 1001)
    with w.engine.begin() as conn:
        set_hold(conn, "INV-1", until=off(20), reason="checking", actor="cli", now=START)
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-2", "first", "sent")]


def test_releasing_a_hold_resumes_at_the_next_sweep(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    with w.engine.begin() as conn:
        set_hold(conn, "C1", until=date(2026, 12, 31), reason="talks", actor="cli", now=START)
    for n in (-3, 1, 7, 8):
        assert w.sweep(at_local(off(n), 10)).messages == []
    with w.engine.begin() as conn:
        release_hold(conn, "C1", actor="cli", now=at_local(off(9), 9))
    report = w.sweep(at_local(off(9), 10))
    assert items(report) == [("C1", "INV-1", "first", "sent")]
    assert len(w.events("hold_ended")) == 1


def test_disputes_claims_plans_promises_and_talks_pause_the_sweep(world: Make) -> None:
    refs = ["CTRL", "DISP", "CLAIM", "PLAN", "PROM", "TALK"]
    w = world([cust(r) for r in refs], [doc(f"INV-{r}", r, DUE) for r in refs])
    for k, r in enumerate(refs):
        w.link(r, 900 + k)
    t0 = at_local(off(5), 12)
    with w.engine.begin() as conn:
        cid = {r: i for r, i in conn.execute(select(Customer.ref, Customer.id))}
        did = {r: i for r, i in conn.execute(select(Document.ref, Document.id))}
        dispute = conn.execute(insert(Dispute).values(
            customer_id=cid["DISP"], status="open", reason="wrong_amount", opened_at=t0,
        ).returning(Dispute.id)).scalar_one()
        conn.execute(insert(DisputeItem).values(dispute_id=dispute, document_id=did["INV-DISP"]))
        pay = conn.execute(insert(Payment).values(
            ref="CLAIM-1", customer_id=cid["CLAIM"], date=off(5), amount_cents=100_000,
            currency="USD", status="claimed", source="debtor", created_at=t0,
        ).returning(Payment.id)).scalar_one()
        conn.execute(insert(Allocation).values(payment_id=pay, document_ref="INV-CLAIM",
                                               amount_cents=100_000))
        plan = conn.execute(insert(PaymentPlan).values(
            customer_id=cid["PLAN"], status="approved", currency="USD", total_cents=100_000,
            installment_count=2, proposed_at=t0, decided_at=t0,
        ).returning(PaymentPlan.id)).scalar_one()
        conn.execute(insert(PlanItem).values(plan_id=plan, document_id=did["INV-PLAN"]))
        conn.execute(insert(Promise).values(
            customer_id=cid["PROM"], document_id=did["INV-PROM"], promised_date=off(12),
            amount_cents=100_000, currency="USD", status="open", made_at=t0,
        ))
        conn.execute(insert(Conversation).values(
            customer_id=cid["TALK"], opened_at=at_local(off(7), 12),
            last_message_at=at_local(off(7), 12),
        ))
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("CTRL", "INV-CTRL", "first", "sent")]
    assert [r for r, _s, st, _d in w.outbox() if st != "skipped"] == ["INV-CTRL"]
    # the promise covers its date; the talk (on +7) pauses local dates +7 and +8
    # (conversation_pause_days = 2, counted like min_gap_days)
    for n in (9, 12):  # Friday, Monday
        assert [c for c, *_ in items(w.sweep(at_local(off(n), 10)))] == ["TALK"] * (n == 9)
    report = w.sweep(at_local(off(13), 10))  # the day after the promised date
    assert [c for c, *_ in items(report)] == ["PROM"]
    assert len(w.events("promise_broken")) == 1
    for n in range(14, 40):
        report = w.sweep(at_local(off(n), 10))
        assert {c for c, *_ in items(report)} <= {"CTRL", "PROM", "TALK"}


def test_a_broken_promise_is_told_in_the_customers_thread(world: Make) -> None:
    """DESIGN (Slack): "every alert about that customer goes into its thread (..., promise
    broken, ...) and names the customer"."""
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    with w.engine.begin() as conn:
        cid, did = conn.execute(select(Document.customer_id, Document.id)).one()
        conn.execute(insert(Promise).values(
            customer_id=cid, document_id=did, promised_date=off(12), amount_cents=100_000,
            currency="USD", status="open", made_at=at_local(off(5), 12),
        ))
    w.sweep(at_local(off(13), 10))
    broken = [(c, t) for c, k, t in w.posted if k == "promise_broken"]
    assert len(broken) == 1, w.posted
    customer_ref, text = broken[0]
    assert customer_ref == "C1"
    assert "C1 Ltd" in text


def test_settled_tiny_and_credit_balances_get_no_reminder(world: Make) -> None:
    w = world(
        [cust("PAID"), cust("TINY"), cust("CREDIT"), cust("OWES")],
        [doc("INV-P", "PAID", DUE), doc("INV-T", "TINY", DUE, amount="0.99"),
         doc("INV-C", "CREDIT", DUE), doc("CN-C", "CREDIT", DUE, amount="1500.00",
                                           kind="credit_note", issue=off(-20)),
         doc("INV-O", "OWES", DUE)],
        ["PAY-1,PAID,2026-03-01,1000.00,USD,wire,INV-P:1000.00",
         "PAY-2,OWES,2026-03-01,999.50,USD,wire,INV-O:999.50"],
    )
    for k, c in enumerate(("PAID", "TINY", "CREDIT", "OWES")):
        w.link(c, 100 + k)
    for n in range(-5, 50):
        assert w.sweep(at_local(off(n), 10)).messages == []
    assert w.outbox() == []
    assert w.sent == []


def test_a_payment_dated_mid_ladder_stops_it(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)],
              ["PAY-1,C1,2026-03-12,1000.00,USD,wire,INV-1:1000.00"])
    w.link("C1", 1001)
    for n in range(-5, 40):
        w.sweep(at_local(off(n), 10))
    assert [(s, st) for _r, s, st, _d in w.outbox()] == [
        ("pre_due", "sent"), ("due", "sent"), ("first", "sent")]


# ---------------------------------------------------------------- two sweepers at once


def _concurrent_ledger(n: int) -> tuple[list[str], list[str]]:
    customers, documents = [], []
    for i in range(n):
        ref = f"K{i:03d}"
        customers.append(cust(ref, ["UTC", SP][i % 2]))
        documents.append(doc(f"{ref}-A", ref, DUE - timedelta(days=i % 40)))
        documents.append(doc(f"{ref}-B", ref, DUE + timedelta(days=(i * 7) % 5)))
    return customers, documents


@dataclass
class Race:
    world: World
    expected: list[tuple[str, str, str]]  # (customer, doc ref, step) a dry run plans
    sweepers: list[Sweeper]
    reports: list[SweepReport]


def _race(world: Make, database_url: str) -> Race:
    """Two sweepers, each with its own engine, sweep the same `now` at the same moment."""
    customers, documents = _concurrent_ledger(50)
    w = world(customers, documents)
    for i in range(50):
        if i % 5:
            w.link(f"K{i:03d}", 5000 + i)
    now = at_local(DUE, 16)  # Wednesday 16:00 UTC, 13:00 in Sao Paulo
    expected = sorted((c, r, s) for c, r, s, _ in items(w.sweep(now, dry_run=True)))
    assert len(expected) >= 60

    engines = [make_engine(database_url) for _ in range(2)]
    sweepers = [
        Sweeper(engine=e, policy=w.app.policy, debtor=ConsoleDebtorChannel(),
                staff=ConsoleAlertChannel(), renderer=w.app.renderer)
        for e in engines
    ]
    reports: list[SweepReport | None] = [None, None]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(k: int) -> None:
        try:
            barrier.wait()
            reports[k] = sweepers[k].sweep(now)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for e in engines:
        e.dispose()
    assert not errors, errors
    return Race(w, expected, sweepers, reports)  # type: ignore[arg-type]


@pytest.mark.slow
def test_two_sweepers_at_once_send_every_step_exactly_once(world: Make, database_url: str) -> None:
    race = _race(world, database_url)
    rows = race.world.outbox()
    done = [(r, s) for r, s, st, _ in rows if st != "skipped"]
    assert len(done) == len(set(done))
    assert sorted(done) == sorted((r, s) for _c, r, s in race.expected)
    assert all(st in ("sent", "no_channel", "skipped") for _r, _s, st, _d in rows)
    skipped = [(r, s) for r, s, st, _ in rows if st == "skipped"]
    assert len(skipped) == len(set(skipped))
    # every linked customer with something due got exactly one message, from one process
    messages = Counter(
        m.customer_ref for sw in race.sweepers for m in sw.debtor.sent  # type: ignore[attr-defined]
    )
    assert all(v == 1 for v in messages.values()), messages
    assert set(messages) == {c for c, _r, _s in race.expected if int(c[1:]) % 5}
    for sw in race.sweepers:
        for m in sw.debtor.sent:  # type: ignore[attr-defined]
            for c, r, _s in race.expected:
                if c == m.customer_ref:
                    assert r in m.text
    chases = Counter(p.customer_ref for sw in race.sweepers for p in sw.staff.posted  # type: ignore[attr-defined]
                     if p.kind == "chase_by_phone")
    assert set(chases) == {c for c, _r, _s in race.expected if int(c[1:]) % 5 == 0}
    assert all(v == 1 for v in chases.values()), chases


@pytest.mark.slow
def test_two_sweepers_at_once_report_each_item_once(world: Make, database_url: str) -> None:
    """`sweep --format json` lists what this sweep did: an item the other sweeper won (and
    sent) must not also be reported as `sent` here, or two reports claim one send."""
    race = _race(world, database_url)
    reported = Counter(
        (c, r, s) for rep in race.reports for c, r, s, st in items(rep)
        if st in ("sent", "no_channel")
    )
    duplicates = {k: v for k, v in reported.items() if v > 1}
    assert not duplicates, f"items reported as sent by both sweepers: {sorted(duplicates)[:5]}"
    assert sorted(reported) == race.expected


# ---------------------------------------------------------------- crash recovery


def test_a_send_left_in_flight_by_a_dead_process_becomes_unknown(world: Make) -> None:
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    crash_day = off(7)
    with w.engine.begin() as conn:
        doc_id, cid = conn.execute(
            select(Document.id, Document.customer_id).where(Document.ref == "INV-1")).one()
        for step, status in (("pre_due", "sent"), ("due", "sent"), ("first", "sending")):
            conn.execute(insert(ReminderSend).values(
                key=f"doc:{doc_id}:{step}", customer_id=cid, document_id=doc_id, step=step,
                status=status, message_key="m", tone=step,
                local_date=off({"pre_due": -3, "due": 1, "first": 7}[step]),
                claimed_by=f"{socket.gethostname()}:999999:1" if status == "sending" else "",
                created_at=at_local(crash_day, 10), updated_at=at_local(crash_day, 10),
            ))
        conn.execute(update(Document).values(next_action_on=crash_day))
    report = w.sweep(at_local(off(8), 10))
    assert report.messages == []
    assert report.recovered_unknown == 1
    assert [(s, st) for _r, s, st, _ in w.outbox()] == [
        ("pre_due", "sent"), ("due", "sent"), ("first", "unknown")]
    assert [k for k, _ in w.alerts()] == ["send_unknown"]
    assert [k for _c, k, _t in w.posted] == ["send_unknown"]
    assert len(w.events("send_unknown")) == 1
    # never sent again; the ladder moves on from the unknown step's day
    for n in range(9, 15):
        assert w.sweep(at_local(off(n), 10)).messages == []
    report = w.sweep(at_local(off(15), 10))
    assert items(report) == [("C1", "INV-1", "second", "sent")]
    assert [m for m in w.sent if "INV-1" in m.text] == w.sent and len(w.sent) == 1
    assert [k for _c, k, _t in w.posted] == ["send_unknown"]  # shown to staff once


def test_the_unknown_send_alert_names_its_customer(world: Make) -> None:
    """DESIGN (Slack): "every alert about that customer goes into its thread ... and names
    the customer"; Reliability: an unknown send is "shown to staff"."""
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    with w.engine.begin() as conn:
        doc_id, cid = conn.execute(
            select(Document.id, Document.customer_id).where(Document.ref == "INV-1")).one()
        conn.execute(insert(ReminderSend).values(
            key=f"doc:{doc_id}:first", customer_id=cid, document_id=doc_id, step="first",
            status="sending", local_date=off(7), claimed_by=f"{socket.gethostname()}:999999:1",
            created_at=at_local(off(7), 10), updated_at=at_local(off(7), 10),
        ))
    w.sweep(at_local(off(8), 10))
    [(customer_ref, kind, text)] = w.posted
    assert kind == "send_unknown"
    assert customer_ref == "C1"  # into C1's case thread
    assert "C1" in text  # "C1 Ltd" or its ref


def test_a_send_in_flight_in_a_live_process_is_left_alone(world: Make) -> None:
    from bot.scheduler.claims import process_token

    w = world([cust("C1")], [doc("INV-1", "C1", DUE)])
    with w.engine.begin() as conn:
        doc_id, cid = conn.execute(
            select(Document.id, Document.customer_id).where(Document.ref == "INV-1")).one()
        conn.execute(insert(ReminderSend).values(
            key=f"doc:{doc_id}:first", customer_id=cid, document_id=doc_id, step="first",
            status="sending", local_date=off(7), claimed_by=process_token(),
            created_at=at_local(off(7), 10), updated_at=at_local(off(7), 10),
        ))
    report = w.sweep(at_local(off(8), 10))
    assert report.recovered_unknown == 0
    assert ("INV-1", "first", "sending", off(7)) in w.outbox()
    assert "first" not in [s for _c, _r, s, _st in items(report)]


class FlakyChannel:
    name = "telegram"

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: Outgoing, leaving=None) -> str:  # noqa: ANN001
        if leaving is not None:
            await leaving()
        self.calls += 1
        raise TimeoutError("the network went away mid-send")


def test_a_send_that_fails_midway_is_unknown_and_not_repeated(world: Make) -> None:
    channel = FlakyChannel()
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)], debtor=channel)
    w.link("C1", 1001)
    w.sweep(at_local(off(8), 10))
    assert w.outbox()[-1] == ("INV-1", "first", "unknown", off(8))
    assert any(k == "send_unknown" for _c, k, _t in w.posted)
    for n in (8, 9, 10):
        w.sweep(at_local(off(n), 11))
    assert channel.calls == 1


def test_reported_statuses_stay_within_the_contract_when_a_send_fails(world: Make) -> None:
    """DESIGN `sweep --format json`: "status is one of `sent`, `dry_run`, `deferred`,
    `no_channel`"."""
    w = world([cust("C1")], [doc("INV-1", "C1", DUE)], debtor=FlakyChannel())
    w.link("C1", 1001)
    report = w.sweep(at_local(off(8), 10))
    assert [m.status for m in report.messages] in (["sent"], ["no_channel"])


def test_a_customer_with_settled_history_gets_the_reminder_with_its_amount(world: Make) -> None:
    """The settled history is summed in SQL (PostgreSQL's sum of bigint is numeric): the reminder still renders."""
    w = world([cust("HIST")],
              [doc("INV-OLD", "HIST", off(-60)), doc("INV-NEW", "HIST", DUE, amount="1234.50")],
              ["PAY-OLD,HIST,2026-01-05,1000.00,USD,wire,", "PAY-PART,HIST,2026-01-06,0.50,USD,wire,"])
    w.link("HIST", 4242)
    report = w.sweep(at_local(off(8), 10))
    assert items(report) == [("HIST", "INV-NEW", "first", "sent")]
    [sent] = w.sent
    assert "INV-NEW" in sent.text and "$1,234.00" in sent.text
