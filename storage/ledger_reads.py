"""Reading a customer's ledger as the domain's plain records."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from itertools import groupby
from operator import itemgetter

from sqlalchemy import Connection

from bot.domain.claimed_payments import PaymentFact, superseded_claims
from bot.domain.ledger import Doc, Pay
from bot.domain.statuses import PaymentStatus
from storage.rawsql import as_date, fetch_in

_DOCS = (
    "SELECT customer_id, id, ref, type, issue_date, due_date, amount_cents, currency, related_ref "
    "FROM document WHERE customer_id IN ({ids})"
)
# One row per allocation (or one with NULLs for a payment without), in payment then position order.
_PAYMENTS = (
    "SELECT p.customer_id, p.id, p.ref, p.date, p.amount_cents, p.currency, a.document_ref, a.amount_cents, "
    "p.source, p.reference "
    "FROM payment p LEFT JOIN allocation a ON a.payment_id = p.id "
    "WHERE p.customer_id IN ({ids}) AND p.status = {p} ORDER BY p.id, a.position"
)


_PAYMENT_KEY = itemgetter(0, 1, 2, 3, 4, 5, 8, 9)  # one payment: everything but the allocation


def ledgers(
    conn: Connection, customer_ids: Iterable[int], doc_ids: dict[int, dict[str, int]] | None = None
) -> dict[int, tuple[list[Doc], list[Pay]]]:
    """Documents and confirmed payments (with allocations) of each customer, in bulk.

    A confirmed claim of the debtor's that an imported payment stands in for is left out
    (bot.domain.claimed_payments: counted once). `doc_ids`, when given, is filled with
    customer id -> document ref -> row id.
    """
    ids = sorted(set(customer_ids))
    out: dict[int, tuple[list[Doc], list[Pay]]] = {cid: ([], []) for cid in ids}
    day = _dates()
    for cid, doc_id, ref, kind, issue, due, cents, cur, rel in fetch_in(conn, _DOCS, ids):
        out[cid][0].append(Doc(ref, kind, day(issue), day(due), cents, cur, rel))
        if doc_ids is not None:
            doc_ids.setdefault(cid, {})[ref] = doc_id
    rows = fetch_in(conn, _PAYMENTS, ids, PaymentStatus.CONFIRMED)
    claims: dict[int, list[PaymentFact]] = {}
    for (cid, _pid, ref, paid_on, cents, cur, source, reference), group in groupby(rows, key=_PAYMENT_KEY):
        parts = tuple((r[6], r[7]) for r in group if r[6] is not None)
        out[cid][1].append(Pay(ref, day(paid_on), cents, cur, parts))
        if source == "debtor":
            claims.setdefault(cid, []).append(PaymentFact(ref, day(paid_on), cents, cur, reference or ""))
    for cid, confirmed in claims.items():
        mine = {c.ref for c in confirmed}
        imported = [PaymentFact(p.ref, p.date, p.amount_cents, p.currency) for p in out[cid][1] if p.ref not in mine]
        gone = superseded_claims(confirmed, imported)
        if gone:
            out[cid] = (out[cid][0], [p for p in out[cid][1] if p.ref not in gone])
    return out


def _dates() -> Callable[[object], date | None]:
    """as_date with a memo: a ledger repeats the same few hundred dates thousands of times."""
    seen: dict[object, date | None] = {}

    def day(value: object) -> date | None:
        found = seen.get(value)
        if found is None:
            found = seen[value] = as_date(value)
        return found

    return day
