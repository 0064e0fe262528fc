"""Which items the sweep looks at: the next-action index and the date from which an item is settled.

`document.next_action_on` is the earliest local date on which an item may need action
(the import sets it from the due date, the sweep moves it, NULL: nothing until the ledger
changes). `document.settled_on` is the date from which the item is settled by the credit
the ledger holds: from that day on, whatever `now` a sweep runs at, the item's open amount
is zero, so the sweep need not look at it. The sweep's candidates are the items with
`next_action_on <= today AND (settled_on IS NULL OR settled_on > today)`, read through
the index (settled_on, next_action_on) in two range scans, so a sweep's cost follows the
open items, not the ledger's history (DESIGN "Performance targets").

`settle` computes settled_on for whole customers from their whole ledger, by DESIGN
"Balance rules" (bot.domain.settlement says how, and why it never claims an item settled
on a day compute_balance would show it open). Anything it cannot prove keeps settled_on
NULL: an item left armed costs a look, never a reminder.
Imports never compare dates with the real clock; neither does this. Payments a debtor claimed
in Telegram are left out even once confirmed: the balance counts such a claim only until the
ERP's import brings the same payment (storage.ledger_reads), so counting both here could
settle an item the balance still shows open; left out, they can only keep an item armed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from operator import itemgetter

from sqlalchemy import Connection

from bot.domain.settlement import settled_days
from bot.domain.statuses import PaymentStatus
from storage.rawsql import as_date, fetch_all, fetch_in
from storage.sql import IN_LIMIT

REARM_DATE = date(1970, 1, 1)  # next_action_on for "look at this item on the next sweep"
ARMED_INDEX = "ix_document_armed"

SETTLE_CHUNK = 20_000  # customers read at once when every customer is settled again
SETTLE_PART = 250  # customers settled at once (by id range) within what is read: see _settled_days
# One customer's whole ledger, as bot.domain.settlement reads it (item rows then carry the
# stored settled_on and whether next_action_on is NULL); {where} selects the customers.
_ITEMS = (
    "SELECT customer_id, id, currency, ref, amount_cents, issue_date, due_date, settled_on, next_action_on IS NULL"
    " FROM document WHERE type IN ('invoice', 'debit_note') AND customer_id {where}"
)
_CREDITS = (
    "SELECT customer_id, currency, related_ref, amount_cents, issue_date"
    " FROM document WHERE type IN ('credit_note', 'withholding') AND customer_id {where}"
)
_PAYMENTS = (
    "SELECT customer_id, currency, amount_cents, date,"
    " (SELECT coalesce(sum(a.amount_cents), 0) FROM allocation a WHERE a.payment_id = payment.id) <= amount_cents"
    " FROM payment WHERE status = '" + PaymentStatus.CONFIRMED + "' AND source = 'import' AND customer_id {where}"
)
_ALLOCATIONS = (
    "SELECT p.customer_id, p.currency, a.document_ref, a.amount_cents, p.date"
    " FROM payment p JOIN allocation a ON a.payment_id = p.id"
    " WHERE p.status = '" + PaymentStatus.CONFIRMED + "' AND p.source = 'import' AND p.customer_id {where}"
)


def settle(
    conn: Connection,
    customer_ids: Collection[int] | None = None,
    *,
    documents: tuple[list[tuple], list[tuple]] | None = None,
    payments: tuple[list[tuple], list[tuple]] | None = None,
) -> int:
    """Recompute `settled_on` for every item of these customers (None: of every customer) from their
    whole ledger (bot.domain.settlement), and re-arm (next_action_on = REARM_DATE) the items the
    sweep had set aside (NULL), since the ledger changed under them.

    Call it in the transaction that changes a customer's documents or payments, after the
    change. Reads the customers' ledgers in chunks of customers; writes only the rows whose
    values change. `documents` = (item rows, credit rows), `payments` = (payment rows,
    allocation rows): every one these customers have, in bot.domain.settlement's layouts
    (item rows followed by their stored settled_on and whether next_action_on is NULL),
    given by an import that just wrote them into an empty table, so they are not read
    back. Returns how many rows it wrote.
    """
    count, low, high = conn.exec_driver_sql("SELECT count(*), min(id), max(id) FROM customer").one()
    if not count or (customer_ids is not None and not customer_ids):
        return 0
    chunks: list[tuple[str, Sequence]]
    if customer_ids is not None and len(customer_ids) * 2 < count:
        ids = sorted(customer_ids)
        chunks = [("IN ({ids})", ids[i : i + IN_LIMIT]) for i in range(0, len(ids), IN_LIMIT)]
        at = {cid: n for n, (_, part) in enumerate(chunks) for cid in part}
        chunk_of = at.get
    else:  # most customers: read everyone's ledger, range by range
        chunks = [("BETWEEN {p} AND {p}", (lo, lo + SETTLE_CHUNK - 1)) for lo in range(low, high + 1, SETTLE_CHUNK)]

        def chunk_of(cid: int) -> int | None:
            return (cid - low) // SETTLE_CHUNK if low <= cid <= high else None

    kinds = [*(documents or (None, None)), *(payments or (None, None))]
    if all(rows is not None for rows in kinds):  # nothing to read: all of it at once (_settled_days parts it)
        chunks = [("", ())]
        given = [[rows] for rows in kinds]
    else:
        given = [None if rows is None else _split(rows, chunk_of, len(chunks)) for rows in kinds]
    touched = None if customer_ids is None else set(customer_ids)
    pg = conn.dialect.name == "postgresql"
    rearm = REARM_DATE if pg else REARM_DATE.isoformat()
    writes: list[tuple] = []
    for n, (where, values) in enumerate(chunks):
        reads = []
        for sql, rows in zip((_ITEMS, _CREDITS, _PAYMENTS, _ALLOCATIONS), given, strict=True):
            if rows is not None:
                reads.append(rows[n])
            elif "{ids}" in where:
                reads.append(list(fetch_in(conn, sql.replace("{where}", where), values)))
            else:
                reads.append(fetch_all(conn, sql.replace("{where}", where), *values))
        days = _settled_days(reads).get
        for row in reads[0]:  # item rows, each with its stored settled_on and whether it was set aside
            day = days(row[1])
            if (day != row[7] or row[8]) and (touched is None or row[0] in touched):
                writes.append((day, rearm, row[1]))
    if writes:
        writes.sort(key=itemgetter(2))  # in id order: the table's pages one after the other
        mark = "%s" if pg else "?"
        update = (
            f"UPDATE document SET settled_on = {mark}, next_action_on = coalesce(next_action_on, {mark})"
            f" WHERE id = {mark}"
        )
        with _index_set_aside(conn, len(writes)):
            conn.exec_driver_sql(update, writes)
    return len(writes)


def _settled_days(reads: list[list[tuple]]) -> dict[int, object]:
    """bot.domain.settlement.settled_days over a chunk's (items, credits, payments, allocations), SETTLE_PART
    customers at a time: its dictionaries stay small enough for the CPU's caches, which makes a large
    ledger's settlement a third faster than one call over the whole chunk. The same answer: each
    customer's items depend on that customer's rows alone."""
    parts: dict[int, tuple[list, list, list, list]] = {}
    get = parts.get
    for kind, rows in enumerate(reads):
        for row in rows:
            key = row[0] // SETTLE_PART
            part = get(key)
            if part is None:
                part = parts[key] = ([], [], [], [])
            part[kind].append(row)
    days: dict[int, object] = {}
    for part in parts.values():
        days.update(settled_days(*part))
    return days


def ledger_documents(conn: Connection) -> tuple[list[tuple], list[tuple]]:
    """(item rows, credit rows) of every customer, in the layouts `settle` takes as `documents`
    (item rows: bot.domain.settlement's item layout, then the stored settled_on and whether
    next_action_on is NULL). Two table scans: what `settle` reads when most customers changed,
    read once by an import that also checks what its rows name against it."""
    items = fetch_all(conn, _ITEMS.replace("{where}", "IS NOT NULL"))
    credits = fetch_all(conn, _CREDITS.replace("{where}", "IS NOT NULL"))
    return items, credits


def most_customers(conn: Connection, customer_ids: Collection[int]) -> bool:
    """Whether `settle` for these customers reads every customer's ledger (they are at least half)."""
    count = conn.exec_driver_sql("SELECT count(*) FROM customer").scalar() or 0
    return bool(count) and len(customer_ids) * 2 >= count


REBUILD_SHARE = 4  # an update of at least 1/4 of the documents builds the armed index again instead


@contextmanager
def _index_set_aside(conn: Connection, rows: int) -> Iterator[None]:
    """SQLite: for an update of a large share of the documents, drop the (settled_on, next_action_on)
    index first and build it again after, from its own CREATE INDEX: one sort instead of moving an
    entry per row. In the caller's transaction, so all or nothing as ever."""
    if conn.dialect.name != "sqlite" or rows < 10_000:
        yield
        return
    total = conn.exec_driver_sql("SELECT max(id) FROM document").scalar() or 0
    create = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                                  (ARMED_INDEX,)).scalar()
    if create is None or rows * REBUILD_SHARE < total:
        yield
        return
    conn.exec_driver_sql(f'DROP INDEX "{ARMED_INDEX}"')
    yield
    conn.exec_driver_sql(create)


def _split(rows: list[tuple], chunk_of: Callable[[int], int | None], n: int) -> list[list[tuple]]:
    """Rows (customer id first) by the chunk their customer is in; rows of other customers are left out."""
    out: list[list[tuple]] = [[] for _ in range(n)]
    for row in rows:
        at = chunk_of(row[0])
        if at is not None:
            out[at].append(row)
    return out


_ARMED = (
    "SELECT d.customer_id, d.id, d.next_action_on, d.settled_on, c.timezone FROM document d "
    "JOIN customer c ON c.id = d.customer_id "
    "WHERE d.settled_on IS NULL AND d.next_action_on <= {p} AND d.type IN ('invoice', 'debit_note') "
    "UNION ALL "
    "SELECT d.customer_id, d.id, d.next_action_on, d.settled_on, c.timezone FROM document d "
    "JOIN customer c ON c.id = d.customer_id "
    "WHERE d.settled_on > {p} AND d.next_action_on <= {p} AND d.type IN ('invoice', 'debit_note')"
)


_EVERY = (
    "SELECT d.customer_id, d.id, d.next_action_on, d.settled_on, c.timezone FROM document d "
    "JOIN customer c ON c.id = d.customer_id "
    "WHERE (d.settled_on IS NULL OR d.settled_on > {p}) AND d.type IN ('invoice', 'debit_note')"
)


def armed_items(conn: Connection, now: datetime, zone_of=None, *, every: bool = False) -> dict[int, list[int]]:  # noqa: ANN001
    """customer id -> ids of the items the sweep must look at `now`: next action date come, not settled
    at the customer's local date (each customer's own time zone). `every`: every item not settled,
    whatever its next action date (what a sweep looks at right after re-arming for a new policy).

    `next_action_on` and `settled_on` are local dates; no zone is more than a day away
    from UTC, so the index ranges stop a day either side of `now` (UTC), and each
    customer's zone then decides. `zone_of`: zone name -> tzinfo (default: zoneinfo).
    """
    if zone_of is None:
        from zoneinfo import ZoneInfo as zone_of
    utc_day = now.date()
    latest, earliest = utc_day + timedelta(days=1), utc_day - timedelta(days=1)
    bounds: tuple = (latest, earliest, latest)
    sql = _ARMED
    if every:
        sql, bounds = _EVERY, (earliest,)
    if conn.dialect.name != "postgresql":
        bounds = tuple(d.isoformat() for d in bounds)
    today: dict[str, date] = {}
    out: dict[int, list[int]] = {}
    for cid, doc_id, when, settled, tz in fetch_all(conn, sql, *bounds):
        local = today.get(tz)
        if local is None:
            local = today[tz] = now.astimezone(zone_of(tz)).date()
        if (every or as_date(when) <= local) and (settled is None or as_date(settled) > local):
            out.setdefault(cid, []).append(doc_id)
    return out
