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
