"""The sales scorecard: invoiced against collected per sales rep for one calendar month.

Definitions (DESIGN "Chat behaviour": `scorecard [YYYY-MM]`, every rep listed, with zeros):

- **Invoiced**: the amounts of invoices and debit notes issued in the month
  (gross: credit notes are corrections, shown in the aging, not here).
- **Collected**: the amounts of confirmed payments dated in the month (cash in,
  whichever invoices it settles; withholdings are tax kept by the customer,
  not cash, and are left out).
- **A rep's customers** are the customers whose `sales_rep_slack_id` is that rep
  now; customers without one are grouped as unassigned (rep None), so every
  currency's rows add up to the ledger's totals for the month.
- Each currency is its own table (money of two currencies is never added); every
  rep has a row in every currency of the scope, with zeros where nothing happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.ledger import ITEM_TYPES
from bot.domain.months import Month

INVOICED_TYPES = ITEM_TYPES  # invoices and debit notes


@dataclass(frozen=True)
class ScorecardRow:
    rep: str | None  # a Slack user id; None: customers without a rep
    invoiced_cents: int
    collected_cents: int


@dataclass(frozen=True)
class ScorecardCurrency:
    currency: str
    rows: tuple[ScorecardRow, ...]  # reps by id, unassigned last
    invoiced_cents: int
    collected_cents: int


@dataclass(frozen=True)
class Scorecard:
    month: Month
    currencies: tuple[ScorecardCurrency, ...]  # sorted by currency code


def _rep_key(rep: str | None) -> tuple[bool, str]:
    return (rep is None, rep or "")


def build_scorecard(
    month: Month,
    reps: Iterable[str | None],
    currencies: Iterable[str],
    invoiced: Iterable[tuple[str | None, str, int]],
    collected: Iterable[tuple[str | None, str, int]],
) -> Scorecard:
    """Sum (rep, currency, cents) facts of the month into one table per currency.

    `reps` and `currencies` are the scope (every rep of the ledger, every currency its
    customers use); a rep or currency that only appears in the facts is added, so no
    amount is ever dropped. Facts may be one per document or already summed.
    """
    all_reps = {r or None for r in reps}
    all_currencies = set(currencies)
    sums: dict[tuple[str | None, str], list[int]] = {}
    for index, facts in ((0, invoiced), (1, collected)):
        for rep, currency, cents in facts:
            rep = rep or None
            all_reps.add(rep)
            all_currencies.add(currency)
            sums.setdefault((rep, currency), [0, 0])[index] += cents
    tables = []
    for currency in sorted(all_currencies):
        rows = tuple(
            ScorecardRow(rep, *sums.get((rep, currency), (0, 0))) for rep in sorted(all_reps, key=_rep_key)
        )
        tables.append(
            ScorecardCurrency(
                currency=currency,
                rows=rows,
                invoiced_cents=sum(r.invoiced_cents for r in rows),
                collected_cents=sum(r.collected_cents for r in rows),
            )
        )
    return Scorecard(month=month, currencies=tuple(tables))
