"""Bulk upserts for the ledger import: core statements, never one ORM object per row.

Each write first compares the file's rows with what the ledger holds under the same refs
(`Changes`: new, changed, unchanged), writes only the new and changed ones, and says which
customers' ledgers changed, so the sweep's index is refreshed for them alone.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import chain
from operator import itemgetter

from sqlalchemy import Connection, delete, select, update

from bot.domain.csv_rows import CUSTOMER_FIELDS, DOCUMENT_FIELDS, PAYMENT_FIELDS
from bot.domain.statuses import PaymentStatus
from storage import arming, customer_keys, import_reads
from storage.import_reads import Changes
from storage.sql import IN_LIMIT
from storage.sql import chunks as _chunks
from storage.sql import dialect_insert as _insert
from storage.tables import Allocation, Customer, Document, Payment

_CONFIRMED = PaymentStatus.CONFIRMED.value  # an imported payment counts at once

CHUNK = 5000
REARM_DATE = arming.REARM_DATE  # "look at this item on the next sweep"
_ITEM_TYPES = ("invoice", "debit_note")  # bot.domain.ledger.ITEM_TYPES, in an order for SQL
_SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38)  # json_each and ->> built in
BULK_CACHE_KIB = 256 * 1024


def _is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


# --- writes by ref --------------------------------------------------------------------------------
#
# The importer hands over plain tuples (bot.domain.csv_rows *_FIELDS order, ref first).
# Only new and changed rows are written. PostgreSQL takes them as INSERT ... ON CONFLICT
# (ref) DO UPDATE. On SQLite that statement, and SQLAlchemy's per-row parameter
# processing, cost several times the write itself, so there new rows go in as one plain
# INSERT and changed ones as one UPDATE by id, both as sqlite3 executemany over tuples
# (dates as ISO text, which is how SQLAlchemy's SQLite DATE stores them). The import holds
# SQLite's write lock from its BEGIN IMMEDIATE on, so no other writer can add a ref
# between the comparison and the insert.


@contextmanager
def bulk_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a page cache of up to BULK_CACHE_KIB while a bulk write runs, then the usual one again.

    A load of a million rows touches every page of a table and its unique index; with the
    default 2 MiB cache, pages are evicted and read back again and again. The cache only
    takes what it uses, and gives it back when it shrinks again. Nothing on PostgreSQL.
    """
    if not _is_sqlite(conn):
        yield
        return
    before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar())  # < 0: KiB, else pages
    page = int(conn.exec_driver_sql("PRAGMA page_size").scalar())
    if (-before if before < 0 else before * page // 1024) >= BULK_CACHE_KIB:
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {before}")


@contextmanager
def import_session(conn: Connection) -> Iterator[None]:
    """SQLite: the connection's settings for an import's transaction, begun inside this block and ended
    before it closes; the usual ones again after. Nothing on PostgreSQL.

    Foreign keys are not checked by SQLite meanwhile: the import checks every reference itself
    before it writes (each customer_ref among the customers it read in the same transaction,
    under the write lock, so none can go away meanwhile), every id it writes comes from those
    rows or from the rows it inserts, and it deletes no row that others refer to. SQLite's own
    check would look up the parent row again for each of a million rows: a third of the cost
    of an insert. Durability is unchanged (WAL, synchronous=NORMAL as always). PRAGMA
    foreign_keys is a no-op inside a transaction, hence a block around it.
    """
    if not _is_sqlite(conn):
        yield
        return
    raw = conn.connection.dbapi_connection
    if raw is None or raw.in_transaction:
        yield
        return
    (before,) = raw.execute("PRAGMA foreign_keys").fetchone()
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if raw.in_transaction:  # not ended: the pragma cannot be set back; this connection is not used again
            conn.invalidate()
        else:
            raw.execute(f"PRAGMA foreign_keys = {int(before)}")


def _upsert(conn: Connection, table, rows: list[dict], columns: Sequence[str]) -> None:  # noqa: ANN001
    if not rows:
        return
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_update(index_elements=["ref"], set_={c: getattr(stmt.excluded, c) for c in columns})
    for chunk in _chunks(rows, CHUNK):
        conn.execute(stmt, list(chunk))


def _ids(conn: Connection, table, refs: Sequence[str]) -> dict[str, int]:  # noqa: ANN001
    """ref -> id of those of `refs` that `table` has."""
    out: dict[str, int] = {}
    for chunk in _chunks(refs, IN_LIMIT):
        out.update(conn.execute(select(table.c.ref, table.c.id).where(table.c.ref.in_(chunk))).all())
    return out


def _sqlite_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(int(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQLite literal for {value!r}")


REBUILD_MIN_ROWS = 10_000
SQLITE_MAX_PARAMS = 999  # host parameters in one statement: the lowest limit SQLite has had


def _sqlite_insert(
    conn: Connection,
    table,  # noqa: ANN001
    columns: Sequence[str],
    rows: Sequence[tuple],
    literals: Mapping[str, object] | None = None,
) -> None:
    """INSERT `rows` (values for `columns`; `literals`: one value for every row) in one executemany.

    Each statement takes as many rows as SQLite's parameter limit allows (VALUES (...), (...), ...),
    a quarter to a third cheaper per row than one statement per row; the rows go in in order.
    When they at least double the table, its plain indexes are dropped first and built
    again after, from their own CREATE INDEX text: one sort per index instead of a B-tree
    insert per row and index, several times faster. Unique indexes stay (they check the
    rows). It is all one transaction, so all or nothing as ever.
    """
    if not rows:
        return
    rebuild: list[tuple[str, str]] = []
    if len(rows) >= REBUILD_MIN_ROWS:
        top = conn.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0
        if len(rows) >= top:
            plain = [
                r[1] for r in conn.exec_driver_sql(f"PRAGMA index_list({table.name})") if r[2] == 0 and r[3] == "c"
            ]
            for name in plain:
                create = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
                )
                rebuild.append((name, create.scalar_one()))
    for name, _ in rebuild:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    literals = literals or {}
    one = "(" + ", ".join(["?"] * len(columns) + [_sqlite_literal(v) for v in literals.values()]) + ")"
    insert = f"INSERT INTO {table.name} ({', '.join([*columns, *literals])}) VALUES "
    per = max(1, SQLITE_MAX_PARAMS // len(columns))
    whole = len(rows) - len(rows) % per if per > 1 else 0
    if whole:
        flat = [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, whole, per)]
        conn.exec_driver_sql(insert + ", ".join([one] * per), flat)
    if whole < len(rows):
        conn.exec_driver_sql(insert + one, list(rows[whole:]) if whole else list(rows))
    for _, create in rebuild:
        conn.exec_driver_sql(create)


def _sqlite_write(
    conn: Connection,
    table,  # noqa: ANN001
    fields: Sequence[str],
    changes: Changes,
    constants: Mapping[str, object] | None = None,
    *,
    new_ids: bool = False,
) -> dict[str, int]:
    """Insert the new rows (ref first, values for `fields`) and update the changed ones by id.

    `constants`: further columns with one value for every row, set on insert and update.
    Columns named nowhere take their (Python-side) default on insert and are left alone on
    update, as the ON CONFLICT upsert does. Returns ref -> id of the inserted rows if `new_ids`.
    """
    width = len(fields)
    constants = dict(constants or {})
    defaults = {}
    for col in table.columns:
        if col.name in fields or col.name in constants or col.primary_key or col.default is None:
            continue
        if not col.default.is_scalar:
            raise TypeError(f"{table.name}.{col.name}: a bulk insert takes only scalar defaults")
        defaults[col.name] = col.default.arg
    new = changes.new
    if any(len(r) != width for r in new[:1]):  # rows carry more than the table's fields (payments: applies_to)
        new = list(map(itemgetter(*range(width)), new))
    _sqlite_insert(conn, table, fields, new, {**constants, **defaults})
    if changes.changed:
        set_ = ", ".join(
            [f"{f} = ?" for f in fields[1:]] + [f"{c} = {_sqlite_literal(v)}" for c, v in constants.items()]
        )
        ids = changes.ids
        conn.exec_driver_sql(
            f"UPDATE {table.name} SET {set_} WHERE id = ?", [(*r[1:width], ids[r[0]]) for r in changes.changed]
        )
    return _sqlite_new_ids(conn, table, new, changes.top) if new_ids and new else {}


def _sqlite_new_ids(conn: Connection, table, new: list[tuple], top: int) -> dict[str, int]:  # noqa: ANN001
    """ref -> id of the rows just inserted (ref first), in one INSERT, into a table whose highest id was `top`."""
    n, low, high = conn.exec_driver_sql(
        f"SELECT count(*), min(id), max(id) FROM {table.name} WHERE id > ?", (top,)
    ).one()
    if n == len(new) and low == top + 1 and high == top + n:
        # SQLite gives each new row the highest id so far + 1 (until ids run out at 2**63 - 1),
        # and nothing else could insert meanwhile: so these are the rows' ids, in their order.
        return dict(zip(map(itemgetter(0), new), range(low, high + 1), strict=True))
    return _ids(conn, table, [r[0] for r in new])


class _Dates(dict):
    """ISO text -> date (None -> None), memoised: a file has few distinct days."""

    def __missing__(self, text: str | None) -> date | None:
        day = self[text] = None if text is None else date.fromisoformat(text)
        return day


def write_customers(conn: Connection, rows: list[tuple], *, dry_run: bool = False) -> Changes:
    """Insert or update customers by ref (tuples in CUSTOMER_FIELDS order), then rebuild their name keys.

    Only new and changed customers are written (and only their keys rebuilt: storage.customer_keys);
    `dry_run` only compares. Returns the Changes.
    """
    stored, top = import_reads.stored(conn, "customer", CUSTOMER_FIELDS[1:], [r[0] for r in rows])
    changes = import_reads.compare(rows, stored, len(CUSTOMER_FIELDS), None)
    changes.top = top
    if dry_run or not (changes.new or changes.changed):
        return changes
    t = Customer.__table__
    written = changes.new + changes.changed
    if _is_sqlite(conn):
        with bulk_cache(conn):
            added = _sqlite_write(conn, t, CUSTOMER_FIELDS, changes, new_ids=True)
            ids = changes.ids | added
            customer_keys.replace_keys(conn, [(ids[r[0]], r[0], r[1], r[-1]) for r in written])
        return changes
    _upsert(conn, t, [dict(zip(CUSTOMER_FIELDS, r, strict=True)) for r in written], CUSTOMER_FIELDS[1:])
    ids = _ids(conn, t, [r[0] for r in written])
    customer_keys.replace_keys(conn, [(ids[r[0]], r[0], r[1], r[-1]) for r in written])
    return changes


def _sqlite_delete(conn: Connection, table: str, column: str, ids: Iterable[int]) -> None:
    """DELETE FROM table WHERE column IN ids, in one statement where SQLite has json_each."""
    ids = sorted(ids)
    if not ids:
        return
    if _SQLITE_JSON:
        conn.exec_driver_sql(
            f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
        )
        return
    for chunk in _chunks(ids, IN_LIMIT):
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE {column} IN ({', '.join(['?'] * len(chunk))})", tuple(chunk))


_DOCUMENT_DATA = len(DOCUMENT_FIELDS) - 1  # next_action_on is the sweep's, not the file's: not compared


def write_documents(conn: Connection, rows: list[tuple], *, dry_run: bool = False) -> Changes:
    """Insert or update documents by ref (tuples in DOCUMENT_FIELDS order, dates as ISO text).

    A document whose data is unchanged keeps its next_action_on; a new or changed one gets the
    file's. `dry_run` only compares. Returns the Changes.
    """
    stored, top = import_reads.stored(conn, "document", DOCUMENT_FIELDS[1:_DOCUMENT_DATA], [r[0] for r in rows])
    changes = import_reads.compare(rows, stored, _DOCUMENT_DATA, 1)
    changes.top = top
    if dry_run or not (changes.new or changes.changed):
        return changes
    t = Document.__table__
    if _is_sqlite(conn):
        with bulk_cache(conn):
            changes.added = _sqlite_write(conn, t, DOCUMENT_FIELDS, changes, new_ids=True)
        return changes
    day = _Dates()
    payload = [
        dict(zip(DOCUMENT_FIELDS, (*r[:3], day[r[3]], day[r[4]], *r[5:8], day[r[8]]), strict=True))
        for r in chain(changes.new, changes.changed)
    ]
    _upsert(conn, t, payload, DOCUMENT_FIELDS[1:])
    return changes


def write_payments(conn: Connection, rows: list[tuple], *, dry_run: bool = False) -> Changes:
    """Insert or update confirmed payments by ref and replace their allocations.

    Rows: PAYMENT_FIELDS values (the date as ISO text), then the applies_to as a tuple of
    (document ref, cents) in order. A payment the ledger has with other values, another
    status or other allocations is changed. `dry_run` only compares. Returns the Changes.
    """
    width = len(PAYMENT_FIELDS)
    stored, top = import_reads.stored(conn, "payment", (*PAYMENT_FIELDS[1:], "status"), [r[0] for r in rows])
    if stored:
        stored = import_reads.with_allocations(conn, stored)
    if stored:
        changes = import_reads.compare([(*r[:width], _CONFIRMED, r[width]) for r in rows], stored, width + 2, 1)
    else:  # nothing to compare with: every row is new, as given
        changes = import_reads.compare(rows, stored, width, 1)
    changes.top = top
    if dry_run or not (changes.new or changes.changed):
        return changes
    p, a = Payment.__table__, Allocation.__table__
    columns = ("payment_id", "document_ref", "amount_cents", "position")
    written = changes.new + changes.changed
    if _is_sqlite(conn):
        with bulk_cache(conn):
            added = _sqlite_write(conn, p, PAYMENT_FIELDS, changes, {"status": _CONFIRMED}, new_ids=True)
            changes.added = added
            _sqlite_delete(conn, "allocation", "payment_id", [changes.ids[r[0]] for r in changes.changed])
            _sqlite_insert(conn, a, columns, _allocation_rows(written, changes.ids | added))
        return changes
    day = _Dates()
    payload = [
        dict(zip(PAYMENT_FIELDS, (*r[:2], day[r[2]], *r[3:width]), strict=True), status=_CONFIRMED) for r in written
    ]
    _upsert(conn, p, payload, [*PAYMENT_FIELDS[1:], "status"])
    ids = _ids(conn, p, [r[0] for r in written])
    for chunk in _chunks(sorted(ids.values()), IN_LIMIT):
        conn.execute(delete(a).where(a.c.payment_id.in_(chunk)))
    for chunk in _chunks(_allocation_rows(written, ids), CHUNK):
        conn.execute(a.insert(), [dict(zip(columns, r, strict=True)) for r in chunk])
    return changes


def _allocation_rows(rows: list[tuple], ids: Mapping[str, int]) -> list[tuple]:
    """(payment id, document ref, cents, position) for each payment's applies_to (its last element)."""
    return [(ids[row[0]], ref, cents, i) for row in rows if row[-1] for i, (ref, cents) in enumerate(row[-1])]


def upsert_payments(conn: Connection, rows: list[dict]) -> Changes:
    """write_payments for records as dicts: PAYMENT_FIELDS (the date a `date`) and "allocations"."""
    payments = [
        (*(r[f].isoformat() if f == "date" else r[f] for f in PAYMENT_FIELDS), tuple(r["allocations"])) for r in rows
    ]
    return write_payments(conn, payments)


def rearm_customers(conn: Connection, customer_ids: Iterable[int]) -> None:
    """The ledger of these customers changed: the sweep's index follows (storage.arming.settle)."""
    arming.settle(conn, set(customer_ids))


def rearm_all(conn: Connection, customer_id: int) -> None:
    """Every item of this customer is looked at on the next sweep (a pause ended, a case was decided)."""
    d = Document.__table__
    conn.execute(
        update(d).where(d.c.customer_id == customer_id, d.c.type.in_(_ITEM_TYPES)).values(next_action_on=REARM_DATE)
    )
    arming.settle(conn, {customer_id})
