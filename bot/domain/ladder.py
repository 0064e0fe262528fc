"""The dunning ladder: which step each open item takes at `now`, as plain data.

Implements DESIGN.md "Ladder rules" and the sweep rules, for one customer at a
time. Every day count uses the debtor's local date (`today`). Nothing here
reads a clock, the database or the network: the sweep gathers the facts,
calls `plan_customer`, and records what it returns.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from bot.domain.balances import Balance, OpenItem
from bot.domain.calendar import add_days, in_business_hours, is_business_day, next_business_day
from bot.domain.money import to_cents
from bot.domain.pauses import Pauses
from bot.domain.plans import Installment, PlanFacts
from bot.domain.policy import Policy, Segment, Step

# Outbox states that count as "this step is done for this item".
REMINDED = frozenset({"sent", "no_channel", "pending", "sending", "unknown", "failed"})
DONE = REMINDED | {"skipped"}
# Outbox states of a step recorded but not delivered yet (Telegram down or off): the ladder waits for it.
UNDELIVERED = frozenset({"pending", "sending"})


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
    # (item, step, projected local date it really goes out): new heads-ups for the sales rep,
    # all told in one message (DESIGN "Ladder dates and windows").
    heads_ups: list[tuple[OpenItem, Step, date]] = field(default_factory=list)
    paused: dict[str, str] = field(default_factory=dict)  # ref -> why
    next_action: dict[str, date | None] = field(default_factory=dict)  # ref -> next look
    installments: list[tuple[PlanFacts, Installment]] = field(default_factory=list)  # to announce
    awaiting: list[tuple[OpenItem, Step]] = field(default_factory=list)  # due, but sales have not agreed

    @property
    def tone(self) -> Step | None:
        """The step whose template the customer's one message uses: the highest due step (DESIGN
        "Ladder rules" 4), or None when nothing is due.
        """
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
    country: str = ""  # ISO 3166 alpha-2 of the debtor: business days for projected dates


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


def _overtaken_from(steps: tuple[Step, ...] | list[Step]) -> dict[str, int | None]:
    """Step name -> the smallest offset of the steps after it (None for the last): a skippable step is
    overtaken on the day the first of the later steps' dates comes, due_date + that offset."""
    out: dict[str, int | None] = {}
    least = None
    for s in reversed(steps):
        out[s.name] = least
        least = s.offset_days if least is None else min(least, s.offset_days)
    return out


def sends_now(facts: CustomerFacts, policy: Policy) -> bool:
    """Whether `facts.now` is inside the debtor's business hours (a due step goes out now, not deferred)."""
    return in_business_hours(facts.now, facts.country, policy.business_hours)


def _opens_today(facts: CustomerFacts, policy: Policy) -> bool:
    """Whether a reminder may still go out on the debtor's local `today` (a business day, before closing)."""
    hours = policy.business_hours
    return is_business_day(facts.today, facts.country, hours) and facts.now.time().replace(tzinfo=None) < hours.end


def project_dates(
    item: OpenItem,
    pending: list[Step],
    last: date | None,
    facts: CustomerFacts,
    policy: Policy,
    *,
    first_goes_now: bool = False,
) -> dict[str, date]:
    """Step name -> the debtor's local date on which each pending step really goes out at the earliest.

    `pending`: the item's steps neither sent nor skipped, in ladder order (skips due at
    `facts.today` already taken out); `last`: the local date of its previous reminder;
    `first_goes_now`: the first pending step goes out in this sweep. Projected with the
    sweep's own rules (DESIGN "Ladder dates and windows"): a step goes out on a business day
    of the debtor's country, on or after due_date + offset and the previous reminder's date +
    `min_gap_days`, one step per sweep, never before today (tomorrow once today's business hours
    are over); a skippable step that a later step's date overtakes is skipped, so it has no
    date. A step needing sales' agreement is projected as if they agreed at once (the earliest).
    Steps with no business day before the calendar ends are left out. Pure: no clock.
    """
    steps = facts.segment.steps
    hours = policy.business_hours
    today = facts.today
    first_day = today if _opens_today(facts, policy) else add_days(today, 1)
    out: dict[str, date] = {}
    queue = list(pending)
    cursor = today  # the day the next candidate becomes the candidate
    if first_goes_now and queue:
        out[queue.pop(0).name] = today
        last = today
    overtaken = _overtaken_from(steps)
    for s in queue:
        earliest = max(step_date(item, s), cursor, first_day)
        if last is not None:
            earliest = max(earliest, add_days(last, policy.min_gap_days))
        day = next_business_day(earliest, facts.country, hours)
        if day is None:
            break
        if s.skippable and (least := overtaken[s.name]) is not None:
            later = item.due_date + timedelta(days=least)  # the first of the later steps' dates
            if later <= day:
                cursor = max(cursor, later)  # skipped on that day, not sent
                continue
        out[s.name] = day
        last = cursor = day
    return out


def plan_customer(facts: CustomerFacts, policy: Policy) -> CustomerPlan:
    """What one sweep does for one customer at `facts.now` (DESIGN "Ladder rules", "Ladder dates and windows").

    For each eligible, armed, unpaused open item whose last step is not still undelivered
    (`pending`/`sending` in the outbox: it waits for that one): skippable steps overtaken by a later step
    are skipped; the candidate (first step neither sent nor skipped) is due when its date has
    come and `min_gap_days` have passed since the item's last reminder (a `sales_approval` step
    waits for sales instead: `awaiting`); the sales heads-ups to give now are those whose
    projected real date (`project_dates`) is at most the step's `heads_up_days` away, once per
    (item, step); and `next_action` is the earliest local date the item may need a sweep again
    (None: nothing until the ledger changes). Business hours only decide the projected dates:
    whether a due message goes out now or waits is the sweep's call. Pure.
    """
    plan = CustomerPlan()
    eligible = _eligible_refs(facts, policy)
    steps = facts.segment.steps
    today = facts.today
    armed = facts.armed
    in_hours: bool | None = None
    overtaken = _overtaken_from(steps)
    for item in facts.balance.open_items:
        if item.ref not in eligible or (armed is not None and item.ref not in armed):
            continue
        paused = pause_reason(item.ref, facts, policy)
        if paused is not None:
            plan.paused[item.ref] = paused[0]
            plan.next_action[item.ref] = paused[1]
            continue
        history = facts.history.get(item.ref, {})
        if any(rec.status in UNDELIVERED for rec in history.values()):
            # An earlier step has not reached the debtor yet (Telegram down or off): no further step
            # until it has, so that catch-up after downtime sends one step per invoice, never a backlog
            # of steps at once; looked at again after the gap.
            plan.next_action[item.ref] = today + timedelta(days=max(1, policy.min_gap_days))
            continue
        done = {name for name, rec in history.items() if rec.status in DONE}
        last = max((r.local_date for r in history.values() if r.status in REMINDED), default=None)
        pending = [s for s in steps if s.name not in done]

        # Rule 2: a skippable candidate is skipped once a later step's offset has passed.
        while (
            pending
            and pending[0].skippable
            and (least := overtaken[pending[0].name]) is not None
            and item.due_date + timedelta(days=least) <= today
        ):
            plan.skips.append((item, pending[0]))
            pending.pop(0)

        if not pending:
            plan.next_action[item.ref] = None
            continue
        cand = pending[0]
        gap_ok = last is None or (today - last).days >= policy.min_gap_days
        ready = today >= step_date(item, cand) and gap_ok
        waits = ready and cand.sales_approval and (item.ref, cand.name) not in facts.approved

        projected: dict[str, date] = {}
        announce = [s for s in pending if s.heads_up_days and (item.ref, s.name) not in facts.headed_up]
        if announce:
            if in_hours is None:
                in_hours = sends_now(facts, policy)
            goes_now = ready and not waits and in_hours
            projected = project_dates(item, pending, last, facts, policy, first_goes_now=goes_now)
        raised = set()
        for s in announce:
            when = projected.get(s.name)
            if when is not None and (when - today).days <= (s.heads_up_days or 0):
                plan.heads_ups.append((item, s, when))
                raised.add(s.name)

        if waits:
            # Sales must agree first; ask, and look again tomorrow.
            plan.awaiting.append((item, cand))
            plan.paused[item.ref] = "awaiting_sales"
            plan.next_action[item.ref] = today + timedelta(days=1)
            continue
        if ready:
            plan.due.append(DueItem(item, cand))
            after = pending[1:]
            last_after = today
        else:
            after = pending
            last_after = last
        wake = [when - timedelta(days=s.heads_up_days or 0) for s in announce
                if s.name not in raised and (when := projected.get(s.name)) is not None]
        plan.next_action[item.ref] = _next_look(item, after, last_after, facts, policy, wake)
    return plan


def _next_look(
    item: OpenItem,
    pending: list[Step],
    last: date | None,
    facts: CustomerFacts,
    policy: Policy,
    heads_up_wake: list[date] = (),  # type: ignore[assignment]
) -> date | None:
    """The earliest local date on which this item may need the sweep again: its candidate's date
    (after the gap), a skippable candidate's own date, or the day a heads-up falls due (its
    projected date less its heads-up days; projections only move later, so this is never late)."""
    if not pending:
        return None
    cand = pending[0]
    when = step_date(item, cand)
    if last is not None:
        when = max(when, last + timedelta(days=policy.min_gap_days))
    for day in heads_up_wake:
        when = min(when, day)
    if cand.skippable:
        when = min(when, step_date(item, cand))
    return max(when, facts.today)


def ladder_fingerprint(policy: Policy) -> str:
    """A short digest of everything in `policy` that decides items' next-action dates: each segment's
    steps (name, offset, skippable, heads-up days, sales approval, actions), the gap, the minimum open
    amounts, business hours and the pause lengths. The sweep compares it with the one stored when the
    items were armed: a change re-arms every open item (DESIGN: a policy change takes effect at the
    next sweep for every open item). Templates, fees and texts are left out: they change no date.
    """
    hours = policy.business_hours
    shape = {
        "segments": {
            name: [
                [s.name, s.offset_days, s.skippable, s.heads_up_days, s.sales_approval, list(s.actions)]
                for s in seg.steps
            ]
            for name, seg in sorted(policy.segments.items())
        },
        "min_gap_days": policy.min_gap_days,
        "minimum_open": {k: str(v) for k, v in sorted(policy.minimum_open.items())},
        "minimum_open_default": str(policy.minimum_open_default),
        "hours": [hours.start.isoformat(), hours.end.isoformat(),
                  {k: list(v) for k, v in sorted(hours.working_days.items())}],
        "pauses": [policy.conversation_pause_days, policy.claimed_payment_pause_days,
                   policy.installment_reminder_days_before, policy.installment_grace_days],
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:32]
