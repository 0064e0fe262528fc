"""Days sales outstanding (DSO) by the countback method, for the whole ledger or one customer.

The countback (also "exhaustion" or "working back") method is the UK Institute of
Credit Management's standard and what credit teams use when sales vary from month
to month: instead of dividing receivables by an average day of sales, it counts
back through the most recent months' actual sales until the receivables are used
up, and adds up the days it took.

Definitions used here (one currency at a time; money never mixes currencies):

- **Receivables** at `as_of`: the `total_open` of the balance engine
  (bot.domain.balances, DESIGN "Balance rules"): open invoices and debit notes
  less unapplied credit, summed over the customers measured. Credit balances
  count as negative, so the ledger figure is the net amount owed.
- **Sales of a month**: the amounts of invoices and debit notes issued in that
  calendar month, up to `as_of` (gross: credit notes and withholdings reduce
  receivables, not sales, so a correction of an old invoice does not distort
  this month's sales).
- **The months**: the calendar month of `as_of` counted up to `as_of` (as many
  days as `as_of`'s day of the month), then the full calendar months before it,
  newest first, at most `DSO_MONTHS` (12) of them.
- **Countback**: while the receivables left exceed a month's sales, that month's
  days are counted in full and its sales subtracted; the month that covers what
  is left counts `days × left / sales` of its days, and the count stops. A month
  without sales is counted in full.
- **Capped**: receivables larger than every counted month's sales together give
  the whole window's days and `capped = True` ("at least this many days").
- Receivables of zero or less give a DSO of 0.

Worked example (as_of 2026-11-23; receivables 212,000.00): November to date has
23 days and 100,000.00 of sales (112,000.00 left), October 31 days and
80,000.00 (32,000.00 left), September 30 days and 70,000.00, which covers the
rest: 30 × 32,000 / 70,000 = 13.71 days. DSO = 23 + 31 + 13.71 = 67.7 days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from bot.domain.ledger import ITEM_TYPES, Doc
from bot.domain.months import Month, months_back

DSO_MONTHS = 12
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class DsoMonth:
    """One month counted back: its sales (cents) and the days of it counted into the DSO."""

    month: Month
    period_days: int  # days of the month up to as_of (the month of as_of) or the whole month
    sales_cents: int
    days_counted: Decimal


@dataclass(frozen=True)
class Dso:
    """A countback DSO: `days` to one decimal, the receivables measured and the months used."""

    days: Decimal
    receivables_cents: int
    months: tuple[DsoMonth, ...]  # newest first, only the months the countback reached
    capped: bool  # receivables exceed the window's sales: the DSO is at least `days`


@lru_cache(maxsize=64)  # asked once per customer by a whole-ledger report, for the same few dates
def dso_window(as_of: date, max_months: int = DSO_MONTHS) -> tuple[date, date]:
    """First and last day whose sales the countback may use (first day of the oldest month, as_of)."""
    return months_back(as_of, max_months)[-1].first_day, as_of


def monthly_sales(docs: Iterable[Doc], as_of: date, max_months: int = DSO_MONTHS) -> dict[str, dict[Month, int]]:
    """currency -> month -> cents of invoices and debit notes issued in the DSO window up to `as_of`."""
    start, _ = dso_window(as_of, max_months)
    out: dict[str, dict[Month, int]] = {}
    for d in docs:
        if d.type in ITEM_TYPES and start <= d.issue_date <= as_of:
            per = out.setdefault(d.currency, {})
            m = Month(d.issue_date.year, d.issue_date.month)
            per[m] = per.get(m, 0) + d.amount_cents
    return out


def add_sales(total: dict[str, dict[Month, int]], more: Mapping[str, Mapping[Month, int]]) -> None:
    """Add one customer's `monthly_sales` into a running total (in place)."""
    for currency, months in more.items():
        per = total.setdefault(currency, {})
        for m, cents in months.items():
            per[m] = per.get(m, 0) + cents


def dso_countback(
    receivables_cents: int, sales: Mapping[Month, int], as_of: date, max_months: int = DSO_MONTHS
) -> Dso:
    """The countback DSO of `receivables_cents` against `sales` (month -> cents, one currency).

    Raises ValueError when `max_months` < 1. Sales of months outside the window are ignored.
    """
    if max_months < 1:
        raise ValueError("the countback needs at least one month")
    left = receivables_cents
    days = Decimal(0)
    used: list[DsoMonth] = []
    if left > 0:
        current = Month.of(as_of)
        for m in months_back(as_of, max_months):
            period = as_of.day if m == current else m.days
            cents = max(sales.get(m, 0), 0)
            if left > cents:
                counted = Decimal(period)
                left -= cents
            else:
                counted = Decimal(period) * Decimal(left) / Decimal(cents)
                left = 0
            days += counted
            used.append(DsoMonth(m, period, cents, counted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)))
            if left == 0:
                break
    return Dso(
        days=days.quantize(TENTH, rounding=ROUND_HALF_UP),
        receivables_cents=receivables_cents,
        months=tuple(used),
        capped=left > 0,
    )
