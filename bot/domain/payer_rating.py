"""A payer rating from a customer's history: average days late, broken promises, and a grade A-E.

Definitions:

- **Days late of a paid cent**: the date of the payment (or withholding) that
  settled it minus the item's due date, never below 0 (paying early is on time).
  Which payment settled which item is the balance engine's answer at `as_of`
  (bot.domain.balances.applications: the same rules as every balance, so the
  rating never disagrees with the ledger). Credit notes are corrections, not
  payments: the cents they settle are not measured.
- **Days late of an open cent**: an item still open and overdue at `as_of`
  counts its open amount with its days overdue so far (a customer who never pays
  must not look punctual).
- **Measured**: paid cents of items due in the last `LOOKBACK_DAYS` (365) days,
  and every open overdue cent. Items not yet due and unpaid say nothing yet.
- **Average days late**: the amount-weighted mean of the measured cents' days
  late, in each currency separately (money of two currencies is never added);
  the rating uses the worst currency.
- **Broken commitments**: promises to pay and payment plans broken in the last
  365 days (counted by the caller from the Promise and PaymentPlan records).

Grades follow the bands of Dun & Bradstreet's PAYDEX score, which rates payment
habits by days beyond terms (80 prompt, 70 about 15 days beyond, 50 about 30,
40 about 60, 30 and below 90 and more):

| grade | average days late |
|---|---|
| A | up to 5 (prompt; a transfer takes a few days) |
| B | up to 15 |
| C | up to 30 |
| D | up to 60 |
| E | over 60 |

Each broken commitment lowers the grade one letter (never below E). A customer
with nothing measured and nothing broken is not rated (`grade` None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.balances import applications
from bot.domain.ledger import CREDIT_NOTE, ITEM_TYPES, Doc, Pay

GRADES = ("A", "B", "C", "D", "E")
GRADE_LIMITS = (5, 15, 30, 60)  # the most average days late for A, B, C, D
LOOKBACK_DAYS = 365
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class CurrencyLateness:
    currency: str
    average_days_late: Decimal  # one decimal
    paid_cents: int  # measured cents settled by payments and withholdings
    overdue_open_cents: int  # measured cents still open and overdue at as_of


@dataclass(frozen=True)
class PayerRating:
    grade: str | None  # "A" (best) to "E"; None: nothing to judge yet
    average_days_late: Decimal | None  # the worst currency's, one decimal
    broken_promises: int
    broken_plans: int
    currencies: tuple[CurrencyLateness, ...]


def grade_for(average_days_late: Decimal | None, broken_commitments: int = 0) -> str | None:
    """The grade for an average of days late (None: nothing measured) and broken commitments.

    Raises ValueError for a negative count or average.
    """
    if broken_commitments < 0 or (average_days_late is not None and average_days_late < 0):
        raise ValueError("days late and broken commitments cannot be negative")
    if average_days_late is None:
        if not broken_commitments:
            return None
        base = 0
    else:
        base = next((i for i, limit in enumerate(GRADE_LIMITS) if average_days_late <= limit), len(GRADE_LIMITS))
    return GRADES[min(base + broken_commitments, len(GRADES) - 1)]


def lateness(docs: Iterable[Doc], payments: Iterable[Pay], as_of: date) -> tuple[CurrencyLateness, ...]:
    """Amount-weighted days late per currency (see the module's definitions), currencies sorted."""
    docs = list(docs)
    items = {d.ref: d for d in docs if d.type in ITEM_TYPES and d.issue_date <= as_of}
    since = as_of - timedelta(days=LOOKBACK_DAYS)
    weighted: dict[str, list[int]] = {}  # currency -> [cent-days, paid cents, overdue open cents]
    settled: dict[str, int] = {}
    for a in applications(docs, payments, as_of):
        settled[a.item_ref] = settled.get(a.item_ref, 0) + a.cents
        item = items[a.item_ref]
        if a.source_type == CREDIT_NOTE or item.due_date <= since:  # type: ignore[operator]
            continue
        acc = weighted.setdefault(a.currency, [0, 0, 0])
        acc[0] += a.cents * max(0, (a.source_date - item.due_date).days)  # type: ignore[operator]
        acc[1] += a.cents
    for ref, item in items.items():
        open_cents = item.amount_cents - settled.get(ref, 0)
        overdue = (as_of - item.due_date).days  # type: ignore[operator]
        if open_cents > 0 and overdue > 0:
            acc = weighted.setdefault(item.currency, [0, 0, 0])
            acc[0] += open_cents * overdue
            acc[2] += open_cents
    return tuple(
        CurrencyLateness(
            currency=cur,
            average_days_late=(Decimal(cent_days) / Decimal(paid + overdue_open)).quantize(TENTH, ROUND_HALF_UP),
            paid_cents=paid,
            overdue_open_cents=overdue_open,
        )
        for cur, (cent_days, paid, overdue_open) in sorted(weighted.items())
        if paid + overdue_open
    )


def rate_payer(
    docs: Iterable[Doc], payments: Iterable[Pay], as_of: date, *, broken_promises: int = 0, broken_plans: int = 0
) -> PayerRating:
    """A customer's rating at `as_of` from their ledger (confirmed payments only) and broken commitments."""
    per_currency = lateness(docs, payments, as_of)
    worst = max((c.average_days_late for c in per_currency), default=None)
    return PayerRating(
        grade=grade_for(worst, broken_promises + broken_plans),
        average_days_late=worst,
        broken_promises=broken_promises,
        broken_plans=broken_plans,
        currencies=per_currency,
    )
