"""Differential test: 90 days of sweeps over a random ledger against a reference model.

The reference model below is written straight from DESIGN.md ("Dunning policy", "Rules
of the sweep", "Ladder dates and windows", "Ladder rules", "Balance rules") and shares
no code with `bot.domain` (it reads only the policy's TOML and the `holidays` package).
It replays the same sweep times and says, for every sweep, which (customer, document,
step) goes out with which status, and at the end which rows the outbox must hold, with
the debtor's local date. The real `Sweeper` must agree exactly.
"""

from __future__ import annotations

import functools
import random
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import insert, select

from bot.app import App, build_sweeper
from bot.clock import FixedClock
from bot.config import Settings
from bot.importer import import_file
from bot.services.approvals import approve_step
from bot.services.cases import resolve_dispute
from bot.services.holds import release_hold, set_hold
from storage.tables import (
    Contact,
    Customer,
    Dispute,
    DisputeItem,
    Document,
    ReminderSend,
    StaffAlert,
)

SEED = 20260316
SIM_START = date(2026, 3, 16)  # a Monday; Nowruz, Easter, Anzac Day, May Day... and NZ DST ends
DAYS = 90
SWEEP_HOURS = (8, 12, 21)  # UTC
ZONES = {
    "UTC": ["", "US", "GB"],
    "America/Sao_Paulo": ["BR", ""],
    "Asia/Tehran": ["IR", ""],
    "Pacific/Auckland": ["NZ", ""],
}
CURRENCY = {"UTC": "USD", "America/Sao_Paulo": "BRL", "Asia/Tehran": "EUR",
            "Pacific/Auckland": "NZD"}
N_CUSTOMERS = 40

# --- what DESIGN.md fixes --------------------------------------------------------------------

CONTRACT_DEFAULT = [  # name, offset, skippable: "part of the contract"
    ("pre_due", -3, True), ("due", 1, True), ("first", 7, False), ("second", 15, False),
    ("final", 30, False), ("formal_notice", 45, False),
]
MIN_GAP_DAYS = 3
MINIMUM_CENTS = 100  # 1.00 in any currency
OPEN, CLOSE = time(9, 0), time(18, 0)  # 09:00-18:00 local on the country's working days


@dataclass(frozen=True)
class RefStep:
    name: str
    offset: int
    skippable: bool
    gated: bool = False  # sales_approval: waits until sales agree for the item


def reference_ladders() -> dict[str, list[RefStep]]:
    """The packaged policy's ladders, read from its TOML with nothing but tomllib."""
    data = tomllib.loads((files("bot") / "policy" / "default.toml").read_text("utf-8"))
    assert data.get("min_gap_days", 3) == MIN_GAP_DAYS
    ladders = {
        name: [RefStep(s["name"], s["offset_days"], s.get("skippable", False),
                       s.get("sales_approval", False))
               for s in seg["steps"]]
        for name, seg in data["segments"].items()
    }
    assert [(s.name, s.offset, s.skippable) for s in ladders["default"]] == CONTRACT_DEFAULT
    return ladders


# --- the random ledger -----------------------------------------------------------------------


@dataclass
class RDoc:
    ref: str
    customer: str
    kind: str  # invoice | debit_note | credit_note
    issue: date
    due: date | None
    cents: int
    currency: str
    related: str = ""


@dataclass
class RPay:
    ref: str
    customer: str
    day: date
    cents: int
    currency: str
    allocations: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class RCustomer:
    ref: str
    tz: str
    country: str
    segment: str
    currency: str
    linked: bool = False
    unreachable: bool = False


@dataclass
class Ledger:
    customers: list[RCustomer]
    docs: list[RDoc]
    pays: list[RPay]
    # (ref, until, released at) ; ref is a customer or a document
    holds: list[tuple[str, date, datetime | None]]
    # (doc ref, resolved at)
    disputes: list[tuple[str, datetime | None]]
    # (customer ref, step, agreed at): sales agree to a gated step for every invoice of a customer
    approvals: list[tuple[str, str, datetime]] = field(default_factory=list)


def cents_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def make_ledger(rng: random.Random) -> Ledger:
    segments = ["default", "default", "government", "individual", "strategic"]
    customers, docs, pays = [], [], []
    zones = list(ZONES)
    for i in range(N_CUSTOMERS):
        tz = zones[i % len(zones)]
        c = RCustomer(
            ref=f"C{i:02d}", tz=tz, country=rng.choice(ZONES[tz]), segment=rng.choice(segments),
            currency=CURRENCY[tz],
        )
        c.linked = rng.random() < 0.6
        c.unreachable = not c.linked and rng.random() < 0.3
        customers.append(c)
        for k in range(rng.randint(1, 4)):
            issue = SIM_START + timedelta(days=rng.randint(-110, 60))
            due = issue + timedelta(days=rng.choice([0, 1, 2, 5, 10, 15, 30, 30, 45]))
            kind = "debit_note" if rng.random() < 0.1 else "invoice"
            d = RDoc(f"{c.ref}-{k}", c.ref, kind, issue, due, rng.randint(50_00, 5_000_00),
                     c.currency)
            docs.append(d)
            roll = rng.random()
            when = max(d.issue, SIM_START + timedelta(days=rng.randint(-20, 80)))
            if roll < 0.15:  # paid in full at some point
                pays.append(RPay(f"P-{d.ref}", c.ref, when, d.cents, c.currency,
                                 [(d.ref, d.cents)]))
            elif roll < 0.35:  # paid in part
                part = rng.randint(1_00, d.cents - 2_00)
                pays.append(RPay(f"P-{d.ref}", c.ref, when, part, c.currency,
                                 [(d.ref, part)]))
            elif roll < 0.42:  # paid down to less than the minimum
                part = d.cents - rng.randint(1, 99)
                pays.append(RPay(f"P-{d.ref}", c.ref, when, part, c.currency,
                                 [(d.ref, part)]))
    by_customer = defaultdict(list)
    for d in docs:
        by_customer[d.customer].append(d)
    # an unallocated payment (oldest due first), a related credit note, a customer in credit
    c = customers[3]
    pays.append(RPay("P-UNALLOC", c.ref, SIM_START + timedelta(days=25), 120_00, c.currency))
    target = by_customer[customers[4].ref][0]
    docs.append(RDoc("CN-REL", target.customer, "credit_note", SIM_START + timedelta(days=10),
                     None, target.cents // 2, target.currency, target.ref))
    rich = customers[6]
    total = sum(d.cents for d in by_customer[rich.ref])
    docs.append(RDoc("CN-BIG", rich.ref, "credit_note", SIM_START - timedelta(days=200), None,
                     total + 10_00, rich.currency))
    # one dispute resolved on day 45, one hold for a customer, one for a document, one released
    disputed = by_customer[customers[7].ref][0].ref
    disputes = [(disputed, datetime.combine(SIM_START + timedelta(days=45), time(6), UTC))]
    holds = [
        (customers[8].ref, SIM_START + timedelta(days=20), None),
        (by_customer[customers[9].ref][0].ref, SIM_START + timedelta(days=35), None),
        (customers[10].ref, date(2027, 1, 1),
         datetime.combine(SIM_START + timedelta(days=50), time(10), UTC)),
    ]
    # sales agree to the formal notice for every other strategic customer, on day 40
    strategic = [c for c in customers if c.segment == "strategic"]
    agreed_at = datetime.combine(SIM_START + timedelta(days=40), time(6), UTC)
    approvals = [(c.ref, "formal_notice", agreed_at) for c in strategic[::2]]
    return Ledger(customers, docs, pays, holds, disputes, approvals)


# --- the reference model -------------------------------------------------------------------


@functools.cache
def public_holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year)) if country else frozenset()


@functools.cache
def weekend(country: str, year: int) -> frozenset[int]:
    """The country's weekend as the holidays package gives it (Friday in Iran); Sat-Sun without one."""
    return frozenset(holidays.country_holidays(country, years=year).weekend) if country else frozenset({5, 6})


def is_business_time(local: datetime, country: str) -> bool:
    day = local.date()
    if day.weekday() in weekend(country, day.year) or day in public_holidays(country, day.year):
        return False
    return OPEN <= local.time() < CLOSE


def open_items(ledger: Ledger, customer: str, today: date) -> dict[str, tuple[RDoc, int]]:
    """Balance rules 1-4 for the documents and payments counted at `today`."""
    docs = [d for d in ledger.docs if d.customer == customer and d.issue <= today]
    pays = [p for p in ledger.pays if p.customer == customer and p.day <= today]
    out: dict[str, tuple[RDoc, int]] = {}
    for cur in {d.currency for d in docs} | {p.currency for p in pays}:
        items = {d.ref: d for d in docs if d.currency == cur and d.kind != "credit_note"}
        left = {ref: d.cents for ref, d in items.items()}
        pool: list[tuple[date, str, int]] = []
        for cn in sorted((d for d in docs if d.currency == cur and d.kind == "credit_note"),
                         key=lambda d: (d.issue, d.ref)):
            rest = cn.cents
            if cn.related in left:
                used = min(rest, left[cn.related])
                left[cn.related] -= used
                rest -= used
            pool.append((cn.issue, cn.ref, rest))
        for p in sorted((p for p in pays if p.currency == cur), key=lambda p: (p.day, p.ref)):
            rest = p.cents
            for ref, amount in p.allocations:
                amount = min(amount, rest)
                if ref in left:
                    used = min(amount, left[ref])
                    left[ref] -= used
                    rest -= used
            pool.append((p.day, p.ref, rest))
        queue = sorted(items.values(), key=lambda d: (d.due, d.issue, d.ref))
        unapplied = 0
        for _day, _ref, rest in sorted(pool):
            for d in queue:
                used = min(rest, left[d.ref])
                left[d.ref] -= used
                rest -= used
            unapplied += rest
        total = sum(left.values()) - unapplied
        if total <= 0:
            continue  # zero or negative balances never get a reminder
        for ref, cents in left.items():
            if cents >= MINIMUM_CENTS:
                out[ref] = (items[ref], cents)
    return out


@dataclass
class Reference:
    ledger: Ledger
    ladders: dict[str, list[RefStep]]
    # doc ref -> step -> (status, local date)
    done: dict[str, dict[str, tuple[str, date]]] = field(
        default_factory=lambda: defaultdict(dict))

    def paused(self, c: RCustomer, d: RDoc, today: date, now: datetime) -> bool:
        for ref, resolved in self.ledger.disputes:
            if ref == d.ref and (resolved is None or now < resolved):
                return True
        for ref, until, released in self.ledger.holds:
            if ref in (c.ref, d.ref) and today <= until and (released is None or now < released):
                return True
        return False

    def sweep(self, now: datetime) -> set[tuple[str, str, str, str]]:
        out = set()
        for c in self.ledger.customers:
            local = now.astimezone(ZoneInfo(c.tz))
            today = local.date()
            ladder = self.ladders.get(c.segment, self.ladders["default"])
            due_now: list[tuple[str, str]] = []
            for ref, (d, _cents) in sorted(open_items(self.ledger, c.ref, today).items()):
                if self.paused(c, d, today, now):
                    continue
                done = self.done[ref]
                pending = [s for s in ladder if s.name not in done]
                while pending and pending[0].skippable and any(
                    d.due + timedelta(days=later.offset) <= today
                    for later in ladder[ladder.index(pending[0]) + 1:]
                ):
                    done[pending.pop(0).name] = ("skipped", today)
                if not pending:
                    continue
                step = pending[0]
                reminded = [day for status, day in done.values() if status != "skipped"]
                gap_ok = not reminded or (today - max(reminded)).days >= MIN_GAP_DAYS
                if step.gated and not any(
                    who == c.ref and name == step.name and at <= now
                    for who, name, at in self.ledger.approvals
                ):
                    continue  # sales have not agreed (DESIGN: strategic, sales must agree first)
                if d.due + timedelta(days=step.offset) <= today and gap_ok:
                    due_now.append((ref, step.name))
            if not due_now:
                continue
            if not is_business_time(local, c.country):
                status = "deferred"
            else:
                status = "sent" if c.linked else "no_channel"
                for ref, step in due_now:
                    self.done[ref][step] = (status, today)
            out.update((c.ref, ref, step, status) for ref, step in due_now)
        return out

    def outbox(self) -> set[tuple[str, str, str, date]]:
        return {(ref, step, status, day) for ref, steps in self.done.items()
                for step, (status, day) in steps.items()}


# --- the real thing --------------------------------------------------------------------------


def write_ledger(ledger: Ledger, directory: Path) -> dict[str, Path]:
    customers = ["customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,"
                 "timezone,country,sales_rep_slack_id,aliases"]
    customers += [f"{c.ref},Customer {c.ref},{c.segment},{c.currency},,30,en,{c.tz},{c.country},"
                  f"U{c.ref}," for c in ledger.customers]
    documents = ["doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref"]
    documents += [f"{d.ref},{d.customer},{d.kind},{d.issue},{d.due or ''},{cents_text(d.cents)},"
                  f"{d.currency},{d.related}" for d in ledger.docs]
    payments = ["payment_ref,customer_ref,date,amount,currency,method,applies_to"]
    payments += [
        f"{p.ref},{p.customer},{p.day},{cents_text(p.cents)},{p.currency},wire,"
        + "|".join(f"{r}:{cents_text(a)}" for r, a in p.allocations)
        for p in ledger.pays
    ]
    paths = {}
    for kind, lines in (("customers", customers), ("documents", documents),
                        ("payments", payments)):
        paths[kind] = directory / f"{kind}.csv"
        paths[kind].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def test_ninety_days_of_sweeps_match_the_reference_model(tmp_path: Path) -> None:
    # SQLite only: 270 sweeps take about three times as long on PostgreSQL, whose sweeps the
    # other scheduler tests cover.
    database_url = f"sqlite:///{tmp_path}/differential.db"
    rng = random.Random(SEED)
    ledger = make_ledger(rng)
    clock = FixedClock(datetime.combine(SIM_START - timedelta(days=1), time(12), UTC))
    app = App(Settings(database_url=database_url, _env_file=None), clock=clock)
    paths = write_ledger(ledger, tmp_path)
    ctx = app.import_context()
    for kind in ("customers", "documents", "payments"):
        import_file(app.engine, kind, paths[kind], ctx)
    engine = app.engine
    with engine.begin() as conn:
        ids = {r: i for r, i in conn.execute(select(Customer.ref, Customer.id))}
        doc_ids = {r: i for r, i in conn.execute(select(Document.ref, Document.id))}
        for n, c in enumerate(ledger.customers):
            if c.linked or c.unreachable:
                conn.execute(insert(Contact).values(
                    customer_id=ids[c.ref], name="AP", telegram_chat_id=70_000 + n,
                    verified=True, reachable=c.linked, linked_at=clock.now()))
        for ref, _resolved in ledger.disputes:
            dispute_id = conn.execute(insert(Dispute).values(
                customer_id=ids[ref.split("-")[0]], status="open", reason="wrong_amount",
                opened_by="debtor", opened_at=clock.now()).returning(Dispute.id)).scalar_one()
            conn.execute(insert(DisputeItem).values(dispute_id=dispute_id,
                                                    document_id=doc_ids[ref]))
        for ref, until, _released in ledger.holds:
            set_hold(conn, ref, until=until, reason="differential", actor="cli", now=clock.now())

    sweeper = build_sweeper(app)
    reference = Reference(ledger, reference_ladders())
    tone_offsets = {
        c.ref: {s.name: s.offset
                for s in reference.ladders.get(c.segment, reference.ladders["default"])}
        for c in ledger.customers
    }
    mismatches: list[str] = []
    counts: dict[str, int] = defaultdict(int)
    for day in range(DAYS):
        for hour in SWEEP_HOURS:
            now = datetime.combine(SIM_START + timedelta(days=day), time(hour), UTC)
            with engine.begin() as conn:  # the ledger's own changes, when their time comes
                for _ref, resolved in ledger.disputes:
                    if resolved is not None and clock.now() < resolved <= now:
                        for dispute_id in conn.execute(select(Dispute.id).where(Dispute.status == "open")).scalars():
                            resolve_dispute(conn, dispute_id, valid=False, resolution="checked: price is right",
                                            actor="slack:UCREDIT", now=resolved)
                for ref, _until, released in ledger.holds:
                    if released is not None and clock.now() < released <= now:
                        release_hold(conn, ref, actor="cli", now=released)
                for ref, step, agreed in ledger.approvals:
                    if clock.now() < agreed <= now:
                        approve_step(conn, ref, step, policy=app.policy, actor="cli", now=agreed)
            clock.set(now)
            report = sweeper.sweep(now)
            got = {(m.customer_ref, ref, step, m.status)
                   for m in report.messages for ref, step in m.items}
            want = reference.sweep(now)
            if got != want:
                mismatches.append(
                    f"{now:%Y-%m-%d %H:%M}Z: extra {sorted(got - want)}, "
                    f"missing {sorted(want - got)}")
            for m in report.messages:
                counts[m.status] += len(m.items)
                offsets = tone_offsets[m.customer_ref]
                assert m.step == max((step for _r, step in m.items), key=offsets.__getitem__), m
    assert not mismatches, "\n".join(mismatches[:15])

    t, d = ReminderSend.__table__, Document.__table__
    with engine.connect() as conn:
        rows = {tuple(r) for r in conn.execute(
            select(d.c.ref, t.c.step, t.c.status, t.c.local_date)
            .join(d, d.c.id == t.c.document_id))}
    want_rows = reference.outbox()
    assert sorted(rows - want_rows) == [] and sorted(want_rows - rows) == []
    # the ledger really exercised the rules
    assert counts["sent"] > 40 and counts["no_channel"] > 20 and counts["deferred"] > 20
    statuses = defaultdict(int)
    for _r, _s, status, _d in rows:
        statuses[status] += 1
    assert statuses["skipped"] > 10
    steps = {s for _r, s, st, _d in rows if st != "skipped"}
    assert {"pre_due", "first", "second", "final", "formal_notice"} <= steps
    # the strategic gate was exercised both ways: agreed notices went out, others were asked for
    agreed = {ref for ref, _s, _at in ledger.approvals}
    noticed = {r.split("-")[0] for r, s, st, _d in rows if s == "formal_notice" and st != "skipped"}
    strategic = {c.ref for c in ledger.customers if c.segment == "strategic"}
    assert noticed & strategic and noticed & strategic <= agreed
    with engine.connect() as conn:
        asked = set(conn.execute(select(StaffAlert.customer_id).where(StaffAlert.kind == "approval_needed")).scalars())
    assert {ref for ref, i in ids.items() if i in asked} - agreed
    app.engine.dispose()


@pytest.mark.parametrize("seed", [1, 2])
def test_the_reference_model_is_itself_sane(seed: int) -> None:
    """Guards the oracle: its balance and pauses agree with DESIGN's worked cases."""
    ledger = make_ledger(random.Random(seed))
    rich = ledger.customers[6].ref
    assert open_items(ledger, rich, SIM_START + timedelta(days=80)) == {}
    target = next(d for d in ledger.docs if d.ref == "CN-REL")
    day = target.issue
    before = open_items(ledger, target.customer, day - timedelta(days=1)).get(target.related)
    after = open_items(ledger, target.customer, day).get(target.related)
    if before is not None and after is not None:
        assert after[1] < before[1]
