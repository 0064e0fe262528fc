"""The scorecard and prospects rules (bot.domain.scorecard, bot.domain.prospects)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.balances import compute_balance
from bot.domain.ledger import INVOICE, Doc, Pay
from bot.domain.months import Month
from bot.domain.prospects import prospect
from bot.domain.scorecard import build_scorecard

NOV = Month(2026, 11)
AS_OF = date(2026, 11, 23)


def test_every_rep_is_listed_in_every_currency_with_zeros_and_unassigned_last() -> None:
    card = build_scorecard(
        NOV,
        reps=["U2", "U1", None, "U3"],
        currencies=["USD", "EUR"],
        invoiced=[("U1", "USD", 1000), ("U1", "USD", 500), (None, "EUR", 70)],
        collected=[("U2", "USD", 300), ("U9", "BRL", 5)],  # a rep and a currency only in the facts
    )
    assert [c.currency for c in card.currencies] == ["BRL", "EUR", "USD"]
    usd = card.currencies[2]
    assert [(r.rep, r.invoiced_cents, r.collected_cents) for r in usd.rows] == [
        ("U1", 1500, 0), ("U2", 0, 300), ("U3", 0, 0), ("U9", 0, 0), (None, 0, 0),
    ]
    assert (usd.invoiced_cents, usd.collected_cents) == (1500, 300)
    assert [r.rep for r in card.currencies[0].rows] == ["U1", "U2", "U3", "U9", None]


def test_a_blank_rep_is_unassigned() -> None:
    card = build_scorecard(NOV, reps=[""], currencies=["USD"], invoiced=[("", "USD", 5)], collected=[])
    assert [(r.rep, r.invoiced_cents) for r in card.currencies[0].rows] == [(None, 5)]


facts = st.lists(
    st.tuples(st.sampled_from(["U1", "U2", "U3", None, ""]), st.sampled_from(["USD", "EUR", "IRR"]),
              st.integers(0, 10**12)),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(reps=st.lists(st.sampled_from(["U1", "U2", "U4", None])), invoiced=facts, collected=facts)
def test_scorecard_rows_add_up_to_the_ledgers_totals(reps: list, invoiced: list, collected: list) -> None:
    card = build_scorecard(NOV, reps=reps, currencies=["USD"], invoiced=invoiced, collected=collected)
    seen_reps = {r or None for r in reps} | {r or None for r, _, _ in invoiced + collected}
    for table in card.currencies:
        assert {r.rep for r in table.rows} == seen_reps and len(table.rows) == len(seen_reps)
        assert table.invoiced_cents == sum(c for _, cur, c in invoiced if cur == table.currency)
        assert table.collected_cents == sum(c for _, cur, c in collected if cur == table.currency)
        assert table.invoiced_cents == sum(r.invoiced_cents for r in table.rows)
    assert {c.currency for c in card.currencies} == {"USD"} | {cur for _, cur, _ in invoiced + collected}


def inv(ref: str, due: date, cents: int, cur: str = "USD") -> Doc:
    return Doc(ref, INVOICE, due - timedelta(days=30), due, cents, cur)


def test_a_prospect_has_nothing_overdue_and_credit_to_spare() -> None:
    docs = [inv("I1", AS_OF + timedelta(days=10), 40_000)]
    bal = compute_balance(docs, [], AS_OF, customer_currency="USD", credit_limit_cents=100_000)
    found = prospect(bal, currency="USD", credit_limit_cents=100_000, credit_hold=False)
    assert found is not None and (found.total_open_cents, found.available_credit_cents) == (40_000, 60_000)


def test_not_a_prospect_when_overdue_anywhere_on_hold_without_limit_or_without_headroom() -> None:
    usd_ok = inv("I1", AS_OF + timedelta(days=10), 40_000)
    eur_late = inv("E1", AS_OF - timedelta(days=1), 100, cur="EUR")

    def check(docs: list[Doc], limit: int | None, hold: bool = False, pays: tuple[Pay, ...] = ()) -> object:
        bal = compute_balance(docs, pays, AS_OF, customer_currency="USD", credit_limit_cents=limit)
        return prospect(bal, currency="USD", credit_limit_cents=limit, credit_hold=hold)

    assert check([usd_ok, eur_late], 100_000) is None  # overdue in another currency
    assert check([usd_ok], 100_000, hold=True) is None
    assert check([usd_ok], None) is None
    assert check([usd_ok], 40_000) is None  # exactly at the limit
    # no ledger at all: the whole limit is available; a credit balance adds to it
    assert check([], 5_000).available_credit_cents == 5_000  # type: ignore[union-attr]
    credit = (Pay("P1", AS_OF, 700, "USD"),)
    assert check([], 5_000, pays=credit).available_credit_cents == 5_700  # type: ignore[union-attr]
