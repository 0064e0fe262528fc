"""The balance engine: open items, unapplied credit and aging from the whole ledger.

Implements DESIGN.md "Balance rules" in their order. Everything is derived at
query time from the documents and payments counted at `as_of`, so the order in
which files were imported can never change an answer. Amounts are int cents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from bot.domain.ledger import CREDIT_TYPES, ITEM_TYPES, Doc, Opening, Pay

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def bucket_for(days_overdue: int) -> str:
    """The aging bucket of an item `days_overdue` days past due (DESIGN "Interfaces", aging):
    "current" (0 or less), "1-30", "31-60", "61-90" or "90+".
    """
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"


class OpenItem(NamedTuple):  # a named tuple: the sweep builds one per open item of every candidate
    ref: str
    type: str
    issue_date: date
    due_date: date
    currency: str
    amount_cents: int
    open_cents: int
    days_overdue: int


@dataclass(frozen=True)
class CurrencyBalance:
    currency: str
    total_open_cents: int
    overdue_cents: int
    unapplied_credit_cents: int
    buckets: dict[str, int]
    credit_limit_cents: int | None
    available_credit_cents: int | None


@dataclass(frozen=True)
class Balance:
    as_of: date
    balances: tuple[CurrencyBalance, ...]
    open_items: tuple[OpenItem, ...]  # oldest first: due date, issue date, ref
    _by_currency: dict[str, CurrencyBalance] = field(default_factory=dict, repr=False)

    def for_currency(self, currency: str) -> CurrencyBalance | None:
        """This currency's balance, or None when the customer has nothing in it."""
        return self._by_currency.get(currency)


@dataclass(slots=True)
class _Credit:
    """A source of credit waiting for the oldest-first pass (step 3)."""

    date: date
    ref: str
    cents: int
    type: str = "payment"


class Application(NamedTuple):
    """Part of a credit (payment, credit note, withholding) that reduced one open item."""

    item_ref: str
    source_ref: str
    source_type: str  # "payment", "credit_note" or "withholding"
    source_date: date  # the payment's date, or the credit note's or withholding's issue date
    currency: str
    cents: int


def applications(docs: Iterable[Doc], payments: Iterable[Pay], as_of: date) -> list[Application]:
    """Which credit reduced which item, exactly as `compute_balance` applies them at `as_of`.

    The same rules in the same order (DESIGN "Balance rules" steps 1-3), so a report that
    asks when an item was paid agrees with every balance: the item's open amount at
    `as_of` is its amount less the cents of its applications. Unapplied credit has none.
    """
    counted_docs = [d for d in docs if d.issue_date <= as_of]
    counted_pays = [p for p in payments if p.date <= as_of]
    out: list[Application] = []
    for currency in sorted({d.currency for d in counted_docs} | {p.currency for p in counted_pays}):
        _apply(
            [d for d in counted_docs if d.currency == currency],
            [p for p in counted_pays if p.currency == currency],
            lambda item, credit, cents, cur=currency: out.append(
                Application(item, credit.ref, credit.type, credit.date, cur, cents)
            ),
        )
    return out


def _item_sort_key(doc: Doc) -> tuple:
    return (doc.due_date, doc.issue_date, doc.ref)


def compute_balance(
    docs: Iterable[Doc],
    payments: Iterable[Pay],
    as_of: date,
    *,
    customer_currency: str | None = None,
    credit_limit_cents: int | None = None,
    opening: Iterable[Opening] = (),
) -> Balance:
    """Apply the balance rules to one customer's ledger at `as_of`.

    `opening`: the settled history summed per currency instead of listed in `docs` and `payments`
    (bot.domain.ledger.Opening says when that is exact); the answer is the same as from the whole
    ledger. Raises ValueError for an `as_of` before an opening's `since`.
    """
    counted_docs = [d for d in docs if d.issue_date <= as_of]
    counted_pays = [p for p in payments if p.date <= as_of]
    currencies = {d.currency for d in counted_docs} | {p.currency for p in counted_pays}
    adjust: dict[str, int] = {}
    for o in opening:
        if as_of < o.since:
            raise ValueError(f"an opening position from {o.since} says nothing of a balance at {as_of}")
        adjust[o.currency] = adjust.get(o.currency, 0) + o.credit_cents - o.settled_cents
    currencies.update(adjust)

    results: list[CurrencyBalance] = []
    items: list[OpenItem] = []
    by_currency: dict[str, tuple[list[Doc], list[Pay]]] = {c: ([], []) for c in currencies}
    for d in counted_docs:
        by_currency[d.currency][0].append(d)
    for p in counted_pays:
        by_currency[p.currency][1].append(p)
    for currency in sorted(currencies):
        cur_docs, cur_pays = by_currency[currency]
        open_map, unapplied = _apply(cur_docs, cur_pays, adjust=adjust.get(currency, 0))
        cur_items = [
            OpenItem(
                ref=d.ref,
                type=d.type,
                issue_date=d.issue_date,
                due_date=d.due_date,  # type: ignore[arg-type]
                currency=currency,
                amount_cents=d.amount_cents,
                open_cents=open_map[d.ref],
                days_overdue=(as_of - d.due_date).days,  # type: ignore[operator]
            )
            for d in sorted((d for d in cur_docs if d.type in ITEM_TYPES), key=_item_sort_key)
            if open_map[d.ref] > 0
        ]
        items.extend(cur_items)
        buckets = dict.fromkeys(BUCKETS, 0)
        for item in cur_items:
            buckets[bucket_for(item.days_overdue)] += item.open_cents
        total = sum(i.open_cents for i in cur_items) - unapplied
        limit = credit_limit_cents if currency == customer_currency else None
        results.append(
            CurrencyBalance(
                currency=currency,
                total_open_cents=total,
                overdue_cents=sum(i.open_cents for i in cur_items if i.days_overdue > 0),
                unapplied_credit_cents=unapplied,
                buckets=buckets,
                credit_limit_cents=limit,
                available_credit_cents=None if limit is None else limit - total,
            )
        )
    items.sort(key=lambda i: (i.due_date, i.issue_date, i.ref))
    return Balance(
        as_of=as_of,
        balances=tuple(results),
        open_items=tuple(items),
        _by_currency={b.currency: b for b in results},
    )


def _apply(
    docs: list[Doc], pays: list[Pay], applied: Callable[[str, _Credit, int], None] | None = None, adjust: int = 0
) -> tuple[dict[str, int], int]:
    """Steps 1-4 for one currency: returns open cents per item ref, and unapplied credit.

    `applied(item ref, credit, cents)`, when given, hears every reduction (for `applications`).
    `adjust`: what an opening position adds to step 3's credit (its credit less its settled items'
    amounts: the credit those items took, whatever steps took it, and the rest for the others).
    """
    items = {d.ref: d for d in docs if d.type in ITEM_TYPES}
    open_map = {ref: d.amount_cents for ref, d in items.items()}
    pool: list[_Credit] = []

    # 1. Credit notes and withholdings that name a related document reduce it.
    for credit in sorted((d for d in docs if d.type in CREDIT_TYPES), key=lambda d: (d.issue_date, d.ref)):
        left = credit.amount_cents
        if credit.related_ref in open_map:
            used = min(left, open_map[credit.related_ref])
            open_map[credit.related_ref] -= used
            left -= used
            if applied is not None and used:
                applied(credit.related_ref, _Credit(credit.issue_date, credit.ref, used, credit.type), used)
        if left:
            pool.append(_Credit(credit.issue_date, credit.ref, left, credit.type))

    # 2. Payments' explicit applies_to amounts reduce the named documents.
    for pay in sorted(pays, key=lambda p: (p.date, p.ref)):
        left = pay.amount_cents
        for ref, cents in pay.allocations:
            cents = min(cents, left)
            if ref in open_map:
                used = min(cents, open_map[ref])
                open_map[ref] -= used
                left -= used
                if applied is not None and used:
                    applied(ref, _Credit(pay.date, pay.ref, used), used)
        if left:
            pool.append(_Credit(pay.date, pay.ref, left))

    # 3. The rest, oldest credit first, to the oldest open items.
    queue = [d.ref for d in sorted(items.values(), key=_item_sort_key)]
    if applied is None:  # only the open amounts: they depend on the total poured, not on which credit
        left = sum(c.cents for c in pool) + adjust
        for ref in queue:
            if left <= 0:
                break
            used = min(left, open_map[ref])
            open_map[ref] -= used
            left -= used
        return open_map, max(left, 0)
    if adjust:
        raise ValueError("an opening position cannot say which credit reduced which item")
    pool.sort(key=lambda c: (c.date, c.ref))
    pos = 0
    for credit in pool:
        while credit.cents and pos < len(queue):
            ref = queue[pos]
            used = min(credit.cents, open_map[ref])
            open_map[ref] -= used
            credit.cents -= used
            if applied is not None and used:
                applied(ref, credit, used)
            if open_map[ref] == 0:
                pos += 1

    # 4. What still remains is unapplied credit.
    return open_map, sum(c.cents for c in pool)


def nothing_overdue(balance: Balance) -> bool:
    """No open item with days overdue > 0 in any currency: the condition on which the sweep lifts a
    credit hold (DESIGN "Dunning policy")."""
    return all(b.overdue_cents <= 0 for b in balance.balances)
