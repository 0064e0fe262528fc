"""The statement traces the balance rules: same open amounts as the balance engine, every reduction named."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings

from bot.domain.balances import compute_balance
from bot.domain.ledger import CREDIT_NOTE, DEBIT_NOTE, INVOICE, WITHHOLDING, Doc, Pay
from bot.domain.statement import PAYMENT, Touch, build_statement
from tests.domain.test_balances import ledgers

D = date


@settings(max_examples=250, deadline=None)
@given(ledger=ledgers())
def test_open_amounts_and_totals_are_the_balance_engines(ledger) -> None:  # noqa: ANN001
    docs, pays, as_of = ledger
    statement = build_statement(docs, pays, as_of)
    balance = compute_balance(docs, pays, as_of)
    assert [(line.ref, line.open_cents) for line in statement.lines] == [
        (i.ref, i.open_cents) for i in balance.open_items
    ]
    for total in statement.totals:
        b = balance.for_currency(total.currency)
        assert b is not None
        assert (total.balance_cents, total.unapplied_credit_cents) == (b.total_open_cents, b.unapplied_credit_cents)
    for line in statement.lines:  # what is left is the amount less every reduction listed
        assert line.open_cents == line.amount_cents - sum(t.cents for t in line.touches)
        assert all(t.cents > 0 for t in line.touches)


def test_each_reduction_is_named_in_the_order_the_rules_apply_it() -> None:
    docs = [
        Doc("INV-1", INVOICE, D(2026, 1, 1), D(2026, 1, 31), 1000_00, "USD"),
        Doc("INV-2", INVOICE, D(2026, 2, 1), D(2026, 3, 3), 500_00, "USD"),
        Doc("DN-1", DEBIT_NOTE, D(2026, 2, 5), D(2026, 3, 7), 40_00, "USD", "INV-1"),
        Doc("WH-1", WITHHOLDING, D(2026, 2, 10), None, 30_00, "USD", "INV-2"),
        Doc("CN-9", CREDIT_NOTE, D(2026, 2, 12), None, 150_00, "USD"),  # unrelated: oldest items first
    ]
    pays = [Pay("P-1", D(2026, 2, 20), 300_00, "USD", (("INV-2", 100_00),))]
    lines = {line.ref: line for line in build_statement(docs, pays, D(2026, 3, 1)).lines}
    assert lines["INV-1"].touches == (
        Touch("CN-9", CREDIT_NOTE, D(2026, 2, 12), 150_00),
        Touch("P-1", PAYMENT, D(2026, 2, 20), 200_00),
    )
    assert lines["INV-1"].open_cents == 650_00 and lines["INV-1"].debit_notes == ("DN-1",)
    assert lines["INV-2"].touches == (Touch("WH-1", WITHHOLDING, D(2026, 2, 10), 30_00),
                                      Touch("P-1", PAYMENT, D(2026, 2, 20), 100_00))
    assert lines["DN-1"].related_ref == "INV-1" and lines["DN-1"].open_cents == 40_00
