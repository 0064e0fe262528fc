"""The payer rating (bot.domain.payer_rating) and the engine's applications it reads."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.balances import applications, compute_balance
from bot.domain.ledger import CREDIT_NOTE, INVOICE, WITHHOLDING, Doc, Pay
from bot.domain.payer_rating import GRADES, grade_for, lateness, rate_payer

AS_OF = date(2026, 6, 30)


def inv(ref: str, due: date, cents: int, cur: str = "USD") -> Doc:
    return Doc(ref, INVOICE, due - timedelta(days=30), due, cents, cur)


def pay(ref: str, day: date, cents: int, *allocs: tuple[str, int], cur: str = "USD") -> Pay:
    return Pay(ref, day, cents, cur, tuple(allocs))


def test_paid_on_or_before_the_due_date_is_grade_a() -> None:
    r = rate_payer([inv("I1", date(2026, 3, 1), 1000)], [pay("P1", date(2026, 2, 20), 1000)], AS_OF)
    assert (r.grade, r.average_days_late) == ("A", Decimal("0.0"))


def test_days_late_are_weighted_by_the_amount_paid() -> None:
    docs = [inv("I1", date(2026, 3, 1), 10_000), inv("I2", date(2026, 3, 1), 30_000)]
    pays = [pay("P1", date(2026, 3, 11), 10_000, ("I1", 10_000)), pay("P2", date(2026, 4, 20), 30_000, ("I2", 30_000))]
    r = rate_payer(docs, pays, AS_OF)
    assert r.average_days_late == Decimal("40.0")  # (100 x 10 + 300 x 50) / 400
    assert r.grade == "D"
    assert r.currencies[0].paid_cents == 40_000


def test_which_payment_settled_which_invoice_is_the_balance_engines_answer() -> None:
    # A payment without applies_to pays the oldest item first (DESIGN "Balance rules" step 3):
    # I-OLD, due Jan 1, is paid 59 days late; I-NEW (due Mar 20) is open and 102 days overdue.
    docs = [inv("I-NEW", date(2026, 3, 20), 5000), inv("I-OLD", date(2026, 1, 1), 5000)]
    r = rate_payer(docs, [pay("P1", date(2026, 3, 1), 5000)], AS_OF)
    assert r.currencies[0].average_days_late == Decimal("80.5")  # (59 + 102) / 2
    assert r.currencies[0].overdue_open_cents == 5000


def test_an_unpaid_overdue_invoice_counts_its_days_overdue_so_far() -> None:
    r = rate_payer([inv("I1", AS_OF - timedelta(days=90), 1000)], [], AS_OF)
    assert (r.grade, r.average_days_late) == ("E", Decimal("90.0"))


def test_not_yet_due_and_unpaid_says_nothing_and_credit_notes_are_not_payments() -> None:
    assert rate_payer([inv("I1", AS_OF + timedelta(days=5), 1000)], [], AS_OF).grade is None
    late_credit = Doc("CN1", CREDIT_NOTE, date(2026, 5, 1), None, 1000, "USD", "I1")
    r = rate_payer([inv("I1", date(2026, 2, 1), 1000), late_credit], [], AS_OF)
    assert r.grade is None and r.currencies == ()


def test_a_withholding_is_part_of_paying() -> None:
    docs = [inv("I1", date(2026, 3, 1), 1000), Doc("W1", WITHHOLDING, date(2026, 3, 31), None, 100, "USD", "I1")]
    r = rate_payer(docs, [pay("P1", date(2026, 3, 1), 900, ("I1", 900))], AS_OF)
    assert r.average_days_late == Decimal("3.0")  # 100 of 1000 paid 30 days late


def test_broken_commitments_lower_the_grade_one_letter_each_down_to_e() -> None:
    docs, pays = [inv("I1", date(2026, 3, 1), 1000)], [pay("P1", date(2026, 3, 1), 1000)]
    assert rate_payer(docs, pays, AS_OF, broken_promises=1).grade == "B"
    assert rate_payer(docs, pays, AS_OF, broken_promises=1, broken_plans=1).grade == "C"
    assert rate_payer(docs, pays, AS_OF, broken_promises=9).grade == "E"
    assert rate_payer([], [], AS_OF, broken_promises=1).grade == "B"  # no history but a broken promise


def test_the_worst_currency_rates_the_customer() -> None:
    docs = [inv("U1", date(2026, 3, 1), 1000), inv("E1", date(2026, 3, 1), 10**9, cur="EUR")]
    pays = [pay("P1", date(2026, 3, 1), 1000), pay("P2", date(2026, 5, 10), 10**9, cur="EUR")]
    r = rate_payer(docs, pays, AS_OF)
    assert [(c.currency, c.average_days_late) for c in r.currencies] == [("EUR", Decimal("70.0")), ("USD", 0)]
    assert r.grade == "E"


def test_settled_items_older_than_a_year_are_not_measured() -> None:
    old = inv("I1", AS_OF - timedelta(days=400), 1000)
    assert rate_payer([old], [pay("P1", AS_OF - timedelta(days=300), 1000)], AS_OF).grade is None


@pytest.mark.parametrize(
    ("days", "grade"), [(0, "A"), (5, "A"), (5.1, "B"), (15, "B"), (30, "C"), (60, "D"), (60.1, "E")]
)
def test_grade_bands(days: float, grade: str) -> None:
    assert grade_for(Decimal(str(days))) == grade


def test_grade_refuses_negative_inputs() -> None:
    with pytest.raises(ValueError):
        grade_for(Decimal(-1))
    with pytest.raises(ValueError):
        grade_for(Decimal(1), -1)


@settings(max_examples=200, deadline=None)
@given(
    a=st.decimals(0, 400, places=1), b=st.decimals(0, 400, places=1), m=st.integers(0, 5), n=st.integers(0, 5)
)
def test_the_grade_never_improves_with_more_lateness_or_more_broken_promises(a, b, m, n) -> None:  # noqa: ANN001
    rank = GRADES.index
    (d1, d2), (k1, k2) = sorted((a, b)), sorted((m, n))
    assert rank(grade_for(d1, k1)) <= rank(grade_for(d2, k2))


# --- generated ledgers -------------------------------------------------------------------

DAY0 = date(2026, 1, 1)
invoices = st.lists(
    st.tuples(st.integers(0, 150), st.integers(1, 100_000)), min_size=1, max_size=8
).map(lambda rows: [Doc(f"I{i}", INVOICE, DAY0 + timedelta(days=d), DAY0 + timedelta(days=d + 30), c, "USD")
                    for i, (d, c) in enumerate(rows)])


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[Doc], list[Pay]]:
    docs = draw(invoices)
    pays = []
    for i in range(draw(st.integers(0, 6))):
        day = DAY0 + timedelta(days=draw(st.integers(0, 160)))
        cents = draw(st.integers(1, 120_000))
        allocs = ()
        if draw(st.booleans()):
            allocs = ((draw(st.sampled_from(docs)).ref, draw(st.integers(1, cents))),)
        pays.append(Pay(f"P{i}", day, cents, "USD", allocs))
    if draw(st.booleans()):
        docs.append(Doc("CN", CREDIT_NOTE, DAY0 + timedelta(days=draw(st.integers(0, 160))), None,
                        draw(st.integers(1, 50_000)), "USD", draw(st.sampled_from([None, "I0"]))))
    return docs, pays


@settings(max_examples=150, deadline=None)
@given(ledger=ledgers())
def test_applications_add_up_to_what_the_balance_engine_leaves_open(ledger) -> None:  # noqa: ANN001
    docs, pays = ledger
    bal = compute_balance(docs, pays, AS_OF)
    open_now = {i.ref: i.open_cents for i in bal.open_items}
    applied: dict[str, int] = {}
    for a in applications(docs, pays, AS_OF):
        applied[a.item_ref] = applied.get(a.item_ref, 0) + a.cents
    for d in docs:
        if d.type == INVOICE:
            assert d.amount_cents - applied.get(d.ref, 0) == open_now.get(d.ref, 0)
    credits = sum(p.amount_cents for p in pays) + sum(d.amount_cents for d in docs if d.type == CREDIT_NOTE)
    assert sum(applied.values()) + bal.balances[0].unapplied_credit_cents == credits


@settings(max_examples=150, deadline=None)
@given(ledger=ledgers(), delay=st.integers(1, 60))
def test_paying_later_never_improves_the_rating(ledger, delay: int) -> None:  # noqa: ANN001
    docs, pays = ledger
    docs = [d for d in docs if d.type == INVOICE]  # credit notes would change the allocation order
    # every payment still counted at as_of (a payment moved past it is no payment at all)
    delay = min([delay, *((AS_OF - p.date).days for p in pays)])
    later = [p._replace(date=p.date + timedelta(days=delay)) for p in pays]
    before, after = lateness(docs, pays, AS_OF), lateness(docs, later, AS_OF)
    assert [c.currency for c in before] == [c.currency for c in after]
    for b, a in zip(before, after, strict=True):
        assert a.average_days_late >= b.average_days_late
    assert GRADES.index(rate_payer(docs, later, AS_OF).grade or "A") >= GRADES.index(
        rate_payer(docs, pays, AS_OF).grade or "A"
    )
