"""settled_days against the balance engine: an item it calls settled from S is open on no day from S on.

And it misses nothing it could know: an item the engine shows settled once every document
and payment counts, with every payment allocating no more than itself, gets a day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.domain.balances import compute_balance
from bot.domain.ledger import Doc, Opening, Pay
from bot.domain.settlement import settled_days

START = date(2026, 1, 1)
CURRENCIES = ("USD", "EUR")


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[Doc], list[Pay]]:
    """One customer's ledger: items, credits naming them (or not), payments allocating to them (or not)."""
    day = st.integers(0, 60).map(lambda n: START + timedelta(days=n))
    cents = st.sampled_from([1, 99, 100, 101, 250, 500, 999, 1000, 1001, 1234, 5000]) | st.integers(1, 3000)
    items = []
    for n in range(draw(st.integers(1, 6))):
        issue = draw(day)
        due = issue + timedelta(days=draw(st.integers(0, 40)))
        items.append(
            Doc(
                f"INV-{n}",
                draw(st.sampled_from(["invoice", "debit_note"])),
                issue,
                due,
                draw(cents),
                draw(st.sampled_from(CURRENCIES)),
            )
        )
    refs = [d.ref for d in items] + ["ELSEWHERE"]
    docs = list(items)
    for n in range(draw(st.integers(0, 3))):
        related = draw(st.none() | st.sampled_from(refs))
        docs.append(
            Doc(
                f"CN-{n}",
                draw(st.sampled_from(["credit_note", "withholding"])),
                draw(day),
                None,
                draw(cents),
                draw(st.sampled_from(CURRENCIES)),
                related,
            )
        )
    pays = []
    for n in range(draw(st.integers(0, 5))):
        amount = draw(cents)
        parts = draw(st.lists(st.tuples(st.sampled_from(refs), cents), max_size=2, unique_by=lambda p: p[0]))
        if draw(st.booleans()):  # as the importer takes them: no more allocated than paid
            parts = [(ref, min(c, amount // max(len(parts), 1))) for ref, c in parts]
            parts = [(ref, c) for ref, c in parts if c]
        pays.append(Pay(f"PAY-{n}", draw(day), amount, draw(st.sampled_from(CURRENCIES)), tuple(parts)))
    return docs, pays


def days_of(docs: list[Doc], pays: list[Pay]) -> dict[str, date | None]:
    """settled_days over the rows storage would read for this customer (customer id 7)."""
    ids = {d.ref: n for n, d in enumerate(docs)}
    items = [(7, ids[d.ref], d.currency, d.ref, d.amount_cents, d.issue_date, d.due_date) for d in docs if d.due_date]
    credits = [(7, d.currency, d.related_ref, d.amount_cents, d.issue_date) for d in docs if not d.due_date]
    paid = [(7, p.currency, p.amount_cents, p.date, sum(c for _, c in p.allocations) <= p.amount_cents) for p in pays]
    parts = [(7, p.currency, ref, c, p.date) for p in pays for ref, c in p.allocations]
    days = settled_days(items, credits, paid, parts)
    return {row[3]: days.get(row[1]) for row in items}


def opening_split(docs: list[Doc], pays: list[Pay], since: date) -> tuple[list[Doc], list[Pay], list[Opening]]:
    """What the sweep reads (storage.ledger_reads.open_ledgers): the items settled by `since` (settled_days)
    summed, every credit listed, a payment listed if dated after `since` or naming a listed item."""
    found = days_of(docs, pays)
    gone = {ref for ref, day in found.items() if day is not None and day <= since}
    listed = [d for d in docs if d.ref not in gone]
    named = {d.ref for d in listed if d.due_date}
    kept = [p for p in pays if p.date > since or any(ref in named for ref, _ in p.allocations)]
    sums: dict[str, list[int]] = {}
    for d in docs:
        if d.ref in gone:
            sums.setdefault(d.currency, [0, 0])[1] += d.amount_cents
    for p in pays:
        if p not in kept:
            sums.setdefault(p.currency, [0, 0])[0] += p.amount_cents
    return listed, kept, [Opening(cur, since, credit, settled) for cur, (credit, settled) in sums.items()]


@settings(max_examples=400, deadline=None)
@given(ledgers(), st.integers(0, 70))
def test_the_settled_history_summed_gives_the_same_balance_on_every_later_day(
    ledger: tuple[list[Doc], list[Pay]], cut: int
) -> None:
    docs, pays = ledger
    since = START + timedelta(days=cut)
    listed, kept, opening = opening_split(docs, pays, since)
    named = {d.ref for d in listed if d.due_date}
    assume(all(sum(c for _, c in p.allocations) <= p.amount_cents  # the importer takes no other
               for p in kept if any(ref in named for ref, _ in p.allocations)))
    for on in [since + timedelta(days=n) for n in (0, 1, 2, 5, 20, 45, 90)]:
        assert compute_balance(listed, kept, on, opening=opening) == compute_balance(docs, pays, on), on
    if opening:
        with pytest.raises(ValueError, match="says nothing"):
            compute_balance(listed, kept, since - timedelta(days=1), opening=opening)


def open_refs(docs: list[Doc], pays: list[Pay], on: date) -> set[str]:
    return {i.ref for i in compute_balance(docs, pays, on).open_items}


@settings(max_examples=400, deadline=None)
@given(ledgers())
def test_an_item_called_settled_is_open_on_no_later_day(ledger: tuple[list[Doc], list[Pay]]) -> None:
    docs, pays = ledger
    found = days_of(docs, pays)
    assert set(found) == {d.ref for d in docs if d.due_date}
    every_day = sorted({d.issue_date for d in docs} | {p.date for p in pays})
    for ref, settled in found.items():
        if settled is None:
            continue
        for on in [settled, *(d for d in every_day if d > settled), every_day[-1] + timedelta(days=400)]:
            assert ref not in open_refs(docs, pays, on), (ref, settled, on)


@settings(max_examples=400, deadline=None)
@given(ledgers())
def test_an_item_settled_once_everything_counts_gets_a_day(ledger: tuple[list[Doc], list[Pay]]) -> None:
    docs, pays = ledger
    exact = {p.currency for p in pays if sum(c for _, c in p.allocations) > p.amount_cents}
    end = max([d.issue_date for d in docs] + [p.date for p in pays])
    still_open = open_refs(docs, pays, end)
    found = days_of(docs, pays)
    for d in docs:
        if d.due_date and d.ref not in still_open and d.currency not in exact:
            assert found[d.ref] is not None, d.ref


def test_the_day_is_when_the_last_credit_arrives_or_the_item_is_issued() -> None:
    inv = Doc("INV-1", "invoice", date(2026, 3, 1), date(2026, 3, 31), 1000, "USD")
    other = Doc("INV-2", "invoice", date(2026, 1, 1), date(2026, 1, 31), 1000, "USD")
    early = Pay("P1", date(2026, 2, 1), 1000, "USD", (("INV-1", 1000),))  # paid before it was issued
    late = Pay("P2", date(2026, 5, 1), 1000, "USD")  # pays the oldest: INV-2
    found = days_of([inv, other], [early, late])
    assert found == {"INV-1": date(2026, 3, 1), "INV-2": date(2026, 5, 1)}
    assert open_refs([inv, other], [early, late], date(2026, 4, 30)) == {"INV-2"}  # open until the payment's day


def test_a_payment_allocating_more_than_itself_leaves_its_currency_armed() -> None:
    inv = Doc("INV-1", "invoice", date(2026, 1, 1), date(2026, 1, 31), 1000, "USD")
    euro = Doc("INV-E", "invoice", date(2026, 1, 1), date(2026, 1, 31), 1000, "EUR")
    pays = [
        Pay("P1", date(2026, 2, 1), 1000, "USD", (("INV-X", 600), ("INV-1", 600))),
        Pay("P2", date(2026, 2, 1), 1000, "EUR", (("INV-E", 1000),)),
    ]
    assert days_of([inv, euro], pays) == {"INV-1": None, "INV-E": date(2026, 2, 1)}


def test_a_cent_short_leaves_an_item_open_and_armed() -> None:
    older = Doc("INV-1", "invoice", date(2026, 1, 1), date(2026, 1, 31), 1000, "USD")
    newer = Doc("INV-2", "invoice", date(2026, 1, 2), date(2026, 2, 1), 1000, "USD")
    for paid, expected in ((1999, {"INV-1": date(2026, 3, 1), "INV-2": None}),
                           (2000, {"INV-1": date(2026, 3, 1), "INV-2": date(2026, 3, 1)})):
        pays = [Pay("P1", date(2026, 3, 1), paid, "USD")]
        assert days_of([older, newer], pays) == expected
        assert ("INV-2" in open_refs([older, newer], pays, date(2026, 3, 1))) == (expected["INV-2"] is None)
