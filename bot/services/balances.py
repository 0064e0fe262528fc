"""Balance and aging answers in the contract's JSON shapes (DESIGN "Interfaces")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, select

from bot.domain.balances import BUCKETS, Balance, OpenItem, compute_balance
from bot.domain.money import cents_str
from bot.domain.pauses import item_status
from bot.services.customers import CustomerRow, Found, customers_by_id, find
from storage.engine import reading
from storage.ledger_reads import ledgers
from storage.pauses import load_pauses
from storage.tables import Customer


def _money(cents: int | None) -> str | None:
    return None if cents is None else cents_str(cents)


def currency_balance_json(b) -> dict:  # noqa: ANN001  (bot.domain.balances.CurrencyBalance)
    """One entry of `balance --format json`'s `balances` (DESIGN "Interfaces"): the currency, its
    totals and aging buckets as decimal strings, the credit limit and available credit (null when
    none applies). Shared by the CLI's balance document and Slack's owe answer."""
    return {
        "currency": b.currency,
        "total_open": cents_str(b.total_open_cents),
        "overdue": cents_str(b.overdue_cents),
        "unapplied_credit": cents_str(b.unapplied_credit_cents),
        "buckets": {k: cents_str(v) for k, v in b.buckets.items()},
        "credit_limit": _money(b.credit_limit_cents),
        "available_credit": _money(b.available_credit_cents),
    }


def customer_balance(conn: Connection, customer: CustomerRow, as_of: date) -> Balance:
    """The customer's balance at `as_of` (DESIGN "Balance rules"): open items, buckets and credit per
    currency, from the whole ledger; cents throughout.
    """
    docs, pays = ledgers(conn, [customer.id])[customer.id]
    return compute_balance(
        docs,
        pays,
        as_of,
        customer_currency=customer.currency,
        credit_limit_cents=customer.credit_limit_cents,
    )


def balance_document(conn: Connection, customer: CustomerRow, as_of: date) -> dict:
    """`balance --format json` (DESIGN "Interfaces"): balances per currency, open items with their
    status, and `credit_hold` (true or false), as plain JSON values with amounts as decimal strings."""
    bal = customer_balance(conn, customer, as_of)
    pauses = load_pauses(conn, [customer.id])[customer.id]
    return {
        "customer_ref": customer.ref,
        "name": customer.name,
        "as_of": as_of.isoformat(),
        "credit_hold": bool(customer.credit_hold),
        "balances": [currency_balance_json(b) for b in bal.balances],
        "open_items": [open_item_json(i, pauses, as_of) for i in bal.open_items],
    }


def open_item_json(item: OpenItem, pauses, as_of: date) -> dict:  # noqa: ANN001  (load_pauses' value)
    """One entry of the balance JSON's `open_items` (DESIGN "Interfaces"): doc_ref, type, due_date,
    open_amount (decimal string), currency, days_overdue (as_of − due date, may be negative) and
    status (disputed, claimed, in_plan, promised, on_hold or open, the first that applies)."""
    return {
        "doc_ref": item.ref,
        "type": item.type,
        "due_date": item.due_date.isoformat(),
        "open_amount": cents_str(item.open_cents),
        "currency": item.currency,
        "days_overdue": item.days_overdue,
        "status": item_status(item.ref, pauses, as_of),
    }


def aging_document(conn: Connection, as_of: date) -> dict:
    """Every customer with anything open or unapplied, per currency, with totals."""
    ids = list(conn.execute(select(Customer.__table__.c.id).order_by(Customer.__table__.c.ref)).scalars())
    keys = (*BUCKETS, "unapplied_credit", "total")
    per_currency: dict[str, list[dict]] = {}
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        rows = customers_by_id(conn, chunk)
        books = ledgers(conn, chunk)
        for cid in chunk:
            c = rows[cid]
            docs, pays = books[cid]
            bal = compute_balance(docs, pays, as_of, customer_currency=c.currency)
            for b in bal.balances:
                if not any(b.buckets.values()) and not b.unapplied_credit_cents:
                    continue
                values = dict(b.buckets) | {
                    "unapplied_credit": b.unapplied_credit_cents,
                    "total": b.total_open_cents,
                }
                per_currency.setdefault(b.currency, []).append({"customer_ref": c.ref, "name": c.name, **values})
    reports = []
    for currency in sorted(per_currency):
        rows = sorted(per_currency[currency], key=lambda r: r["customer_ref"])
        totals = {k: sum(r[k] for r in rows) for k in keys}
        reports.append(
            {
                "currency": currency,
                "rows": [{**r, **{k: cents_str(r[k]) for k in keys}} for r in rows],
                "totals": {k: cents_str(v) for k, v in totals.items()},
            }
        )
    return {"as_of": as_of.isoformat(), "reports": reports}


@dataclass(frozen=True)
class BalanceAnswer:
    """`balance CUSTOMER`: who was found (and whether exactly) and the balance document."""

    found: Found
    document: dict


def balance_of(engine: Engine, query: str, as_of: date) -> BalanceAnswer:
    """The customer `query` names (matched leniently, bot.services.customers.find) and their
    `balance_document` at `as_of`, read in one snapshot. Raises CustomerAmbiguous / CustomerNotFound."""
    with reading(engine) as conn:
        found = find(conn, query)
        return BalanceAnswer(found, balance_document(conn, found.customer, as_of))


def aging_of(engine: Engine, as_of: date) -> dict:
    """`aging_document` read in one snapshot (its own read-only transaction)."""
    with reading(engine) as conn:
        return aging_document(conn, as_of)
