"""The debtor's statement: each open item with everything that touched it, so the debtor can reconcile.

It traces the balance rules of DESIGN "Balance rules" (bot.domain.balances) step by step and
remembers, for every open item, which credit note, withholding or payment reduced it, by how
much and in which step; debit notes that name an item are listed beside it (they are items of
their own: they add to what is owed, they do not change the item). Its open amounts are the
balance engine's (tests/domain/test_statement.py checks that as a property), so the statement
never disagrees with `collectbot balance`. Amounts are int cents; pure: plain data in and out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.domain.ledger import CREDIT_TYPES, DEBIT_NOTE, ITEM_TYPES, Doc, Pay

PAYMENT = "payment"


@dataclass(frozen=True)
class Touch:
    """One reduction of an item: `source_type` is credit_note, withholding or payment."""

    source_ref: str
    source_type: str
    day: date
    cents: int


@dataclass(frozen=True)
class StatementLine:
    """An open item (invoice or debit note) as issued, what reduced it, and what is left."""

    ref: str
    type: str
    issue_date: date
    due_date: date
    currency: str
    amount_cents: int
    touches: tuple[Touch, ...]
    open_cents: int
    debit_notes: tuple[str, ...] = ()  # refs of debit notes that name this item
    related_ref: str | None = None  # a debit note's related item


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    open_items_cents: int
    unapplied_credit_cents: int

    @property
    def balance_cents(self) -> int:
        """total_open of the balance engine: open items less unapplied credit (negative: in credit)."""
        return self.open_items_cents - self.unapplied_credit_cents


@dataclass(frozen=True)
class Statement:
    as_of: date
    lines: tuple[StatementLine, ...]  # oldest first: due date, issue date, ref (as the balance lists them)
    totals: tuple[CurrencyTotal, ...]  # by currency code


def _item_key(doc: Doc) -> tuple:
    return (doc.due_date, doc.issue_date, doc.ref)


def build_statement(docs: Iterable[Doc], payments: Iterable[Pay], as_of: date) -> Statement:
    """The statement of one customer's ledger at `as_of` (documents issued and payments dated by then).

    Applies the four balance rules in their order, per currency, recording each reduction.
    """
    counted_docs = [d for d in docs if d.issue_date <= as_of]
    counted_pays = [p for p in payments if p.date <= as_of]
    lines: list[StatementLine] = []
    totals: list[CurrencyTotal] = []
    for currency in sorted({d.currency for d in counted_docs} | {p.currency for p in counted_pays}):
        cur_docs = [d for d in counted_docs if d.currency == currency]
        cur_pays = [p for p in counted_pays if p.currency == currency]
        open_map, touches, unapplied = _trace(cur_docs, cur_pays)
        debits: dict[str, list[str]] = {}
        for d in sorted(cur_docs, key=lambda d: (d.issue_date, d.ref)):
            if d.type == DEBIT_NOTE and d.related_ref:
                debits.setdefault(d.related_ref, []).append(d.ref)
        cur_lines = [
            StatementLine(
                ref=d.ref,
                type=d.type,
                issue_date=d.issue_date,
                due_date=d.due_date,  # type: ignore[arg-type]
                currency=currency,
                amount_cents=d.amount_cents,
                touches=tuple(touches.get(d.ref, ())),
                open_cents=open_map[d.ref],
                debit_notes=tuple(debits.get(d.ref, ())),
                related_ref=d.related_ref if d.type == DEBIT_NOTE else None,
            )
            for d in sorted((d for d in cur_docs if d.type in ITEM_TYPES), key=_item_key)
            if open_map[d.ref] > 0
        ]
        lines.extend(cur_lines)
        totals.append(CurrencyTotal(currency, sum(line.open_cents for line in cur_lines), unapplied))
    lines.sort(key=lambda line: (line.due_date, line.issue_date, line.ref))
    return Statement(as_of=as_of, lines=tuple(lines), totals=tuple(totals))


def _trace(docs: list[Doc], pays: list[Pay]) -> tuple[dict[str, int], dict[str, list[Touch]], int]:
    """The balance rules 1-4 for one currency, remembering every reduction of every item."""
    items = {d.ref: d for d in docs if d.type in ITEM_TYPES}
    open_map = {ref: d.amount_cents for ref, d in items.items()}
    touches: dict[str, list[Touch]] = {}
    pool: list[list] = []  # [day, ref, type, cents left]

    def reduce(ref: str, source: str, kind: str, day: date, cents: int) -> int:
        used = min(cents, open_map[ref])
        if used:
            open_map[ref] -= used
            touches.setdefault(ref, []).append(Touch(source, kind, day, used))
        return used

    # 1. Credit notes and withholdings that name a related document reduce it.
    for credit in sorted((d for d in docs if d.type in CREDIT_TYPES), key=lambda d: (d.issue_date, d.ref)):
        left = credit.amount_cents
        if credit.related_ref in open_map:
            left -= reduce(credit.related_ref, credit.ref, credit.type, credit.issue_date, left)
        if left:
            pool.append([credit.issue_date, credit.ref, credit.type, left])

    # 2. Payments' explicit applies_to amounts reduce the named documents.
    for pay in sorted(pays, key=lambda p: (p.date, p.ref)):
        left = pay.amount_cents
        for ref, cents in pay.allocations:
            cents = min(cents, left)
            if ref in open_map:
                left -= reduce(ref, pay.ref, PAYMENT, pay.date, cents)
        if left:
            pool.append([pay.date, pay.ref, PAYMENT, left])

    # 3. The rest, oldest credit first, to the oldest open items.
    pool.sort(key=lambda c: (c[0], c[1]))
    queue = [d.ref for d in sorted(items.values(), key=_item_key)]
    pos = 0
    for credit in pool:
        while credit[3] and pos < len(queue):
            ref = queue[pos]
            credit[3] -= reduce(ref, credit[1], credit[2], credit[0], credit[3])
            if open_map[ref] == 0:
                pos += 1

    # 4. What still remains is unapplied credit.
    return open_map, touches, sum(c[3] for c in pool)
