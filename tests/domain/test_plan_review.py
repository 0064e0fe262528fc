"""The pure plan review: which instalment is announced, missed, or whether the plan is done."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.plans import Installment, PlanFacts, PlanReview, review_plan, schedule

APPROVED = date(2026, 1, 31)
INSTS = tuple(Installment(i + 1, d, c) for i, (d, c) in enumerate(schedule(100_00, 3, APPROVED)))


def facts(paid: int = 0, claimed: int = 0, reminded: frozenset[int] = frozenset(), open_cents: int | None = None):  # noqa: ANN201
    return PlanFacts(
        id=7,
        currency="EUR",
        total_cents=100_00,
        installments=INSTS,
        doc_refs=("INV-1",),
        open_cents=100_00 - paid if open_cents is None else open_cents,
        paid_cents=paid,
        claimed_cents=claimed,
        reminded=reminded,
    )


def review(f: PlanFacts, day: date) -> PlanReview:
    return review_plan(f, day, remind_days_before=3, grace_days=3)


def test_schedule_clamps_to_month_end_and_puts_the_remainder_last() -> None:
    assert [(i.due_date, i.amount_cents) for i in INSTS] == [
        (date(2026, 2, 28), 33_33),
        (date(2026, 3, 31), 33_33),
        (date(2026, 4, 30), 33_34),
    ]


def test_the_reminder_window_is_three_days_before_up_to_the_due_date() -> None:
    assert review(facts(), date(2026, 2, 24)) == PlanReview(7)
    for day in (date(2026, 2, 25), date(2026, 2, 27), date(2026, 2, 28)):
        assert review(facts(), day).remind == INSTS[0]
    assert review(facts(reminded=frozenset({1})), date(2026, 2, 26)) == PlanReview(7)
    assert review(facts(), date(2026, 3, 1)) == PlanReview(7)  # in the grace days: nothing


def test_missed_after_the_grace_days_unless_paid_or_claimed() -> None:
    assert review(facts(), date(2026, 3, 3)) == PlanReview(7)
    assert review(facts(), date(2026, 3, 4)).broken_by == INSTS[0]
    assert review(facts(paid=33_33), date(2026, 3, 4)) == PlanReview(7)
    assert review(facts(paid=33_00, claimed=33), date(2026, 3, 4)) == PlanReview(7)
    assert review(facts(paid=33_32), date(2026, 3, 4)).broken_by == INSTS[0]  # a cent short


def test_payments_cover_instalments_in_order() -> None:
    # paid the first and half the second: the second is what is announced and can be missed
    f = facts(paid=50_00, reminded=frozenset({1}))
    assert review(f, date(2026, 3, 28)).remind == INSTS[1]
    assert review(f, date(2026, 4, 4)).broken_by == INSTS[1]
    # paid ahead: nothing until the third
    ahead = facts(paid=66_66)
    assert review(ahead, date(2026, 4, 4)) == PlanReview(7)
    assert review(ahead, date(2026, 4, 27)).remind == INSTS[2]


def test_nothing_open_means_completed_whatever_the_date() -> None:
    assert review(facts(paid=100_00), date(2026, 2, 1)).completed
    assert review(facts(paid=0, open_cents=0), date(2027, 1, 1)).completed


@given(st.integers(0, 100_00), st.integers(0, 400))
def test_at_most_one_outcome_and_broken_only_after_an_uncovered_due_date(paid: int, offset: int) -> None:
    day = date.fromordinal(APPROVED.toordinal() + offset)
    r = review(facts(paid=paid), day)
    outcomes = [r.remind is not None, r.broken_by is not None, r.completed]
    assert sum(outcomes) <= 1
    if r.broken_by is not None:
        covered_through = sum(i.amount_cents for i in INSTS if i.seq <= r.broken_by.seq)
        assert paid < covered_through
        assert (day - r.broken_by.due_date).days > 3
