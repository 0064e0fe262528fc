"""The next dunning step a customer faces, and when: for the staff's "what does ACME owe?".

A projection with the ladder's own rules (DESIGN "Ladder rules", "Ladder dates and
windows"), read-only and pure: for each open item the sweep would chase, its candidate is
the first step neither sent nor skipped (skippable steps whose later step is already due
are passed over, as the sweep would skip them); it goes out on the first business day of
the debtor's country that is on or after both `due_date + offset` and the previous
reminder's date + `min_gap_days`, and never before the debtor's `today`. Items paused
(disputed, claimed, in a plan, promised, on hold, a talk with a person, awaiting sales)
are reported with the reason and, where one exists, the date they are looked at again.
The customer's next step is the earliest item's; items sharing that date and step go in
the same message (one message per customer per sweep).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.calendar import next_business_day
from bot.domain.ladder import DONE, REMINDED, CustomerFacts, _eligible_refs, customer_paused, pause_reason, step_date
from bot.domain.policy import Policy

# Pauses whose "look again" date is only tomorrow's re-check, not a real end date.
_OPEN_ENDED = frozenset({"disputed", "claimed", "in_plan", "conversation", "awaiting_sales"})


@dataclass(frozen=True)
class NextStep:
    """`step` goes out on `on` (None: no business day found) for the items `doc_refs`."""

    step: str
    on: date | None
    doc_refs: tuple[str, ...]
    awaiting_sales: bool = False  # a `sales_approval` step: it waits until sales agree


@dataclass(frozen=True)
class Projection:
    """The customer's next step (None: nothing will be sent) and the paused items: ref -> (reason, until)."""

    next: NextStep | None
    paused: dict[str, tuple[str, date | None]]
    customer_paused: bool  # a hold on the whole customer, or an open talk with a person


def project_next_step(facts: CustomerFacts, policy: Policy, country: str) -> Projection:
    """When the ladder speaks next to this customer (see the module's rules); `facts.today` is
    the debtor's local date, `country` the ISO code for business days. Pure."""
    steps = facts.segment.steps
    today = facts.today
    paused: dict[str, tuple[str, date | None]] = {}
    found: list[tuple[date | None, int, str, str, bool]] = []
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
            len(pending) > 1
            and pending[0].skippable
            and any(step_date(item, later) <= today for later in steps[steps.index(pending[0]) + 1 :])
        ):
            pending.pop(0)
        if not pending:
            continue
        cand = pending[0]
        when = max(step_date(item, cand), today)
        if last is not None and policy.min_gap_days:
            when = max(when, last + timedelta(days=policy.min_gap_days))
        on = next_business_day(when, country, policy.business_hours)
        waits = cand.sales_approval and (item.ref, cand.name) not in facts.approved
        found.append((on, cand.offset_days, cand.name, item.ref, waits))
    if not found:
        return Projection(None, paused, customer_paused(facts, policy))
    found.sort(key=lambda f: (f[0] is None, f[0] or date.max, -f[1]))
    on = found[0][0]
    same_day = [f for f in found if f[0] == on]
    top = max(same_day, key=lambda f: f[1])  # the message's tone: the highest step among them
    nxt = NextStep(top[2], on, tuple(f[3] for f in same_day), awaiting_sales=any(f[4] for f in same_day))
    return Projection(nxt, paused, customer_paused(facts, policy))
