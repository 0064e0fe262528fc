"""What the ledger already holds, for an import: look-ups, and a file's rows against the stored ones.

An import checks what a file names (customers, related documents, applies_to targets) and
sorts its rows into new, changed and unchanged before anything is written
(storage.ledger_writes writes only the new and changed ones).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from operator import itemgetter

from sqlalchemy import Connection

from bot.domain.csv_rows import CustomerInfo, DocInfo
from storage.rawsql import fetch_in
from storage.sql import IN_LIMIT
from storage.sql import chunks as _chunks

_ITEM_TYPES = ("invoice", "debit_note")  # bot.domain.ledger.ITEM_TYPES, in an order for SQL
_SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38)  # json_each and ->> built in


def _is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def customer_infos(conn: Connection) -> dict[str, CustomerInfo]:
    """customer ref -> (id, currency, payment terms) of every customer."""
    rows = conn.exec_driver_sql("SELECT id, currency, payment_terms_days, ref FROM customer")
    info = CustomerInfo._make
    return {row[3]: info(row[:3]) for row in rows}


def doc_infos(conn: Connection, refs: Iterable[str]) -> dict[str, DocInfo]:
    """document ref -> (customer id, type, currency) of those of `refs` the ledger has."""
    wanted = sorted(set(refs))
    sql = "SELECT ref, customer_id, type, currency FROM document WHERE ref IN ({ids})"
    if len(wanted) > IN_LIMIT and _is_sqlite(conn) and _SQLITE_JSON:  # one statement, not one per chunk
        rows = conn.exec_driver_sql(sql.format(ids="SELECT value FROM json_each(?)"), (json.dumps(wanted),))
    else:
        rows = fetch_in(conn, sql, wanted)
    make = tuple.__new__
    return {row[0]: make(DocInfo, row[1:]) for row in rows}


def mismatched_targets(conn: Connection, targets: Iterable[tuple[str, int, str]]) -> set[str]:
    """Of (document ref, customer id, currency) triples, the refs that are not an invoice or debit note
    of that customer in that currency: what an applies_to may not name. Checked in the database,
    so that only the few bad ones come back (doc_infos then says what they are)."""
    wanted = sorted(set(targets))
    if not wanted:
        return set()
    bad = "d.id IS NULL OR d.customer_id <> {cid} OR d.currency <> {cur} OR d.type NOT IN ('invoice', 'debit_note')"
    if _is_sqlite(conn) and _SQLITE_JSON:
        sql = (
            "SELECT j.value ->> 0 FROM json_each(?) j LEFT JOIN document d ON d.ref = j.value ->> 0 WHERE "
            + bad.format(cid="j.value ->> 1", cur="j.value ->> 2")
        )
        return {ref for (ref,) in conn.exec_driver_sql(sql, (json.dumps(wanted),))}
    if _is_sqlite(conn):  # no JSON functions in this SQLite: read what they name
        found = doc_infos(conn, [ref for ref, _, _ in wanted])
        return {
            ref
            for ref, cid, cur in wanted
            if (info := found.get(ref)) is None
            or (info.customer_id, info.currency) != (cid, cur)
            or info.type not in _ITEM_TYPES
        }
    refs, cids, curs = (list(col) for col in zip(*wanted, strict=True))
    sql = (
        "SELECT t.ref FROM unnest(%s::text[], %s::bigint[], %s::text[]) AS t(ref, cid, cur)"
        " LEFT JOIN document d ON d.ref = t.ref WHERE " + bad.format(cid="t.cid", cur="t.cur")
    )
    return {ref for (ref,) in conn.exec_driver_sql(sql, (refs, cids, curs))}


# --- what a file changes ----------------------------------------------------------------------------


@dataclass
class Changes:
    """A file's rows against the ledger: `new` and `changed` rows (as given, ref first), how many are
    `unchanged`, `ids` (ref -> id of every row the ledger had before), the `customers` whose ledger
    changes (documents and payments: the new and the former customer of each new or changed row)."""

    new: list[tuple] = field(default_factory=list)
    changed: list[tuple] = field(default_factory=list)
    unchanged: int = 0
    ids: dict[str, int] = field(default_factory=dict)
    customers: set[int] = field(default_factory=set)
    top: int = 0  # the table's highest id before the write
    added: dict[str, int] | None = None  # ref -> id of the inserted rows, where the write knows them for free


def stored(conn: Connection, table: str, columns: Sequence[str], refs: Sequence[str]) -> tuple[dict, int]:
    """(ref -> (id, *columns) of the rows of `table` named by `refs`, the table's highest id or 0).

    Dates come back as ISO text on both databases, as the importer's rows have them.
    """
    top = conn.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0
    if not top or not refs:
        return {}, top
    cols = ", ".join(["ref", "id", *columns])
    sqlite = _is_sqlite(conn)
    cursor = conn.connection.cursor()
    try:
        if top <= 4 * len(refs):  # cheaper to read the whole table than to look each ref up
            wanted = set(refs)
            cursor.execute(f"SELECT {cols} FROM {table}")
            found = {r[0]: r[1:] for r in cursor.fetchall() if r[0] in wanted}
        elif sqlite and _SQLITE_JSON:
            sql = f"SELECT {cols} FROM {table} WHERE ref IN (SELECT value FROM json_each(?))"
            cursor.execute(sql, (json.dumps(refs),))
            found = {r[0]: r[1:] for r in cursor.fetchall()}
        elif sqlite:
            found = {}
            for chunk in _chunks(refs, IN_LIMIT):
                cursor.execute(f"SELECT {cols} FROM {table} WHERE ref IN ({', '.join('?' * len(chunk))})", chunk)
                found.update((r[0], r[1:]) for r in cursor.fetchall())
        else:
            cursor.execute(f"SELECT {cols} FROM {table} WHERE ref = ANY(%s)", (list(refs),))
            found = {r[0]: r[1:] for r in cursor.fetchall()}
    finally:
        cursor.close()
    if not sqlite:
        found = {ref: tuple(v.isoformat() if isinstance(v, date) else v for v in row) for ref, row in found.items()}
    return found, top


def compare(rows: Sequence[tuple], stored: Mapping[str, tuple], width: int, customer_at: int | None) -> Changes:
    """Sort rows into new, changed and unchanged: row[1:width] against the stored values after the id."""
    changes = Changes()
    if not stored:
        changes.new = list(rows)
    else:
        new, changed, ids = changes.new, changes.changed, changes.ids
        for row in rows:
            old = stored.get(row[0])
            if old is None:
                new.append(row)
                continue
            ids[row[0]] = old[0]
            if old[1:] == row[1:width]:
                changes.unchanged += 1
            else:
                changed.append(row)
                if customer_at is not None:
                    changes.customers.add(old[customer_at])
    if customer_at is not None:
        changes.customers.update(map(itemgetter(1), chain(changes.new, changes.changed)))
    return changes


def with_allocations(conn: Connection, stored: dict[str, tuple]) -> dict[str, tuple]:
    """Each stored payment (id, *values) with its allocations ((document ref, cents), ...) appended."""
    by_id: dict[int, list[tuple[str, int]]] = {}
    ids = [v[0] for v in stored.values()]
    sql = (
        "SELECT payment_id, document_ref, amount_cents FROM allocation WHERE payment_id IN ({ids})"
        " ORDER BY payment_id, position"
    )
    for pid, ref, cents in fetch_in(conn, sql, ids):
        by_id.setdefault(pid, []).append((ref, cents))
    return {ref: (*v, tuple(by_id.get(v[0], ()))) for ref, v in stored.items()}
