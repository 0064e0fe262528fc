"""The weekly aging summary, prospects, the scorecard and one customer's DSO and payer rating.

Each function returns one plain JSON-ready document (amounts as decimal strings with
two decimals, dates ISO): no sentences, so the CLI prints it as tables or JSON and
the Slack app renders it as blocks. `rep_slack_id` keeps only that sales rep's
customers (DESIGN "Who sees what": a rep sees their own customers); None means
every customer (credit staff).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection

from bot.domain.balances import BUCKETS, Balance, compute_balance
from bot.domain.dso import DSO_MONTHS, Dso, add_sales, dso_countback, monthly_sales
from bot.domain.ledger import Doc, Pay
from bot.domain.money import cents_str
from bot.domain.months import Month
from bot.domain.payer_rating import LOOKBACK_DAYS, PayerRating, rate_payer
from bot.domain.prospects import prospect
from bot.domain.scorecard import INVOICED_TYPES, build_scorecard
from bot.services.customers import CustomerRow, customers_by_id
from storage import report_reads
from storage.ledger_reads import ledgers

TOP_OVERDUE = 10
_CHUNK = 2000


@dataclass(frozen=True)
class Scanned:
    customer: CustomerRow
    docs: list[Doc]
    pays: list[Pay]
    balance: Balance


def scan(
    conn: Connection, as_of: date, rep_slack_id: str | None = None, *, may_buy: bool = False
) -> Iterator[Scanned]:
    """Every customer in scope (ref order) with their ledger and balance at `as_of`, read in chunks.

    `may_buy` skips customers without a credit limit or on credit hold (never prospects).
    """
    ids = report_reads.customer_ids(conn, rep_slack_id, may_buy=may_buy)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows, books = customers_by_id(conn, chunk), ledgers(conn, chunk)
        for cid in chunk:
            c = rows[cid]
            docs, pays = books[cid]
            bal = compute_balance(
                docs, pays, as_of, customer_currency=c.currency, credit_limit_cents=c.credit_limit_cents
            )
            yield Scanned(c, docs, pays, bal)


def dso_document(dso: Dso) -> dict:
    """A DSO result in the reports' JSON shape: days as a decimal string, `capped` when the
    receivables exceed the window's sales (the DSO is at least `days`), and the months it was computed over.
    """
    return {
        "days": str(dso.days),
        "capped": dso.capped,
        "receivables": cents_str(dso.receivables_cents),
        "months": [
            {
                "month": str(m.month),
                "days": m.period_days,
                "sales": cents_str(m.sales_cents),
                "days_counted": str(m.days_counted),
            }
            for m in dso.months
        ],
    }


def rating_document(rating: PayerRating) -> dict:
    """A payer rating in the reports' JSON shape: grade, average days late (decimal string or None),
    broken promises and plans, and the per-currency figures.
    """
    return {
        "grade": rating.grade,
        "average_days_late": None if rating.average_days_late is None else str(rating.average_days_late),
        "broken_promises": rating.broken_promises,
        "broken_plans": rating.broken_plans,
        "currencies": [
            {
                "currency": c.currency,
                "average_days_late": str(c.average_days_late),
                "paid": cents_str(c.paid_cents),
                "overdue_open": cents_str(c.overdue_open_cents),
            }
            for c in rating.currencies
        ],
    }


def weekly_document(
    conn: Connection, as_of: date, *, rep_slack_id: str | None = None, top: int = TOP_OVERDUE
) -> dict:
    """The weekly aging summary: per currency, the bucket totals, overdue, the ledger's DSO and the top overdue.

    Shape: {"as_of", "rep_slack_id", "currencies": [{"currency", "buckets": {bucket: amount},
    "overdue", "unapplied_credit", "total_open", "customers_overdue", "dso": {"days", "capped",
    "receivables", "months": [{"month", "days", "sales", "days_counted"}]},
    "top_overdue": [{"customer_ref", "name", "sales_rep_slack_id", "overdue", "90+",
    "oldest_days_overdue"}]}]}. Bucket totals and total_open equal `report aging`'s totals.
    """
    sums: dict[str, dict[str, int]] = {}
    sales: dict[str, dict[Month, int]] = {}
    overdue_rows: dict[str, list[tuple[int, str, dict]]] = {}
    for s in scan(conn, as_of, rep_slack_id):
        add_sales(sales, monthly_sales(s.docs, as_of))
        for b in s.balance.balances:
            acc = sums.setdefault(b.currency, dict.fromkeys((*BUCKETS, "overdue", "unapplied", "total", "n"), 0))
            for k in BUCKETS:
                acc[k] += b.buckets[k]
            acc["overdue"] += b.overdue_cents
            acc["unapplied"] += b.unapplied_credit_cents
            acc["total"] += b.total_open_cents
            if b.overdue_cents > 0:
                acc["n"] += 1
                oldest = max(i.days_overdue for i in s.balance.open_items if i.currency == b.currency)
                row = {
                    "customer_ref": s.customer.ref,
                    "name": s.customer.name,
                    "sales_rep_slack_id": s.customer.sales_rep_slack_id or None,
                    "overdue": b.overdue_cents,
                    "90+": b.buckets["90+"],
                    "oldest_days_overdue": oldest,
                }
                _keep_top(overdue_rows.setdefault(b.currency, []), row, top)
    currencies = []
    for cur in sorted(set(sums) | set(sales)):
        acc = sums.get(cur) or dict.fromkeys((*BUCKETS, "overdue", "unapplied", "total", "n"), 0)
        tops = sorted(overdue_rows.get(cur, []), key=lambda t: (-t[0], t[1]))
        currencies.append(
            {
                "currency": cur,
                "buckets": {k: cents_str(acc[k]) for k in BUCKETS},
                "overdue": cents_str(acc["overdue"]),
                "unapplied_credit": cents_str(acc["unapplied"]),
                "total_open": cents_str(acc["total"]),
                "customers_overdue": acc["n"],
                "dso": dso_document(dso_countback(acc["total"], sales.get(cur, {}), as_of)),
                "top_overdue": [
                    r | {"overdue": cents_str(r["overdue"]), "90+": cents_str(r["90+"])} for _, _, r in tops
                ],
            }
        )
    return {"as_of": as_of.isoformat(), "rep_slack_id": rep_slack_id, "currencies": currencies}


def _keep_top(rows: list[tuple[int, str, dict]], row: dict, top: int) -> None:
    """Keep the `top` largest overdue amounts (ties: lowest ref) without holding every customer."""
    rows.append((row["overdue"], row["customer_ref"], row))
    if len(rows) > 4 * top + 64:
        rows.sort(key=lambda t: (-t[0], t[1]))
        del rows[top:]


def prospects_document(conn: Connection, as_of: date, *, rep_slack_id: str | None = None) -> dict:
    """Customers with nothing overdue and credit available (bot.domain.prospects), with their payer rating.

    Shape: {"as_of", "rep_slack_id", "prospects": [{"customer_ref", "name", "sales_rep_slack_id",
    "currency", "credit_limit", "total_open", "available_credit", "payer_grade",
    "average_days_late"}]}, by currency, then most credit available first, then ref.
    """
    found = []
    for s in scan(conn, as_of, rep_slack_id, may_buy=True):
        c = s.customer
        p = prospect(s.balance, currency=c.currency, credit_limit_cents=c.credit_limit_cents, credit_hold=c.credit_hold)
        if p is not None:
            found.append((s, p))
    broken = report_reads.broken_commitments(
        conn, [s.customer.id for s, _ in found], as_of - timedelta(days=LOOKBACK_DAYS), as_of
    )
    rows = []
    for s, p in found:
        promises, plans = broken.get(s.customer.id, (0, 0))
        rating = rate_payer(s.docs, s.pays, as_of, broken_promises=promises, broken_plans=plans)
        rows.append(
            {
                "customer_ref": s.customer.ref,
                "name": s.customer.name,
                "sales_rep_slack_id": s.customer.sales_rep_slack_id or None,
                "currency": p.currency,
                "credit_limit": cents_str(p.credit_limit_cents),
                "total_open": cents_str(p.total_open_cents),
                "available_credit": cents_str(p.available_credit_cents),
                "payer_grade": rating.grade,
                "average_days_late": None if rating.average_days_late is None else str(rating.average_days_late),
                "_sort": (p.currency, -p.available_credit_cents, s.customer.ref),
            }
        )
    rows.sort(key=lambda r: r.pop("_sort"))
    return {"as_of": as_of.isoformat(), "rep_slack_id": rep_slack_id, "prospects": rows}


def scorecard_document(conn: Connection, month: Month, *, rep_slack_id: str | None = None) -> dict:
    """Invoiced against collected per sales rep for `month` (bot.domain.scorecard), every rep listed.

    Shape: {"month", "rep_slack_id", "reports": [{"currency", "rows": [{"sales_rep_slack_id"
    (None: customers without a rep), "invoiced", "collected"}], "totals": {"invoiced",
    "collected"}}]}, currencies sorted, reps by id with the unassigned row last.
    """
    invoiced, collected = report_reads.month_sums(
        conn, month.first_day, month.last_day, item_types=INVOICED_TYPES, rep=rep_slack_id
    )
    card = build_scorecard(
        month,
        reps=report_reads.sales_reps(conn, rep_slack_id),
        currencies=report_reads.customer_currencies(conn, rep_slack_id),
        invoiced=invoiced,
        collected=collected,
    )
    return {
        "month": str(month),
        "rep_slack_id": rep_slack_id,
        "reports": [
            {
                "currency": t.currency,
                "rows": [
                    {
                        "sales_rep_slack_id": r.rep,
                        "invoiced": cents_str(r.invoiced_cents),
                        "collected": cents_str(r.collected_cents),
                    }
                    for r in t.rows
                ],
                "totals": {"invoiced": cents_str(t.invoiced_cents), "collected": cents_str(t.collected_cents)},
            }
            for t in card.currencies
        ],
    }


def customer_metrics(conn: Connection, customer: CustomerRow, as_of: date) -> dict:
    """One customer's countback DSO per currency and payer rating (for "what does ACME owe?").

    Shape: {"customer_ref", "as_of", "dso": [{"currency", ...dso_document}], "rating": rating_document}.
    """
    docs, pays = ledgers(conn, [customer.id])[customer.id]
    bal = compute_balance(docs, pays, as_of, customer_currency=customer.currency)
    sales = monthly_sales(docs, as_of, DSO_MONTHS)
    promises, plans = report_reads.broken_commitments(
        conn, [customer.id], as_of - timedelta(days=LOOKBACK_DAYS), as_of
    ).get(customer.id, (0, 0))
    return {
        "customer_ref": customer.ref,
        "as_of": as_of.isoformat(),
        "dso": [
            {
                "currency": b.currency,
                **dso_document(dso_countback(b.total_open_cents, sales.get(b.currency, {}), as_of)),
            }
            for b in bal.balances
        ],
        "rating": rating_document(rate_payer(docs, pays, as_of, broken_promises=promises, broken_plans=plans)),
    }
