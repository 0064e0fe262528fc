"""Reading a customer's ledger as the domain's plain records."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from itertools import groupby
from operator import itemgetter

from sqlalchemy import Connection

from bot.domain.claimed_payments import PaymentFact, superseded_claims
from bot.domain.ledger import Doc, Opening, Pay
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


# open_ledgers: what a balance from `since` on needs, the settled history summed (bot.domain.ledger.Opening).
# {since} is an ISO date written into the text (a date object's isoformat, never outside input).
_LISTED_DOCS = _DOCS + (
    " AND (type NOT IN ('invoice', 'debit_note') OR settled_on IS NULL OR settled_on > '{since}')"
)
_SETTLED_SUMS = (
    "SELECT customer_id, currency, sum(amount_cents) FROM document WHERE customer_id IN ({ids})"
    " AND type IN ('invoice', 'debit_note') AND settled_on <= '{since}' GROUP BY customer_id, currency"
)
# Each customer's confirmed payments summed per currency, but those dated after `since` one by one (their id).
_PAYMENT_SUMS = (
    "SELECT customer_id, currency, CASE WHEN date > '{since}' THEN id END, sum(amount_cents) FROM payment"
    " WHERE customer_id IN ({ids}) AND status = {p} GROUP BY 1, 2, 3"
)
_NAMING = (  # the payments naming these documents, with their customer
    "SELECT a.payment_id, p.customer_id FROM allocation a JOIN payment p ON p.id = a.payment_id"
    " WHERE a.document_ref IN ({ids})"
)
_PAYMENTS_BY_ID = (
    "SELECT p.customer_id, p.id, p.ref, p.date, p.amount_cents, p.currency, a.document_ref, a.amount_cents "
    "FROM payment p LEFT JOIN allocation a ON a.payment_id = p.id "
    "WHERE p.id IN ({ids}) AND p.status = {p} ORDER BY p.id, a.position"
)
# Through the claims' own index (storage.tables.DEBTOR_CLAIMS): `+customer_id` keeps SQLite's planner off
# the index of every payment by customer, which it would otherwise take (a walk through all their payments).
_CLAIMED = (
    "SELECT DISTINCT customer_id FROM payment WHERE payment.source = 'debtor' AND +customer_id IN ({ids})"
    " AND status = {p}"
)


def open_ledgers(
    conn: Connection,
    customer_ids: Iterable[int],
    since: date,
    doc_ids: dict[int, dict[str, int]] | None = None,
    *,
    whole: Iterable[int] = (),
) -> dict[int, tuple[list[Doc], list[Pay], list[Opening]]]:
    """What each customer's balance on `since` or any later day needs: the items not settled by `since`
    (document.settled_on, storage.arming), every credit note and withholding, the payments dated after
    `since` or naming a listed item, and the rest summed per currency (bot.domain.ledger.Opening), for
    compute_balance(docs, pays, as_of, opening=...): the same balance as from the whole ledger.

    The customers in `whole`, those with a confirmed claim of the debtor's (`ledgers` leaves out the
    ones an import stands in for) and those with a listed payment allocating more than its amount get
    their whole ledger and no opening (as `ledgers`). `doc_ids` as `ledgers`, for the listed documents.
    """
    ids = sorted(set(customer_ids))
    whole_ids = set(whole) | {cid for (cid,) in fetch_in(conn, _CLAIMED, ids, PaymentStatus.CONFIRMED)}
    ids = [cid for cid in ids if cid not in whole_ids]
    day = _dates()
    out: dict[int, tuple[list[Doc], list[Pay], list[Opening]]] = {cid: ([], [], []) for cid in ids}
    on = since.isoformat()
    owner: dict[str, int] = {}
    found: dict[int, dict[str, int]] = {}
    for cid, doc_id, ref, kind, issue, due, cents, cur, rel in fetch_in(conn, _LISTED_DOCS.replace("{since}", on), ids):
        out[cid][0].append(Doc(ref, kind, day(issue), day(due), cents, cur, rel))
        found.setdefault(cid, {})[ref] = doc_id
        if due is not None:
            owner[ref] = cid
    sums: dict[tuple[int, str], list[int]] = {}
    for cid, cur, cents in fetch_in(conn, _SETTLED_SUMS.replace("{since}", on), ids):
        sums[cid, cur] = [0, cents]
    listed: set[int] = set()
    for cid, cur, pid, cents in fetch_in(conn, _PAYMENT_SUMS.replace("{since}", on), ids, PaymentStatus.CONFIRMED):
        if pid is None:
            sums.setdefault((cid, cur), [0, 0])[0] += cents
        else:
            listed.add(pid)
    chunk = set(ids)
    listed.update(pid for pid, cid in fetch_in(conn, _NAMING, sorted(owner)) if cid in chunk)
    rows = fetch_in(conn, _PAYMENTS_BY_ID, sorted(listed), PaymentStatus.CONFIRMED)
    for (cid, _pid, ref, paid_on, cents, cur), group in groupby(rows, key=itemgetter(0, 1, 2, 3, 4, 5)):
        parts = tuple((r[6], r[7]) for r in group if r[6] is not None)
        pay = Pay(ref, day(paid_on), cents, cur, parts)
        out[cid][1].append(pay)
        if pay.date <= since:  # summed above too
            sums[cid, cur][0] -= cents
        if sum(c for _, c in parts) > cents:
            whole_ids.add(cid)
    for (cid, cur), (credit, settled) in sums.items():
        out[cid][2].append(Opening(cur, since, credit, settled))
    for cid in whole_ids & chunk:
        del out[cid]
    if doc_ids is not None:
        doc_ids.update((cid, refs) for cid, refs in found.items() if cid not in whole_ids)
    for cid, (docs, pays) in ledgers(conn, sorted(whole_ids & set(customer_ids)), doc_ids).items():
        out[cid] = (docs, pays, [])
    return out
