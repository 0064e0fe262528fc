"""The next dunning step a customer faces, and when: for the staff's "what does ACME owe?".

The ladder's own projection (bot.domain.ladder.project_dates, the one the sales heads-ups
use: DESIGN "Ladder rules", "Ladder dates and windows"), read-only and pure: for each open
item the sweep would chase, its candidate is the first step neither sent nor skipped
(skippable steps a later step has already overtaken are passed over, as the sweep skips
them); it goes out on the first business day of the debtor's country on or after both
`due_date + offset` and the previous reminder's date + `min_gap_days`, never before the
debtor's today (tomorrow once today's business hours are over). Items paused (disputed,
claimed, in a plan, promised, on hold, a talk with a person) are reported with the reason
and, where one exists, the date they are looked at again. The customer's next step is the
earliest item's; items sharing that date go in the same message (one message per customer
per sweep), in the tone of the highest step among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.ladder import (
    DONE,
    REMINDED,
    CustomerFacts,
    _eligible_refs,
    customer_paused,
    pause_reason,
    project_dates,
    sends_now,
    step_date,
)
from bot.domain.policy import Policy

# Pauses whose "look again" date is only tomorrow's re-check, not a real end date.
_OPEN_ENDED = frozenset({"disputed", "claimed", "in_plan", "conversation"})


@dataclass(frozen=True)
class NextStep:
    """`step` goes out on `on` for the items `doc_refs`."""

    step: str
    on: date
    doc_refs: tuple[str, ...]
    awaiting_sales: bool = False  # a `sales_approval` step: it waits until sales agree


@dataclass(frozen=True)
class Projection:
    """The customer's next step (None: nothing will be sent) and the paused items: ref -> (reason, until)."""

    next: NextStep | None
    paused: dict[str, tuple[str, date | None]]
    customer_paused: bool  # a hold on the whole customer, or an open talk with a person


def project_next_step(facts: CustomerFacts, policy: Policy) -> Projection:
    """When the ladder speaks next to this customer (see the module's rules). `facts.today` is the
    debtor's local date, `facts.now` the instant in their zone, `facts.country` their country. Pure."""
    steps = facts.segment.steps
    today = facts.today
    paused: dict[str, tuple[str, date | None]] = {}
    found: list[tuple[date, int, str, str, bool]] = []
    in_hours: bool | None = None
    eligible = _eligible_refs(facts, policy)
    for item in facts.balance.open_items:
        if item.ref not in eligible:
            continue
        why = pause_reason(item.ref, facts, policy)
        if why is not None:
            paused[item.ref] = (why[0], None if why[0] in _OPEN_ENDED else why[1])
            continue
        history = facts.history.get(item.ref, {})
        done = {name for name, rec in history.items() if rec.status in DONE}
        last = max((r.local_date for r in history.values() if r.status in REMINDED), default=None)
        pending = [s for s in steps if s.name not in done]
        while (
            pending
            and pending[0].skippable
            and any(step_date(item, later) <= today for later in steps[steps.index(pending[0]) + 1 :])
        ):
            pending.pop(0)
        if not pending:
            continue
        cand = pending[0]
        ready = today >= step_date(item, cand) and (last is None or (today - last).days >= policy.min_gap_days)
        waits = cand.sales_approval and (item.ref, cand.name) not in facts.approved
        if ready and not waits and in_hours is None:
            in_hours = sends_now(facts, policy)
        goes_now = bool(ready and not waits and in_hours)
        projected = project_dates(item, pending, last, facts, policy, first_goes_now=goes_now)
        first = next((s for s in pending if s.name in projected), None)
        if first is None:
            continue  # no business day left in the calendar
        found.append((projected[first.name], first.offset_days, first.name, item.ref, waits and first is cand))
    if not found:
        return Projection(None, paused, customer_paused(facts, policy))
    on = min(f[0] for f in found)
    same_day = [f for f in found if f[0] == on]
    top = max(same_day, key=lambda f: f[1])  # the message's tone: the highest step among them
    nxt = NextStep(top[2], on, tuple(f[3] for f in same_day), awaiting_sales=any(f[4] for f in same_day))
    return Projection(nxt, paused, customer_paused(facts, policy))
