"""The balance rules (DESIGN "Balance rules"), one at a time, then as properties.

Amounts are integer cents throughout; `D(2026, 3, 1)` style dates keep rows short.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.balances import BUCKETS, Balance, bucket_for, compute_balance
from bot.domain.ledger import CREDIT_NOTE, DEBIT_NOTE, INVOICE, WITHHOLDING, Doc, Pay
from bot.domain.money import AmountError, cents_str, parse_csv_amount, percent_of

D = date
AS_OF = D(2026, 6, 30)


def inv(ref: str, due: date, cents: int, *, issue: date | None = None, cur: str = "USD") -> Doc:
    return Doc(ref, INVOICE, issue or due - timedelta(days=30), due, cents, cur)


def dn(ref: str, due: date, cents: int, *, issue: date | None = None, cur: str = "USD") -> Doc:
    return Doc(ref, DEBIT_NOTE, issue or due - timedelta(days=30), due, cents, cur)


def cn(ref: str, issue: date, cents: int, related: str | None = None, cur: str = "USD") -> Doc:
    return Doc(ref, CREDIT_NOTE, issue, None, cents, cur, related)


def wh(ref: str, issue: date, cents: int, related: str | None = None, cur: str = "USD") -> Doc:
    return Doc(ref, WITHHOLDING, issue, None, cents, cur, related)


def pay(ref: str, day: date, cents: int, *allocs: tuple[str, int], cur: str = "USD") -> Pay:
    return Pay(ref, day, cents, cur, tuple(allocs))


def open_of(balance: Balance) -> dict[str, int]:
    return {i.ref: i.open_cents for i in balance.open_items}


def usd(balance: Balance):
    found = balance.for_currency("USD")
    assert found is not None
    return found


# --- 1. related credit notes and withholdings first ---------------------------------------


def test_related_credit_note_reduces_its_own_document_not_the_oldest() -> None:
    docs = [inv("OLD", D(2026, 1, 31), 100_00), inv("NEW", D(2026, 5, 31), 100_00),
            cn("CN", D(2026, 6, 1), 30_00, related="NEW")]
    assert open_of(compute_balance(docs, [], AS_OF)) == {"OLD": 100_00, "NEW": 70_00}


def test_related_withholding_reduces_its_own_document() -> None:
    docs = [inv("OLD", D(2026, 1, 31), 100_00), inv("NEW", D(2026, 5, 31), 100_00),
            wh("WH", D(2026, 6, 1), 1_50, related="NEW")]
    assert open_of(compute_balance(docs, [], AS_OF)) == {"OLD": 100_00, "NEW": 98_50}


def test_related_credits_apply_before_explicit_payment_allocations() -> None:
    # The credit note takes 30 off NEW first; the payment's 100 for NEW then finds
    # only 70 there, and its 30 surplus goes to the oldest item.
    docs = [inv("OLD", D(2026, 1, 31), 100_00), inv("NEW", D(2026, 5, 31), 100_00),
            cn("CN", D(2026, 6, 20), 30_00, related="NEW")]
    pays = [pay("P", D(2026, 6, 10), 100_00, ("NEW", 100_00))]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"OLD": 70_00}


def test_credit_note_larger_than_its_document_spills_into_the_pool() -> None:
    docs = [inv("OLD", D(2026, 1, 31), 100_00), inv("NEW", D(2026, 5, 31), 20_00),
            cn("CN", D(2026, 6, 1), 50_00, related="NEW")]
    assert open_of(compute_balance(docs, [], AS_OF)) == {"OLD": 70_00}


# --- 2. explicit applies_to ------------------------------------------------------------------


def test_payment_applies_to_the_named_documents_not_the_oldest() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00), inv("B", D(2026, 2, 28), 100_00),
            inv("C", D(2026, 3, 31), 100_00)]
    pays = [pay("P", D(2026, 6, 1), 150_00, ("C", 100_00), ("B", 50_00))]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"A": 100_00, "B": 50_00}


def test_unallocated_rest_of_a_payment_goes_to_the_oldest_item() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00), inv("B", D(2026, 2, 28), 100_00),
            inv("C", D(2026, 3, 31), 100_00)]
    pays = [pay("P", D(2026, 6, 1), 130_00, ("C", 100_00))]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"A": 70_00, "B": 100_00}


# --- 3. oldest credit first, to the oldest item -----------------------------------------------


def test_pool_pays_items_by_due_date_first() -> None:
    # Issued later but due earlier: it is the older debt.
    docs = [inv("A", D(2026, 5, 31), 100_00, issue=D(2026, 1, 1)),
            inv("B", D(2026, 2, 28), 100_00, issue=D(2026, 2, 1))]
    pays = [pay("P", D(2026, 6, 1), 120_00)]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"A": 80_00}


def test_pool_breaks_due_date_ties_by_issue_date() -> None:
    docs = [inv("A", D(2026, 3, 31), 100_00, issue=D(2026, 3, 1)),
            inv("B", D(2026, 3, 31), 100_00, issue=D(2026, 2, 1))]
    pays = [pay("P", D(2026, 6, 1), 120_00)]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"A": 80_00}


def test_pool_breaks_full_date_ties_by_ref() -> None:
    same = {"issue": D(2026, 3, 1)}
    docs = [inv("B", D(2026, 3, 31), 100_00, **same), inv("A", D(2026, 3, 31), 100_00, **same)]
    pays = [pay("P", D(2026, 6, 1), 120_00)]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"B": 80_00}


def test_unrelated_credit_notes_and_withholdings_join_the_pool() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00), inv("B", D(2026, 2, 28), 100_00),
            cn("CN", D(2026, 6, 1), 60_00), wh("WH", D(2026, 6, 2), 60_00)]
    assert open_of(compute_balance(docs, [], AS_OF)) == {"B": 80_00}


def test_several_credits_fill_items_in_order() -> None:
    # Credits are fungible in the answer (it does not say which credit paid which
    # item), so "oldest credit first" shows only as the oldest items filling first.
    docs = [inv("A", D(2026, 1, 31), 50_00), inv("B", D(2026, 2, 28), 50_00),
            inv("C", D(2026, 3, 31), 50_00), cn("CN", D(2026, 5, 1), 30_00)]
    pays = [pay("P2", D(2026, 6, 2), 40_00), pay("P1", D(2026, 6, 1), 40_00)]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"C": 40_00}


def test_debit_notes_are_items_too() -> None:
    docs = [dn("DN", D(2026, 1, 31), 10_00), inv("A", D(2026, 2, 28), 100_00)]
    pays = [pay("P", D(2026, 6, 1), 15_00)]
    bal = compute_balance(docs, pays, AS_OF)
    assert open_of(bal) == {"A": 95_00}
    assert usd(bal).total_open_cents == 95_00


# --- over-allocation -----------------------------------------------------------------------


def test_allocation_above_the_open_amount_spills_into_the_pool() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00), inv("B", D(2026, 2, 28), 100_00)]
    pays = [pay("P", D(2026, 6, 1), 150_00, ("B", 150_00))]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"A": 50_00}


def test_second_allocation_to_a_settled_item_spills() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00), inv("B", D(2026, 2, 28), 100_00)]
    pays = [pay("P1", D(2026, 6, 1), 100_00, ("B", 100_00)),
            pay("P2", D(2026, 6, 2), 40_00, ("B", 40_00))]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"A": 60_00}


def test_allocation_to_a_document_not_counted_yet_spills() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00), inv("LATER", D(2026, 8, 31), 100_00,
                                                    issue=D(2026, 7, 15))]
    pays = [pay("P", D(2026, 6, 1), 30_00, ("LATER", 30_00))]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"A": 70_00}


# --- 4. unapplied credit, totals -------------------------------------------------------------


def test_unapplied_credit_makes_total_open_negative() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00)]
    pays = [pay("P", D(2026, 6, 1), 150_00, ("A", 150_00))]
    bal = compute_balance(docs, pays, AS_OF, customer_currency="USD", credit_limit_cents=1000_00)
    b = usd(bal)
    assert bal.open_items == ()
    assert b.unapplied_credit_cents == 50_00
    assert b.total_open_cents == -50_00
    assert b.overdue_cents == 0
    assert b.buckets == dict.fromkeys(BUCKETS, 0)
    assert b.available_credit_cents == 1050_00


def test_payment_with_no_items_is_all_unapplied() -> None:
    bal = compute_balance([], [pay("P", D(2026, 6, 1), 25_00)], AS_OF)
    assert usd(bal).unapplied_credit_cents == 25_00
    assert usd(bal).total_open_cents == -25_00


def test_total_open_is_open_items_minus_unapplied() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00), inv("B", D(2026, 7, 31), 40_00, issue=AS_OF)]
    pays = [pay("P", D(2026, 6, 1), 30_00)]
    b = usd(compute_balance(docs, pays, AS_OF))
    assert b.total_open_cents == 110_00
    assert b.unapplied_credit_cents == 0


def test_settled_items_and_credits_are_not_listed() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00), inv("B", D(2026, 2, 28), 100_00),
            cn("CN", D(2026, 3, 1), 100_00, related="A")]
    bal = compute_balance(docs, [], AS_OF)
    assert [i.ref for i in bal.open_items] == ["B"]


def test_empty_ledger_has_no_balances() -> None:
    bal = compute_balance([], [], AS_OF)
    assert bal.balances == ()
    assert bal.open_items == ()


# --- as_of -----------------------------------------------------------------------------------


def test_documents_issued_after_as_of_are_not_counted() -> None:
    docs = [inv("A", D(2026, 7, 31), 100_00, issue=AS_OF),
            inv("LATER", D(2026, 8, 31), 100_00, issue=AS_OF + timedelta(days=1)),
            cn("CN", AS_OF + timedelta(days=1), 100_00, related="A")]
    bal = compute_balance(docs, [], AS_OF)
    assert open_of(bal) == {"A": 100_00}
    assert usd(bal).total_open_cents == 100_00


def test_payments_dated_after_as_of_are_not_counted() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00)]
    pays = [pay("ON", AS_OF, 10_00), pay("AFTER", AS_OF + timedelta(days=1), 50_00, ("A", 50_00))]
    assert open_of(compute_balance(docs, pays, AS_OF)) == {"A": 90_00}


def test_a_currency_seen_only_after_as_of_has_no_balance() -> None:
    docs = [inv("A", D(2026, 1, 31), 100_00),
            inv("E", D(2026, 8, 31), 100_00, issue=D(2026, 7, 1), cur="EUR")]
    bal = compute_balance(docs, [], AS_OF)
    assert [b.currency for b in bal.balances] == ["USD"]
    assert bal.for_currency("EUR") is None


# --- currencies never mix ----------------------------------------------------------------------


def test_payment_in_one_currency_never_reduces_another() -> None:
    docs = [inv("U", D(2026, 1, 31), 100_00), inv("E", D(2026, 1, 1), 100_00, cur="EUR")]
    pays = [pay("P", D(2026, 6, 1), 30_00, cur="EUR")]
    bal = compute_balance(docs, pays, AS_OF)
    assert open_of(bal) == {"U": 100_00, "E": 70_00}
    assert [b.currency for b in bal.balances] == ["EUR", "USD"]


def test_allocation_across_currencies_stays_unapplied_in_its_own() -> None:
    docs = [inv("U", D(2026, 1, 31), 100_00)]
    pays = [pay("P", D(2026, 6, 1), 30_00, ("U", 30_00), cur="EUR")]
    bal = compute_balance(docs, pays, AS_OF)
    assert open_of(bal) == {"U": 100_00}
    assert bal.for_currency("EUR").unapplied_credit_cents == 30_00
    assert bal.for_currency("EUR").total_open_cents == -30_00
    assert usd(bal).unapplied_credit_cents == 0


def test_credit_note_in_another_currency_does_not_touch_the_document() -> None:
    docs = [inv("U", D(2026, 1, 31), 100_00), cn("CN", D(2026, 6, 1), 40_00, "U", cur="EUR")]
    bal = compute_balance(docs, [], AS_OF)
    assert open_of(bal) == {"U": 100_00}
    assert bal.for_currency("EUR").unapplied_credit_cents == 40_00


# --- buckets and overdue ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-30, "current"), (-1, "current"), (0, "current"), (1, "1-30"), (30, "1-30"),
     (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"), (91, "90+"), (400, "90+")],
)
def test_bucket_boundaries(days: int, bucket: str) -> None:
    assert bucket_for(days) == bucket
    bal = compute_balance([inv("A", AS_OF - timedelta(days=days), 12_34)], [], AS_OF)
    assert bal.open_items[0].days_overdue == days
    assert usd(bal).buckets == dict.fromkeys(BUCKETS, 0) | {bucket: 12_34}


def test_buckets_sum_open_amounts_and_overdue_counts_only_days_past_due() -> None:
    docs = [inv("FUTURE", AS_OF + timedelta(days=10), 1_00), inv("TODAY", AS_OF, 2_00),
            inv("D1", AS_OF - timedelta(days=1), 4_00),
            inv("D45", AS_OF - timedelta(days=45), 8_00),
            inv("D75", AS_OF - timedelta(days=75), 16_00),
            inv("D100", AS_OF - timedelta(days=100), 32_00),
            inv("D120", AS_OF - timedelta(days=120), 64_00)]
    b = usd(compute_balance(docs, [], AS_OF))
    assert b.buckets == {"current": 3_00, "1-30": 4_00, "31-60": 8_00, "61-90": 16_00,
                         "90+": 96_00}
    assert b.overdue_cents == 124_00
    assert b.total_open_cents == 127_00


def test_open_items_are_listed_oldest_first_across_currencies() -> None:
    docs = [inv("B", D(2026, 3, 1), 1_00, cur="EUR"), inv("A", D(2026, 4, 1), 1_00),
            inv("C", D(2026, 2, 1), 1_00)]
    assert [i.ref for i in compute_balance(docs, [], AS_OF).open_items] == ["C", "B", "A"]


# --- credit limit ---------------------------------------------------------------------------


def test_available_credit_only_in_the_customers_currency() -> None:
    docs = [inv("U", D(2026, 1, 31), 300_00), inv("E", D(2026, 1, 31), 100_00, cur="EUR")]
    bal = compute_balance(docs, [], AS_OF, customer_currency="USD", credit_limit_cents=1000_00)
    assert usd(bal).credit_limit_cents == 1000_00
    assert usd(bal).available_credit_cents == 700_00
    eur = bal.for_currency("EUR")
    assert eur.credit_limit_cents is None
    assert eur.available_credit_cents is None


def test_available_credit_goes_negative_over_the_limit() -> None:
    bal = compute_balance([inv("U", D(2026, 1, 31), 300_00)], [], AS_OF,
                          customer_currency="USD", credit_limit_cents=100_00)
    assert usd(bal).available_credit_cents == -200_00


def test_no_limit_means_no_available_credit() -> None:
    bal = compute_balance([inv("U", D(2026, 1, 31), 300_00)], [], AS_OF, customer_currency="USD")
    assert usd(bal).credit_limit_cents is None
    assert usd(bal).available_credit_cents is None


def test_zero_limit_is_a_limit() -> None:
    bal = compute_balance([inv("U", D(2026, 1, 31), 300_00)], [], AS_OF,
                          customer_currency="USD", credit_limit_cents=0)
    assert usd(bal).available_credit_cents == -300_00


# --- properties -----------------------------------------------------------------------------

CURRENCIES = ("USD", "EUR")
START = D(2026, 1, 1)
days_st = st.integers(min_value=0, max_value=200).map(lambda n: START + timedelta(days=n))
cents_st = st.integers(min_value=1, max_value=100_000_00)


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[Doc], list[Pay], date]:
    n_items = draw(st.integers(0, 8))
    docs: list[Doc] = []
    for i in range(n_items):
        issue = draw(days_st)
        due = issue + timedelta(days=draw(st.integers(0, 90)))
        kind = draw(st.sampled_from((INVOICE, INVOICE, DEBIT_NOTE)))
        # Refs share dates and sort differently from creation order on purpose.
        docs.append(Doc(f"I{(i * 7) % 10}{i}", kind, issue, due, draw(cents_st),
                        draw(st.sampled_from(CURRENCIES))))
    items = list(docs)
    for i in range(draw(st.integers(0, 4))):
        cur = draw(st.sampled_from(CURRENCIES))
        same = [d.ref for d in items if d.currency == cur]
        related = draw(st.none() | st.sampled_from(same)) if same else None
        docs.append(Doc(f"C{i}", draw(st.sampled_from((CREDIT_NOTE, WITHHOLDING))),
                        draw(days_st), None, draw(cents_st), cur, related))
    pays: list[Pay] = []
    for i in range(draw(st.integers(0, 5))):
        amount = draw(cents_st)
        targets = draw(st.lists(st.sampled_from([d.ref for d in items] + ["GHOST"]),
                                max_size=3, unique=True)) if items else []
        allocs, left = [], amount
        for ref in targets:
            part = draw(st.integers(1, max(1, amount)))
            if part > left:
                break
            allocs.append((ref, part))
            left -= part
        pays.append(Pay(f"P{i}", draw(days_st), amount, draw(st.sampled_from(CURRENCIES)),
                        tuple(allocs)))
    as_of = draw(days_st)
    return docs, pays, as_of


@settings(max_examples=300, deadline=None)
@given(ledger=ledgers(), data=st.data())
def test_input_order_never_changes_the_answer(ledger, data) -> None:
    docs, pays, as_of = ledger
    shuffled_docs = data.draw(st.permutations(docs))
    shuffled_pays = data.draw(st.permutations(pays))
    kwargs = {"customer_currency": "USD", "credit_limit_cents": 5000_00}
    assert compute_balance(shuffled_docs, shuffled_pays, as_of, **kwargs) == compute_balance(
        docs, pays, as_of, **kwargs
    )


@settings(max_examples=300, deadline=None)
@given(ledger=ledgers())
def test_money_is_conserved_per_currency(ledger) -> None:
    docs, pays, as_of = ledger
    bal = compute_balance(docs, pays, as_of)
    for b in bal.balances:
        cur = b.currency
        counted = [d for d in docs if d.currency == cur and d.issue_date <= as_of]
        owed = sum(d.amount_cents for d in counted if d.type in (INVOICE, DEBIT_NOTE))
        credits = sum(d.amount_cents for d in counted if d.type in (CREDIT_NOTE, WITHHOLDING))
        paid = sum(p.amount_cents for p in pays if p.currency == cur and p.date <= as_of)
        open_sum = sum(i.open_cents for i in bal.open_items if i.currency == cur)
        assert open_sum - b.unapplied_credit_cents == owed - credits - paid
        assert b.total_open_cents == owed - credits - paid
        assert sum(b.buckets.values()) == open_sum
        assert b.overdue_cents == sum(
            i.open_cents for i in bal.open_items if i.currency == cur and i.days_overdue > 0
        )
        # Credit stays unapplied only when nothing in its currency is left open.
        assert b.unapplied_credit_cents >= 0
        assert b.unapplied_credit_cents == 0 or open_sum == 0


@settings(max_examples=300, deadline=None)
@given(ledger=ledgers())
def test_each_open_amount_is_between_zero_and_the_item_amount(ledger) -> None:
    docs, pays, as_of = ledger
    by_ref = {d.ref: d for d in docs}
    for item in compute_balance(docs, pays, as_of).open_items:
        doc = by_ref[item.ref]
        assert doc.type in (INVOICE, DEBIT_NOTE)
        assert doc.issue_date <= as_of
        assert 0 < item.open_cents <= doc.amount_cents == item.amount_cents
        assert item.days_overdue == (as_of - doc.due_date).days


# --- money --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [("0.005", 1), ("0.015", 2), ("2.675", 268), ("2.665", 267), ("1.005", 101),
     ("0.01", 1), ("12", 1200), ("12.5", 1250), (" 1234.56 ", 123456), ("0.994", 99),
     ("0.995", 100), ("99999999999.995", 10**13)],
)
def test_parse_csv_amount_rounds_half_up_to_cents(text: str, cents: int) -> None:
    assert parse_csv_amount(text) == cents


@pytest.mark.parametrize("text", ["-1", "-0.01", "12,50", "1e3", "1.2.3", "abc", "", "  ",
                                  "$5", "1 000"])
def test_parse_csv_amount_refuses_what_is_not_a_plain_positive_amount(text: str) -> None:
    with pytest.raises(AmountError):
        parse_csv_amount(text)


def test_parse_csv_amount_zero_only_when_allowed() -> None:
    with pytest.raises(AmountError):
        parse_csv_amount("0.004")
    assert parse_csv_amount("0.004", allow_zero=True) == 0
    assert parse_csv_amount("0", allow_zero=True) == 0


plain_decimals = st.builds(
    lambda digits, places: Decimal(digits).scaleb(-places),
    st.integers(min_value=0, max_value=10**15),
    st.integers(min_value=0, max_value=6),
)


@settings(max_examples=500, deadline=None)
@given(plain_decimals)
def test_parse_csv_amount_matches_decimal_half_up(value: Decimal) -> None:
    text = format(value, "f")
    expected = int(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    assert parse_csv_amount(text, allow_zero=True) == expected


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0.00"), (5, "0.05"), (123450, "1234.50"), (-10000, "-100.00"), (-1, "-0.01")],
)
def test_cents_str_has_two_decimals(cents: int, text: str) -> None:
    assert cents_str(cents) == text


def test_percent_of_rounds_half_up() -> None:
    assert percent_of(10_00, Decimal("2")) == 20
    assert percent_of(1_25, Decimal("2")) == 3  # 2.5 cents -> 3
    assert percent_of(1_24, Decimal("2")) == 2  # 2.48 cents -> 2
