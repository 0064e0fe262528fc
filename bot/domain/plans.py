"""Payment-plan schedules: monthly instalments, the first one month after approval."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """Same day of month, clamped to the month's end (Jan 31 + 1 month = Feb 28)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


MIN_INSTALLMENTS = 2  # what a debtor may propose in Telegram (DESIGN issue 12: 2 to 12)
MAX_INSTALLMENTS = 12
MAX_PLAN_DAYS = 366  # a debtor's own dates end within a year of the proposal


def split_evenly(total_cents: int, count: int) -> list[int]:
    """`count` equal amounts in cents that sum to `total_cents` exactly; the remainder goes to the last one."""
    if count < 1:
        raise ValueError("a plan needs at least one instalment")
    if total_cents <= 0:
        raise ValueError("a plan needs a positive total")
    base = total_cents // count
    return [base] * (count - 1) + [total_cents - base * (count - 1)]


def schedule(total_cents: int, count: int, approved_on: date) -> list[tuple[date, int]]:
    """Monthly instalments, the first one month after `approved_on` (DESIGN "Chat behaviour"), cent-exact."""
    return [(add_months(approved_on, i + 1), amount) for i, amount in enumerate(split_evenly(total_cents, count))]


def schedule_on_dates(total_cents: int, dates: list[date]) -> list[tuple[date, int]]:
    """Instalments on the debtor's own dates (ascending), equal amounts, cent-exact like `schedule`."""
    return list(zip(dates, split_evenly(total_cents, len(dates)), strict=True))


class PlanDatesError(ValueError):
    """Dates a debtor proposed that cannot make a plan; `reason` is a key the chat translates."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_plan_dates(dates: list[date], today: date) -> list[date]:
    """The debtor's own instalment dates, sorted; raises PlanDatesError(reason) with reason one of
    `count` (not 2 to 12 dates), `repeated` (a date twice), `past` (today or earlier), `too_far`
    (beyond MAX_PLAN_DAYS from today)."""
    if not MIN_INSTALLMENTS <= len(dates) <= MAX_INSTALLMENTS:
        raise PlanDatesError("count")
    ordered = sorted(dates)
    if len(set(ordered)) != len(ordered):
        raise PlanDatesError("repeated")
    if ordered[0] <= today:
        raise PlanDatesError("past")
    if (ordered[-1] - today).days > MAX_PLAN_DAYS:
        raise PlanDatesError("too_far")
    return ordered


@dataclass(frozen=True)
class Installment:
    seq: int
    due_date: date
    amount_cents: int


@dataclass(frozen=True)
class PlanFacts:
    """One approved plan as the sweep sees it at the debtor's local `today`.

    `open_cents` is what is still open on the plan's documents today;
    `paid_cents` how much that fell since the plan was approved (payments and
    credits dated after the approval day); `claimed_cents` what the debtor says
    they paid on them and staff have not decided yet: a claim keeps an
    instalment from counting as missed until it is rejected, the same way it
    pauses the ladder.
    """

    id: int
    currency: str
    total_cents: int
    installments: tuple[Installment, ...]  # by seq
    doc_refs: tuple[str, ...]
    open_cents: int
    paid_cents: int = 0
    claimed_cents: int = 0
    reminded: frozenset[int] = frozenset()  # seqs whose reminder is recorded


@dataclass(frozen=True)
class PlanReview:
    """What happens to one plan today: at most one of the three."""

    plan_id: int
    remind: Installment | None = None  # announce this instalment
    broken_by: Installment | None = None  # missed: the plan is broken, staff escalate
    completed: bool = False


def review_plan(plan: PlanFacts, today: date, *, remind_days_before: int, grace_days: int) -> PlanReview:
    """Instalments are paid in order: what is paid on the plan's documents covers them first to last.

    An instalment is missed once its due date plus `grace_days` has passed (local
    dates) and the payments (and pending claims) do not cover it and every one
    before it. Its reminder goes out from `remind_days_before` days before its
    due date until that date, once.
    """
    if plan.open_cents <= 0:
        return PlanReview(plan.id, completed=True)
    covered = plan.paid_cents + plan.claimed_cents
    required = 0
    for inst in plan.installments:
        required += inst.amount_cents
        if covered >= required:
            continue
        if today > inst.due_date + timedelta(days=grace_days):
            return PlanReview(plan.id, broken_by=inst)
        starts = inst.due_date - timedelta(days=remind_days_before)
        if starts <= today <= inst.due_date and inst.seq not in plan.reminded:
            return PlanReview(plan.id, remind=inst)
        return PlanReview(plan.id)
    return PlanReview(plan.id)
