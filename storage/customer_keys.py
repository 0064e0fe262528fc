"""customer_key: each customer's folded ref, name and aliases, and the trigram index over them.

The rules (what a key is, which rows a query probes, who wins) are bot.domain.names;
this module keeps the rows and asks the database's index:

* exact: `key IN (...)` through the B-tree on customer_key.key;
* lenient: the rows whose `search` text (the whole name's ASCII letters and digits) holds
  every trigram of enough of the probe's groups (`Probe.clauses`), through
  - SQLite: an FTS5 table with the `trigram` tokenizer (contentless, rowid =
    customer_key.id), kept here in step with customer_key;
  - PostgreSQL: a GIN index with pg_trgm's `gin_trgm_ops` on customer_key.search,
    which `search LIKE '%abc%'` uses.
  Both return the same rows: those that contain the trigrams as substrings, ranked by
  how many of the query's trigrams they hold (then shorter first, then by id).

Refs are exact-only keys (search NULL): a ref typed with a typo is someone else's ref.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from itertools import chain

from sqlalchemy import Connection

from bot.domain.names import CANDIDATE_LIMIT, Probe, key_rows
from storage.sql import chunks

FTS_TABLE = "customer_key_fts"
PG_INDEX = "ix_customer_key_search"
SCAN_LIMIT = 5000  # index rows ranked per probe at most (a query that is one common word)
PG_MERGE_MIN_ROWS = 1000  # keys written at once from which the GIN pending list is merged

# Contentless (the text is customer_key.search), rowids only (detail=none), no lengths
# (columnsize=0): the smallest and quickest FTS5 index for "which rows hold these trigrams".
SQLITE_FTS_DDL = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "search, content='', detail=none, columnsize=0, tokenize='trigram case_sensitive 1')"
)


def in_model(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Alembic's include_name: False for the trigram index, which migration 0003 makes outside
    the SQLModel tables (the FTS5 table and its shadow tables, the GIN index)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    return name != PG_INDEX


class TrigramIndexUnavailable(RuntimeError):
    """The database cannot hold the name index (no FTS5 trigram tokenizer, or pg_trgm not installable)."""


# --- writing -------------------------------------------------------------------------------------


def replace_keys(conn: Connection, customers: Sequence[tuple[int, str, str, str]]) -> None:
    """Make customer_key (and its trigram index) hold exactly these customers' keys.

    `customers`: (customer id, ref, name, aliases as imported, "|"-separated). Their keys
    become those of bot.domain.names.customer_keys; other customers' stay. Customers whose
    keys are already those are not touched (a re-import of the same file writes nothing
    here). Runs in the caller's transaction.
    """
    if not customers:
        return
    customers = list({c[0]: c for c in customers}.values())  # a customer given twice: the last one
    rows = key_rows(customers)
    top = conn.exec_driver_sql("SELECT max(id) FROM customer_key").scalar() or 0
    stale: list[tuple[int, str | None]] = []  # (id, search) of rows to remove
    if top:
        old = _rows_of(conn, sorted({c[0] for c in customers}))
        differ = {row[0] for row in {r[1:] for r in old}.symmetric_difference(rows)}
        stale = [(r[0], r[4]) for r in old if r[1] in differ]
        rows = [r for r in rows if r[0] in differ] if len(differ) < len(customers) else rows
    if conn.dialect.name == "sqlite":
        _sqlite_replace(conn, stale, rows, top)
        return
    for chunk in chunks([i for i, _ in stale], 50_000):
        conn.exec_driver_sql("DELETE FROM customer_key WHERE id = ANY(%s)", (list(chunk),))
    cursor = conn.connection.cursor()
    try:
        with cursor.copy("COPY customer_key (customer_id, key, whole, search) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()
    if len(rows) >= PG_MERGE_MIN_ROWS:
        # New GIN entries wait in the index's pending list, which every search then reads
        # through (a 200,000-customer import left 500 pages: 3x slower lookups) until
        # autovacuum merges it. Merge it now, in bulk.
        conn.exec_driver_sql("SELECT gin_clean_pending_list(%s::regclass)", (PG_INDEX,))


def _rows_of(conn: Connection, ids: list[int]) -> list[tuple]:
    """(id, customer id, key, whole, search) of these customers' rows, through the driver."""
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute(
                "SELECT id, customer_id, key, whole, search FROM customer_key "
                "WHERE customer_id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids),),
            )
            return cursor.fetchall()
        out: list[tuple] = []
        for chunk in chunks(ids, 50_000):
            cursor.execute(
                "SELECT id, customer_id, key, whole, search FROM customer_key WHERE customer_id = ANY(%s)",
                (list(chunk),),
            )
            out.extend(cursor.fetchall())
        return out
    finally:
        cursor.close()


Row = tuple[int, str, str | None, str | None]  # customer id, key, whole, search
REBUILD_MIN_ROWS = 10_000  # a load at least this big, and as big as the table, rebuilds its indexes


def _sqlite_replace(conn: Connection, stale: list[tuple[int, str | None]], rows: list[Row], top: int) -> None:
    """Stale rows out of the FTS index (a contentless table is told their text) and the table; new in.

    A load that at least doubles the table drops its B-tree indexes and builds them
    again after (one sort each instead of a B-tree insert per row), as ledger_writes does.
    """
    if stale:
        indexed = [(i, s) for i, s in stale if s is not None]
        if indexed:
            conn.exec_driver_sql(
                f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, search) VALUES ('delete', ?, ?)", indexed
            )
        conn.exec_driver_sql(
            "DELETE FROM customer_key WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps([i for i, _ in stale]),),
        )
    rebuild: list = []
    if len(rows) >= REBUILD_MIN_ROWS and len(rows) >= top:
        rebuild = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customer_key' AND sql IS NOT NULL"
        ).all()
        for name, _ in rebuild:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    _sqlite_insert(conn, rows)
    for _, create in rebuild:
        conn.exec_driver_sql(create)
    conn.exec_driver_sql(
        f"INSERT INTO {FTS_TABLE} (rowid, search) SELECT id, search FROM customer_key "
        "WHERE id > ? AND search IS NOT NULL",
        (top,),
    )


_PER_INSERT = 249  # rows per INSERT ... VALUES: under 999 parameters, the lowest limit SQLite has had


def _sqlite_insert(conn: Connection, rows: list[Row]) -> None:
    """One executemany of multi-row INSERTs (cheaper per row than one statement per row)."""
    insert = "INSERT INTO customer_key (customer_id, key, whole, search) VALUES "
    whole = len(rows) - len(rows) % _PER_INSERT
    if whole:
        flat = [tuple(chain.from_iterable(rows[i : i + _PER_INSERT])) for i in range(0, whole, _PER_INSERT)]
        conn.exec_driver_sql(insert + ", ".join(["(?, ?, ?, ?)"] * _PER_INSERT), flat)
    if whole < len(rows):
        conn.exec_driver_sql(insert + "(?, ?, ?, ?)", rows[whole:])


def rebuild(conn: Connection) -> int:
    """Every customer's keys again, from the customer rows (after a change of the folding rules).

    Returns the number of customers. SQLite's FTS table is emptied and refilled.
    """
    customers = [tuple(r) for r in conn.exec_driver_sql("SELECT id, ref, name, aliases FROM customer ORDER BY id")]
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")
    conn.exec_driver_sql("DELETE FROM customer_key")
    for chunk in chunks(customers, 50_000):
        replace_keys(conn, chunk)  # type: ignore[arg-type]
    return len(customers)


# --- reading -------------------------------------------------------------------------------------


Candidate = tuple[int, str, str]  # customer id, key, whole (the key when the row has no whole)


def exact(conn: Connection, keys: Sequence[str]) -> list[Candidate]:
    """The rows whose key is one of `keys`, by the B-tree on key."""
    if not keys:
        return []
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        "SELECT customer_id, key, coalesce(whole, key) FROM customer_key "
        f"WHERE key IN ({', '.join([mark] * len(keys))}) ORDER BY id"
    )
    return [tuple(row) for row in conn.exec_driver_sql(sql, tuple(keys))]


def candidates(conn: Connection, probe: Probe, limit: int = CANDIDATE_LIMIT) -> list[Candidate]:
    """The rows the probe finds, at most `limit`, best trigram overlap first.

    The index gives at most SCAN_LIMIT rows for ranking (a probe that is one common
    word finds more; which ones it gives is then the database's choice).
    """
    clauses = probe.clauses()
    if not clauses:
        return []
    rank = probe.rank or clauses[0]
    if conn.dialect.name == "sqlite":
        match = " OR ".join("(" + " AND ".join(_quote(g) for g in clause) + ")" for clause in clauses)
        score = " + ".join(["(instr(k.search, ?) > 0)"] * len(rank))
        sql = (
            "SELECT k.customer_id, k.key, coalesce(k.whole, k.key) FROM customer_key AS k WHERE k.id IN "
            f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT ?) "
            f"ORDER BY {score} DESC, length(k.search), k.id LIMIT ?"
        )
        params: tuple = (match, SCAN_LIMIT, *rank, limit)
    else:
        where = " OR ".join("(" + " AND ".join(["search LIKE %s"] * len(clause)) + ")" for clause in clauses)
        score = " + ".join(["(strpos(search, %s) > 0)::int"] * len(rank))
        sql = (
            "SELECT customer_id, key, coalesce(whole, key) FROM customer_key WHERE id IN "
            f"(SELECT id FROM customer_key WHERE {where} LIMIT %s) "
            f"ORDER BY {score} DESC, length(search), id LIMIT %s"
        )
        likes = [f"%{g}%" for clause in clauses for g in clause]  # trigrams are letters and digits only
        params = (*likes, SCAN_LIMIT, *rank, limit)
    return [tuple(row) for row in conn.exec_driver_sql(sql, params)]


def _quote(gram: str) -> str:
    return '"' + gram.replace('"', '""') + '"'


def keys_of(conn: Connection, customer_ids: Iterable[int]) -> list[Row]:
    """(customer id, key, whole, search) rows of these customers, sorted (for checks and tests)."""
    ids = sorted(set(customer_ids))
    out: list[Row] = []
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    for chunk in chunks(ids):
        marks = ", ".join([mark] * len(chunk))
        sql = f"SELECT customer_id, key, whole, search FROM customer_key WHERE customer_id IN ({marks})"
        out.extend(conn.exec_driver_sql(sql, tuple(chunk)))
    return sorted(out)
