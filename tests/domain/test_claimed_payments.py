"""A confirmed claim and the ERP's import of the same payment count once (README "I paid")."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.claimed_payments import PaymentFact, allocate_claim, superseded_claims
from bot.domain.plans import PlanDatesError, check_plan_dates, schedule, schedule_on_dates

D = date


def claim(ref: str, day: date, cents: int, reference: str = "", cur: str = "USD") -> PaymentFact:
    return PaymentFact(ref, day, cents, cur, reference)


def test_the_same_amount_within_the_window_stands_in_for_the_claim_once() -> None:
    c = claim("CLAIM-1", D(2026, 3, 10), 500_00)
    assert superseded_claims([c], [claim("ERP-7", D(2026, 3, 12), 500_00)]) == {"CLAIM-1"}
    assert superseded_claims([c], [claim("ERP-7", D(2026, 3, 3), 500_00)]) == {"CLAIM-1"}  # 7 days before
    assert superseded_claims([c], [claim("ERP-7", D(2026, 3, 2), 500_00)]) == set()
    assert superseded_claims([c], [claim("ERP-7", D(2026, 4, 9), 500_00)]) == {"CLAIM-1"}  # 30 days after
    assert superseded_claims([c], [claim("ERP-7", D(2026, 4, 10), 500_00)]) == set()
    assert superseded_claims([c], [claim("ERP-7", D(2026, 3, 12), 499_99)]) == set()
    assert superseded_claims([c], [claim("ERP-7", D(2026, 3, 12), 500_00, cur="EUR")]) == set()
    # one imported payment, two identical claims: only one of them is the same payment
    twin = claim("CLAIM-2", D(2026, 3, 11), 500_00)
    assert superseded_claims([c, twin], [claim("ERP-7", D(2026, 3, 12), 500_00)]) == {"CLAIM-1"}


def test_the_debtors_bank_reference_matches_whatever_the_amount_and_the_nearest_wins() -> None:
    c = claim("CLAIM-1", D(2026, 3, 10), 500_00, reference=" trf 123 ")
    assert superseded_claims([c], [claim("TRF123", D(2026, 6, 1), 480_00)]) == {"CLAIM-1"}
    near, far = claim("ERP-A", D(2026, 3, 20), 500_00), claim("ERP-B", D(2026, 3, 11), 500_00)
    c2 = claim("CLAIM-2", D(2026, 3, 21), 500_00)
    assert superseded_claims([claim("CLAIM-1", D(2026, 3, 10), 500_00), c2], [near, far]) == {"CLAIM-1", "CLAIM-2"}


def test_a_claim_is_spread_over_the_chosen_invoices_oldest_first() -> None:
    assert allocate_claim([("A", 100_00), ("B", 50_00)], 120_00) == [("A", 100_00), ("B", 20_00)]
    assert allocate_claim([("A", 100_00)], 150_00) == [("A", 100_00)]  # the rest: oldest open items


def test_plan_schedules_are_cent_exact_and_own_dates_are_checked() -> None:
    monthly = schedule(100_00, 3, D(2026, 1, 31))
    assert monthly == [(D(2026, 2, 28), 33_33), (D(2026, 3, 31), 33_33), (D(2026, 4, 30), 33_34)]
    own = schedule_on_dates(1001, [D(2026, 4, 1), D(2026, 5, 1)])
    assert own == [(D(2026, 4, 1), 500), (D(2026, 5, 1), 501)] and sum(c for _, c in own) == 1001
    today = D(2026, 3, 16)
    assert check_plan_dates([D(2026, 5, 1), D(2026, 4, 1)], today) == [D(2026, 4, 1), D(2026, 5, 1)]
    for dates, reason in (
        ([D(2026, 4, 1)], "count"),
        ([today + timedelta(days=i + 1) for i in range(13)], "count"),
        ([D(2026, 4, 1), D(2026, 4, 1)], "repeated"),
        ([today, D(2026, 4, 1)], "past"),
        ([D(2026, 4, 1), today + timedelta(days=367)], "too_far"),
    ):
        try:
            check_plan_dates(dates, today)
        except PlanDatesError as exc:
            assert exc.reason == reason
        else:
            raise AssertionError(f"{dates} accepted")
