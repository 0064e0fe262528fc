"""Plain ledger records as the balance engine sees them (no ORM, no I/O)."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
DEBIT_NOTE = "debit_note"
WITHHOLDING = "withholding"
DOCUMENT_TYPES = (INVOICE, CREDIT_NOTE, DEBIT_NOTE, WITHHOLDING)
ITEM_TYPES = frozenset({INVOICE, DEBIT_NOTE})  # what a customer owes
CREDIT_TYPES = frozenset({CREDIT_NOTE, WITHHOLDING})  # what reduces it


class Doc(NamedTuple):  # a named tuple: the sweep builds tens of thousands per run
    ref: str
    type: str
    issue_date: date
    due_date: date | None  # None only for credit notes and withholdings
    amount_cents: int
    currency: str
    related_ref: str | None = None


class Pay(NamedTuple):
    ref: str
    date: date
    amount_cents: int
    currency: str
    allocations: tuple[tuple[str, int], ...] = ()  # (doc ref, cents), as written in applies_to


class Opening(NamedTuple):
    """The settled history of a ledger in one currency, summed instead of listed: what a balance at
    `since` or later needs of it (bot.domain.balances.compute_balance's `opening`).

    `credit_cents`: the credit notes, withholdings and payments left out of the lists, each dated
    `since` or before. `settled_cents`: the amounts of the items (invoices, debit notes) left out,
    each settled (no open amount) on every day from `since` on. Exact when every credit note,
    withholding and payment allocation naming a listed item is listed too, and each listed payment
    that names a listed item allocates no more than its amount.
    """

    currency: str
    since: date
    credit_cents: int
    settled_cents: int
