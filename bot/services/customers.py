"""Finding a customer by ref, name or alias, the way a person types it.

An exact folded match is one indexed lookup on customer_key.key. Otherwise fuzzy
matching (bot.domain.names), by the cheapest way that settles it:

1. a process that keeps the keys (`name_index`, below; a long-running bot): the keys
   that begin or end like the query, found in memory (`NameIndex.resolve_near`);
2. a process that does not (a CLI run; a bot whose customers just changed): the keys
   that begin like the query, fetched through the index on customer_key.key as a few
   hundred key ranges (`resolve_near`). Without the keys that only end like the query
   this settles less: ties, and winners whose typo is past the query's first characters;
3. otherwise every key (`NameIndex.resolve`, the naive answer). Loading them takes about
   half a second at 200,000 customers; they are then kept per engine for the life of
   the process, and reused while customer_key is unchanged (its last rows are compared:
   one indexed query per fuzzy resolution). The next fuzzy query sorts them for way 1
   in a background thread (a second or so), meanwhile going by ways 2 and 3.

Only keys are kept; the customers of the few keys that score are looked up each time.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine, bindparam, select

from bot.domain.names import NameIndex, Resolution, fold, prefix_end, probe_prefixes, resolve_near
from storage.rawsql import fetch_in
from storage.tables import CustomerKey


class CustomerNotFound(LookupError):
    def __init__(self, query: str, suggestions: list[str]) -> None:
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no customer matches {query!r}{hint}")
        self.suggestions = suggestions


class CustomerAmbiguous(LookupError):
    def __init__(self, query: str, candidates: list[str]) -> None:
        super().__init__(f"{query!r} matches several customers: {', '.join(candidates)}")
        self.candidates = candidates


@dataclass(frozen=True)
class CustomerRow:
    id: int
    ref: str
    name: str
    segment: str
    currency: str
    credit_limit_cents: int | None
    payment_terms_days: int
    locale: str
    timezone: str
    country: str
    sales_rep_slack_id: str
    credit_hold: bool


_BY_ID = f"SELECT {', '.join(CustomerRow.__dataclass_fields__)} FROM customer WHERE id IN ({{ids}})"


def customers_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, CustomerRow]:
    """Through the driver (the sweep reads thousands per run); SQLite gives credit_hold back as 0/1."""
    out: dict[int, CustomerRow] = {}
    for row in fetch_in(conn, _BY_ID, ids):
        c = CustomerRow(*row)
        out[c.id] = c if isinstance(c.credit_hold, bool) else replace(c, credit_hold=bool(c.credit_hold))
    return out


def _label(c: CustomerRow) -> str:
    return f"{c.ref} ({c.name})"


def resolve(conn: Connection, query: str) -> CustomerRow:
    """Exact folded match by index first; fuzzy (near keys, then every key) only when that fails."""
    k = CustomerKey.__table__
    key = fold(query)
    ids = sorted(set(conn.execute(select(k.c.customer_id).where(k.c.key == key)).scalars())) if key else []
    if len(ids) == 1:
        return customers_by_id(conn, ids)[ids[0]]
    if not ids:
        res = _resolve_fuzzy(conn, query)
        if res.match is not None:
            return customers_by_id(conn, [res.match])[res.match]
        if not res.candidates:
            found = customers_by_id(conn, list(res.suggestions))
            raise CustomerNotFound(query, [_label(found[i]) for i in res.suggestions if i in found])
        ids = list(res.candidates)
    found = customers_by_id(conn, ids)
    raise CustomerAmbiguous(query, [_label(found[i]) for i in ids if i in found])


def _resolve_fuzzy(conn: Connection, query: str) -> Resolution:
    key = fold(query)
    if not key:
        return Resolution()

    def ids_of(keys: list[str]) -> dict[str, list[int]]:
        return _ids_of(conn, keys)

    index = _kept_index(conn)
    if index is not None:
        if index.near_ready():
            res = index.resolve_near(query, ids_of)
            return res if res is not None else index.resolve(query, ids_of)
        _prepare_in_background(index)  # a second fuzzy query: a process that lives on
    if _ranges_follow_code_points(conn):
        res = resolve_near(query, _near_keys(conn, key), ids_of)
        if res is not None:
            return res
    return (index if index is not None else name_index(conn)).resolve(query, ids_of)


_preparing: weakref.WeakSet[NameIndex] = weakref.WeakSet()


def _prepare_in_background(index: NameIndex) -> None:
    """Sort the kept keys for NameIndex.resolve_near off the request path (a second or so, once)."""
    with _lock:
        if index in _preparing:
            return
        _preparing.add(index)
    threading.Thread(target=index.prepare_near, name="collectbot-name-index", daemon=True).start()


# --- the near keys, through the customer_key.key index --------------------------------------


def _near_keys(conn: Connection, key: str) -> list[str]:
    """Distinct keys starting with any of probe_prefixes(key), in the order of their first row (id).

    One statement, one index range scan per prefix (~700, most of them empty); passed
    straight to the driver, as compiling ~1,400 bind parameters costs more than running it.
    """
    prefixes = probe_prefixes(key)
    ends = [prefix_end(p) for p in prefixes]
    if conn.dialect.name == "postgresql":
        # Joined to an array of ranges: LATERAL and OFFSET 0 keep the planner from turning
        # the ~700 index probes into one scan of the table, and JIT (which the join's row
        # estimate would trigger) from compiling for longer than the probes take.
        jit = conn.exec_driver_sql("SELECT current_setting('jit', true)").scalar()
        conn.exec_driver_sql("SELECT set_config('jit', 'off', true)")
        try:
            rows = conn.exec_driver_sql(
                "SELECT k.id, k.key FROM unnest(%s::text[], %s::text[]) AS r(lo, hi) CROSS JOIN LATERAL "
                "(SELECT id, key FROM customer_key WHERE key >= r.lo AND key < r.hi OFFSET 0) AS k",
                (prefixes, ends),
            ).all()
        finally:
            if jit is not None:
                conn.exec_driver_sql("SELECT set_config('jit', %s, true)", (jit,))
    else:  # SQLite: a VALUES list joined to the index (OR-ed ranges would scan the table)
        sql = (
            "WITH r(lo, hi) AS (VALUES "
            + ", ".join(["(?, ?)"] * len(prefixes))
            + ") SELECT k.id, k.key FROM r JOIN customer_key AS k ON k.key >= r.lo AND k.key < r.hi"
        )
        rows = conn.exec_driver_sql(sql, tuple(b for pair in zip(prefixes, ends, strict=True) for b in pair)).all()
    rows.sort()
    return list(dict.fromkeys(found for _, found in rows))


_KEYS = CustomerKey.__table__
_IDS_OF = select(_KEYS.c.customer_id, _KEYS.c.key).where(_KEYS.c.key.in_(bindparam("keys", expanding=True)))


def _ids_of(conn: Connection, keys: list[str]) -> dict[str, list[int]]:
    """The customers of each of a few keys (the ones that scored), by index."""
    out: dict[str, list[int]] = {}
    for cid, key in conn.execute(_IDS_OF, {"keys": keys}):
        out.setdefault(key, []).append(cid)
    return out


_code_point_order: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _ranges_follow_code_points(conn: Connection) -> bool:
    """Whether the key ranges of `_near_keys` work here: the database orders keys by code point.

    SQLite compares keys as UTF-8 bytes (BINARY), which is code-point order. PostgreSQL
    uses the database's collation: C and C.UTF-8 qualify, linguistic ones (en_US, ICU)
    do not (they put "a" before "B" and weigh spaces last); asked once per engine.
    """
    known = _code_point_order.get(conn.engine)
    if known is None:
        if conn.dialect.name == "sqlite":
            known = conn.dialect.paramstyle == "qmark"
        elif conn.dialect.name == "postgresql":
            known = conn.dialect.paramstyle in ("format", "pyformat") and bool(
                conn.exec_driver_sql("SELECT 'B' < 'a' AND 'a b' < 'ab' AND 'z' < 'é' AND 'é' < 'ſ'").scalar()
            )
        else:
            known = False
        _code_point_order[conn.engine] = known
    return known


# --- every key, kept per engine ------------------------------------------------------------

_TAIL = 32  # the last rows of customer_key, by id, that tell whether it changed


@dataclass(frozen=True)
class _Loaded:
    stamp: tuple[tuple[int, int, str], ...]
    index: NameIndex


_loaded: weakref.WeakKeyDictionary[Engine, _Loaded] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _stamp(conn: Connection) -> tuple[tuple[int, int, str], ...]:
    """customer_key's last rows. Keys change only as whole sets per customer (delete, insert),
    so any change inserts rows, which take the highest ids: PostgreSQL's sequence never
    gives an id twice; SQLite reuses the ids of deleted last rows, for new rows that
    are then compared by content."""
    k = CustomerKey.__table__
    rows = conn.execute(select(k.c.id, k.c.customer_id, k.c.key).order_by(k.c.id.desc()).limit(_TAIL))
    return tuple((i, c, s) for i, c, s in rows)


def _kept_index(conn: Connection) -> NameIndex | None:
    """The kept index, if there is one and customer_key has not changed since it was loaded."""
    with _lock:
        loaded = _loaded.get(conn.engine)
    if loaded is None:
        return None
    if loaded.stamp != _stamp(conn):
        forget_name_index(conn.engine)
        return None
    return loaded.index


def name_index(conn: Connection) -> NameIndex:
    """Every customer's keys (first-seen by id), loaded once per engine and again when customer_key changed."""
    stamp = _stamp(conn)  # before loading: a change in between makes the next check reload
    with _lock:
        loaded = _loaded.get(conn.engine)
    if loaded is not None and loaded.stamp == stamp:
        return loaded.index
    index = NameIndex.of_keys(_all_keys(conn))
    with _lock:
        _loaded[conn.engine] = _Loaded(stamp, index)
    return index


def _all_keys(conn: Connection) -> list[str]:
    """Every key in id order. One aggregated string where the database can build it: 430,000
    rows as Python tuples cost twice as much."""
    if conn.dialect.name == "sqlite":  # a table scan visits rows in rowid (id) order
        joined = conn.exec_driver_sql("SELECT group_concat(key, char(10)) FROM customer_key NOT INDEXED").scalar()
    elif conn.dialect.name == "postgresql":
        joined = conn.exec_driver_sql("SELECT string_agg(key, E'\\n' ORDER BY id) FROM customer_key").scalar()
    else:
        return list(conn.execute(select(CustomerKey.__table__.c.key).order_by(CustomerKey.__table__.c.id)).scalars())
    return joined.split("\n") if joined else []


def kept_name_index(engine: Engine) -> NameIndex | None:
    """The index `name_index` keeps for this engine, if any (not checked against the database)."""
    with _lock:
        loaded = _loaded.get(engine)
    return None if loaded is None else loaded.index


def forget_name_index(engine: Engine) -> None:
    """Drop the kept index (it is loaded again when next needed)."""
    with _lock:
        _loaded.pop(engine, None)
