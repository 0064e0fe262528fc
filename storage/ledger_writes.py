"""Bulk reads and upserts for the ledger import: core statements, never one ORM object per row."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import chain
from operator import itemgetter

from sqlalchemy import Connection, delete, func, select, update

from bot.domain.csv_rows import CUSTOMER_FIELDS, DOCUMENT_FIELDS, PAYMENT_FIELDS, CustomerInfo, DocInfo
from storage import customer_keys
from storage.sql import IN_LIMIT
from storage.sql import chunks as _chunks
from storage.sql import dialect_insert as _insert
from storage.tables import Allocation, Customer, Document, Payment

CHUNK = 5000
REARM_DATE = date(1970, 1, 1)  # "look at this item on the next sweep"
_ITEM_TYPES = ("invoice", "debit_note")  # bot.domain.ledger.ITEM_TYPES, in an order for SQL
_SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38)  # json_each and ->> built in
BULK_CACHE_KIB = 256 * 1024


def _is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def customer_infos(conn: Connection) -> dict[str, CustomerInfo]:
    rows = conn.exec_driver_sql("SELECT id, currency, payment_terms_days, ref FROM customer")
    info = CustomerInfo._make
    return {row[3]: info(row[:3]) for row in rows}


def doc_infos(conn: Connection, refs: Iterable[str]) -> dict[str, DocInfo]:
    wanted = sorted(set(refs))
    if len(wanted) > IN_LIMIT and _is_sqlite(conn) and _SQLITE_JSON:  # one statement, not one per chunk
        rows = conn.exec_driver_sql(
            "SELECT d.ref, c.ref, d.type, d.currency FROM document d JOIN customer c ON c.id = d.customer_id"
            " WHERE d.ref IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),),
        )
        return {ref: DocInfo(cref, kind, cur) for ref, cref, kind, cur in rows}
    d, c = Document.__table__, Customer.__table__
    out: dict[str, DocInfo] = {}
    for chunk in _chunks(wanted, IN_LIMIT):
        q = (
            select(d.c.ref, c.c.ref, d.c.type, d.c.currency)
            .join(c, c.c.id == d.c.customer_id)
            .where(d.c.ref.in_(chunk))
        )
        for ref, cref, kind, cur in conn.execute(q):
            out[ref] = DocInfo(cref, kind, cur)
    return out


# --- writes by ref --------------------------------------------------------------------------------
#
# The importer hands over plain tuples (bot.domain.csv_rows *_FIELDS order, ref first).
# PostgreSQL takes them as INSERT ... ON CONFLICT (ref) DO UPDATE. On SQLite that
# statement, and SQLAlchemy's per-row parameter processing, cost several times the write
# itself, so there the refs the table already has are looked up first; new rows go in as
# one plain INSERT and known ones as one UPDATE by id, both as sqlite3 executemany over
# tuples (dates as ISO text, which is how SQLAlchemy's SQLite DATE stores them). The
# import holds SQLite's write lock from its BEGIN IMMEDIATE on, so no other writer can
# add a ref between the look-up and the insert.


@contextmanager
def _bulk_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a page cache of up to BULK_CACHE_KIB while a bulk write runs, then the usual one again.

    A load of a million rows touches every page of a table and its unique index; with the
    default 2 MiB cache, pages are evicted and read back again and again. The cache only
    takes what it uses, and gives it back when it shrinks again.
    """
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


def _existing_ids(conn: Connection, table, rows: Sequence[tuple]) -> tuple[dict[str, int], int]:  # noqa: ANN001
    """(ref -> id of the rows (ref first) that `table` already has, the highest id in the table or 0)."""
    top = conn.execute(select(func.max(table.c.id))).scalar() or 0
    if not top:
        return {}, 0
    refs = set(map(itemgetter(0), rows))
    if top <= 4 * len(refs):  # cheaper to read every ref than to look each one up
        every = conn.execute(select(table.c.ref, table.c.id))
        return {ref: i for ref, i in every if ref in refs}, top
    return _ids(conn, table, sorted(refs)), top


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
    rows: list[tuple],
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
        conn.exec_driver_sql(insert + one, rows[whole:] if whole else rows)
    for _, create in rebuild:
        conn.exec_driver_sql(create)


def _sqlite_write(
    conn: Connection,
    table,  # noqa: ANN001
    fields: Sequence[str],
    rows: list[tuple],
    constants: Mapping[str, object] | None = None,
    *,
    new_ids: bool = False,
) -> tuple[dict[str, int], dict[str, int]]:
    """Insert the rows (ref first) whose ref is new, update the others (every field but ref).

    `constants`: further columns with one value for every row, set on insert and update.
    Columns named nowhere take their (Python-side) default on insert and are left alone on
    update, as the ON CONFLICT upsert does. Returns (ref -> id of the rows that were there
    before, ref -> id of the inserted ones if `new_ids`).
    """
    existing, top = _existing_ids(conn, table, rows)
    constants = dict(constants or {})
    defaults = {}
    for col in table.columns:
        if col.name in fields or col.name in constants or col.primary_key or col.default is None:
            continue
        if not col.default.is_scalar:
            raise TypeError(f"{table.name}.{col.name}: a bulk insert takes only scalar defaults")
        defaults[col.name] = col.default.arg
    new = [r for r in rows if r[0] not in existing] if existing else rows
    _sqlite_insert(conn, table, fields, new, {**constants, **defaults})
    old = [(*r[1:], existing[r[0]]) for r in rows if r[0] in existing] if existing else []
    if old:
        set_ = ", ".join(
            [f"{f} = ?" for f in fields[1:]] + [f"{c} = {_sqlite_literal(v)}" for c, v in constants.items()]
        )
        conn.exec_driver_sql(f"UPDATE {table.name} SET {set_} WHERE id = ?", old)
    return existing, _sqlite_new_ids(conn, table, new, top) if new_ids and new else {}


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


def write_customers(conn: Connection, rows: list[tuple]) -> None:
    """Insert or update customers by ref (tuples in CUSTOMER_FIELDS order), then rebuild their name keys."""
    if not rows:
        return
    t = Customer.__table__
    if _is_sqlite(conn):
        with _bulk_cache(conn):
            existing, added = _sqlite_write(conn, t, CUSTOMER_FIELDS, rows, new_ids=True)
            ids = existing | added
            customer_keys.replace_keys(conn, [(ids[r[0]], r[0], r[1], r[-1]) for r in rows])
        return
    _upsert(conn, t, [dict(zip(CUSTOMER_FIELDS, r, strict=True)) for r in rows], CUSTOMER_FIELDS[1:])
    ids = _ids(conn, t, [r[0] for r in rows])
    customer_keys.replace_keys(conn, [(ids[r[0]], r[0], r[1], r[-1]) for r in rows])


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


def upsert_customers(conn: Connection, rows: list[dict]) -> None:
    """write_customers for records as parse_customer gives them."""
    write_customers(conn, [tuple(r[f] for f in CUSTOMER_FIELDS) for r in rows])


def write_documents(conn: Connection, rows: list[tuple]) -> None:
    """Insert or update documents by ref (tuples in DOCUMENT_FIELDS order, dates as ISO text)."""
    if not rows:
        return
    t = Document.__table__
    if _is_sqlite(conn):
        with _bulk_cache(conn):
            _sqlite_write(conn, t, DOCUMENT_FIELDS, rows)
        return
    day = _Dates()
    payload = [
        dict(zip(DOCUMENT_FIELDS, (*r[:3], day[r[3]], day[r[4]], *r[5:8], day[r[8]]), strict=True)) for r in rows
    ]
    _upsert(conn, t, payload, DOCUMENT_FIELDS[1:])


def upsert_documents(conn: Connection, rows: list[dict]) -> None:
    """write_documents for records as parse_document gives them, with their next_action_on."""
    dates = ("issue_date", "due_date", "next_action_on")
    write_documents(conn, [tuple(_iso(r[f]) if f in dates else r[f] for f in DOCUMENT_FIELDS) for r in rows])


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def write_payments(conn: Connection, rows: list[tuple], allocations: Sequence[Sequence[tuple[str, int]]]) -> None:
    """Insert or update confirmed payments by ref (tuples in PAYMENT_FIELDS order, the date as ISO
    text) and replace their allocations (`allocations[i]`: row i's (document ref, cents) in order)."""
    if not rows:
        return
    p, a = Payment.__table__, Allocation.__table__
    columns = ("payment_id", "document_ref", "amount_cents", "position")
    if _is_sqlite(conn):
        with _bulk_cache(conn):
            existing, added = _sqlite_write(conn, p, PAYMENT_FIELDS, rows, {"status": "confirmed"}, new_ids=True)
            _sqlite_delete(conn, "allocation", "payment_id", existing.values())
            _sqlite_insert(conn, a, columns, _allocation_rows(rows, allocations, existing | added))
        return
    day = _Dates()
    payload = [dict(zip(PAYMENT_FIELDS, (*r[:2], day[r[2]], *r[3:]), strict=True), status="confirmed") for r in rows]
    _upsert(conn, p, payload, [*PAYMENT_FIELDS[1:], "status"])
    ids = _ids(conn, p, [r[0] for r in rows])
    for chunk in _chunks(sorted(ids.values()), IN_LIMIT):
        conn.execute(delete(a).where(a.c.payment_id.in_(chunk)))
    for chunk in _chunks(_allocation_rows(rows, allocations, ids), CHUNK):
        conn.execute(a.insert(), [dict(zip(columns, r, strict=True)) for r in chunk])


def _allocation_rows(
    rows: list[tuple], allocations: Sequence[Sequence[tuple[str, int]]], ids: Mapping[str, int]
) -> list[tuple]:
    """(payment id, document ref, cents, position) for each payment's applies_to."""
    return [
        (ids[row[0]], ref, cents, i)
        for row, targets in zip(rows, allocations, strict=True)
        if targets
        for i, (ref, cents) in enumerate(targets)
    ]


def upsert_payments(conn: Connection, rows: list[dict]) -> None:
    """write_payments for records as parse_payment gives them (with their "allocations")."""
    payments = [tuple(_iso(r[f]) if f == "date" else r[f] for f in PAYMENT_FIELDS) for r in rows]
    write_payments(conn, payments, [r["allocations"] for r in rows])


def rearm_customers(conn: Connection, customer_ids: Iterable[int]) -> None:
    """Items of these customers whose dunning had stopped are looked at again by the next sweep.

    The ledger changed (a payment, a credit, a new item): an item that was settled
    or below the minimum may be open again. Re-arming is always safe: the sweep
    derives what is due from the ledger and the outbox, never from this column.
    """
    ids = sorted(set(customer_ids))
    if len(ids) > IN_LIMIT and _is_sqlite(conn) and _SQLITE_JSON:
        # One statement, not one per chunk of ids: SQLite's plan walks the NULLs of the
        # next_action_on index, once rather than once per chunk.
        conn.exec_driver_sql(
            "UPDATE document SET next_action_on = ? WHERE next_action_on IS NULL"
            " AND type IN ('invoice', 'debit_note') AND customer_id IN (SELECT value FROM json_each(?))",
            (REARM_DATE.isoformat(), json.dumps(ids)),
        )
        return
    d = Document.__table__
    for chunk in _chunks(ids, IN_LIMIT):
        conn.execute(
            update(d)
            .where(d.c.customer_id.in_(chunk), d.c.next_action_on.is_(None), d.c.type.in_(_ITEM_TYPES))
            .values(next_action_on=REARM_DATE)
        )


def rearm_all(conn: Connection, customer_id: int) -> None:
    """Every item of this customer is looked at on the next sweep (a pause ended, a case was decided)."""
    d = Document.__table__
    conn.execute(
        update(d).where(d.c.customer_id == customer_id, d.c.type.in_(_ITEM_TYPES)).values(next_action_on=REARM_DATE)
    )
