"""Plain ledger records as the balance engine sees them (no ORM, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
DEBIT_NOTE = "debit_note"
WITHHOLDING = "withholding"
DOCUMENT_TYPES = (INVOICE, CREDIT_NOTE, DEBIT_NOTE, WITHHOLDING)
ITEM_TYPES = frozenset({INVOICE, DEBIT_NOTE})  # what a customer owes
CREDIT_TYPES = frozenset({CREDIT_NOTE, WITHHOLDING})  # what reduces it


@dataclass(frozen=True, slots=True)
class Doc:
    ref: str
    type: str
    issue_date: date
    due_date: date | None  # None only for credit notes and withholdings
    amount_cents: int
    currency: str
    related_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Pay:
    ref: str
    date: date
    amount_cents: int
    currency: str
    allocations: tuple[tuple[str, int], ...] = ()  # (doc ref, cents), as written in applies_to
