"""The dunning ladder: which step each open item takes at `now`, as plain data.

Implements DESIGN.md "Ladder rules" and the sweep rules, for one customer at a
time. Every day count uses the debtor's local date (`today`). Nothing here
reads a clock, the database or the network: the sweep gathers the facts,
calls `plan_customer`, and records what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from bot.domain.balances import Balance, OpenItem
from bot.domain.money import to_cents
from bot.domain.pauses import Pauses
from bot.domain.plans import Installment, PlanFacts
from bot.domain.policy import Policy, Segment, Step

# Outbox states that count as "this step is done for this item".
REMINDED = frozenset({"sent", "no_channel", "pending", "sending", "unknown", "failed"})
DONE = REMINDED | {"skipped"}


class StepRecord(NamedTuple):  # a named tuple: one per outbox row the sweep reads
    status: str
    local_date: date


@dataclass(frozen=True)
class DueItem:
    item: OpenItem
    step: Step


@dataclass
class CustomerPlan:
    """What one sweep does for one customer."""

    due: list[DueItem] = field(default_factory=list)  # one message, if any
    skips: list[tuple[OpenItem, Step]] = field(default_factory=list)
    heads_ups: list[tuple[OpenItem, Step, date]] = field(default_factory=list)
    paused: dict[str, str] = field(default_factory=dict)  # ref -> why
    next_action: dict[str, date | None] = field(default_factory=dict)  # ref -> next look
    installments: list[tuple[PlanFacts, Installment]] = field(default_factory=list)  # to announce
    awaiting: list[tuple[OpenItem, Step]] = field(default_factory=list)  # due, but sales have not agreed

    @property
    def tone(self) -> Step | None:
        return max((d.step for d in self.due), key=lambda s: s.offset_days, default=None)


@dataclass(frozen=True)
class CustomerFacts:
    segment: Segment
    today: date  # the debtor's local date at now
    now: datetime  # in the debtor's time zone: pause caps count the debtor's local dates
    balance: Balance
    history: dict[str, dict[str, StepRecord]]  # ref -> step name -> record
    headed_up: frozenset[tuple[str, str]] = frozenset()  # (ref, step) already announced
    pauses: Pauses = field(default_factory=Pauses)
    approved: frozenset[tuple[str, str]] = frozenset()  # (ref, step) sales agreed to (sales_approval steps)
    # Only these items are planned (None: all). The sweep passes the items whose stored
    # next-action date has come: the others cannot have anything to do yet.
    armed: frozenset[str] | None = None


def pause_reason(ref: str, facts: CustomerFacts, policy: Policy) -> tuple[str, date] | None:
    """Why reminders wait for this item, and the first local date to look again."""
    p, today = facts.pauses, facts.today
    tomorrow = today + timedelta(days=1)
    if ref in p.disputed:
        return "disputed", tomorrow
    if ref in p.claimed:
        cap = policy.claimed_payment_pause_days
        claimed_on = p.claimed[ref]
        if cap is None or claimed_on is None or today < _local_date(claimed_on, facts) + timedelta(days=cap):
            return "claimed", tomorrow
    if ref in p.in_plan:
        return "in_plan", tomorrow
    promised = p.promised_until(ref)
    if promised is not None and today <= promised:
        return "promised", promised + timedelta(days=1)
    hold = p.hold_until(ref)
    if hold is not None and today <= hold:
        return "on_hold", hold + timedelta(days=1)
    if _talking(facts, policy):
        return "conversation", tomorrow
    return None


def customer_paused(facts: CustomerFacts, policy: Policy) -> bool:
    """A hold on the whole customer or an open talk with a person: no reminder of any kind."""
    p = facts.pauses
    if p.customer_hold_until is not None and facts.today <= p.customer_hold_until:
        return True
    return _talking(facts, policy)


def _local_date(at: datetime, facts: CustomerFacts) -> date:
    """The debtor's local date of an instant: `facts.now` carries the debtor's time zone."""
    return at.astimezone(facts.now.tzinfo).date()


def _talking(facts: CustomerFacts, policy: Policy) -> bool:
    """An open talk pauses reminders from its last message's local date for conversation_pause_days dates
    (2: a Monday talk pauses Monday and Tuesday), counted like min_gap_days."""
    at = facts.pauses.conversation_at
    if at is None or policy.conversation_pause_days <= 0:
        return False
    return facts.today < _local_date(at, facts) + timedelta(days=policy.conversation_pause_days)


def _eligible_refs(facts: CustomerFacts, policy: Policy) -> set[str]:
    """Items big enough to chase, of currencies where the customer really owes money."""
    out = set()
    for item in facts.balance.open_items:
        minimum = to_cents(policy.minimum_for(item.currency))
        cur = facts.balance.for_currency(item.currency)
        if cur is None or cur.total_open_cents <= 0 or cur.total_open_cents < minimum:
            continue  # zero or negative balances (credits) never get a reminder
        if item.open_cents >= minimum:
            out.add(item.ref)
    return out


def step_date(item: OpenItem, step: Step) -> date:
    """A step is due from the local date due_date + offset, that day included."""
    return item.due_date + timedelta(days=step.offset_days)


def plan_customer(facts: CustomerFacts, policy: Policy) -> CustomerPlan:
    plan = CustomerPlan()
    eligible = _eligible_refs(facts, policy)
    steps = facts.segment.steps
    today = facts.today
    armed = facts.armed
    for item in facts.balance.open_items:
        if item.ref not in eligible or (armed is not None and item.ref not in armed):
            continue
        paused = pause_reason(item.ref, facts, policy)
        if paused is not None:
            plan.paused[item.ref] = paused[0]
            plan.next_action[item.ref] = paused[1]
            continue
        history = facts.history.get(item.ref, {})
        done = {name for name, rec in history.items() if rec.status in DONE}
        last = max((r.local_date for r in history.values() if r.status in REMINDED), default=None)
        pending = [s for s in steps if s.name not in done]

        # Rule 2: a skippable candidate is skipped once a later step's offset has passed.
        while (
            pending
            and pending[0].skippable
            and any(step_date(item, later) <= today for later in steps[steps.index(pending[0]) + 1 :])
        ):
            plan.skips.append((item, pending[0]))
            pending.pop(0)

        for s in pending:
            if s.heads_up_days and (item.ref, s.name) not in facts.headed_up:
                if today >= step_date(item, s) - timedelta(days=s.heads_up_days):
                    plan.heads_ups.append((item, s, step_date(item, s)))

        if not pending:
            plan.next_action[item.ref] = None
            continue
        cand = pending[0]
        gap_ok = last is None or (today - last).days >= policy.min_gap_days
        if today >= step_date(item, cand) and gap_ok and cand.sales_approval:
            if (item.ref, cand.name) not in facts.approved:
                # Sales must agree first; ask, and look again tomorrow.
                plan.awaiting.append((item, cand))
                plan.paused[item.ref] = "awaiting_sales"
                plan.next_action[item.ref] = today + timedelta(days=1)
                continue
        if today >= step_date(item, cand) and gap_ok:
            plan.due.append(DueItem(item, cand))
            after = pending[1:]
            last_after = today
        else:
            after = pending
            last_after = last
        plan.next_action[item.ref] = _next_look(item, after, last_after, facts, policy)
    return plan


def _next_look(
    item: OpenItem, pending: list[Step], last: date | None, facts: CustomerFacts, policy: Policy
) -> date | None:
    """The earliest local date on which this item may need the sweep again."""
    if not pending:
        return None
    cand = pending[0]
    when = step_date(item, cand)
    if last is not None:
        when = max(when, last + timedelta(days=policy.min_gap_days))
    for s in pending:
        if s.heads_up_days and (item.ref, s.name) not in facts.headed_up:
            when = min(when, step_date(item, s) - timedelta(days=s.heads_up_days))
    if cand.skippable:
        when = min(when, step_date(item, cand))
    return max(when, facts.today)
