"""Who holds an outbox row, and whether that holder is still alive.

DESIGN "Reliability": claims on outbox rows die with their process or database session,
not on a timer. A row claimed by a holder that is gone was maybe sent, maybe not (`sending`:
it becomes `unknown`, never sent again, shown to staff) or certainly not (`pending`: anyone
may deliver it).

The holder's token names what dies with it:
- PostgreSQL: the server session of a connection the process keeps open for its whole life,
  as `pg:<backend pid>:<backend_start in µs>` (both in `pg_stat_activity`). Any process on any
  host sharing the database can tell whether that session still exists; if the process dies,
  or its session is cut (a server restart, a network partition), the claim is dead — and the
  process itself, whose in-flight claims then no longer match its new token, gives them up.
- SQLite: the local process, as `proc:<pid>:<start time in clock ticks>` (the start time keeps
  a recycled pid from passing for the original holder). A SQLite database is a local file, so
  the host name is not part of it: a claim left by a container that was restarted under a new
  host name is seen dead, not kept forever.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

log = logging.getLogger("collectbot.claims")

_PG = "pg:"
# Server-side TCP keepalives of the kept session (seconds): idle, then probes every interval, count times.
SESSION_KEEPALIVES = "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3"
_PROC = "proc:"


def _start_ticks(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def process_token(pid: int | None = None) -> str:
    """`proc:<pid>:<start ticks>` of a local process (this one by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{_PROC}{pid}:{_start_ticks(pid) or '0'}"


@dataclass
class ClaimHolder:
    """This process's identity on one database: the token its claims carry.

    On PostgreSQL it owns a dedicated connection, kept open (idle, autocommit) until `close`;
    the token is that connection's server session. `token` checks the session first and, if it
    was lost, opens a new one (a new token: claims made under the old one are dead to everyone,
    this process included).
    """

    engine: Engine
    _token: str = ""
    _conn: Connection | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def token(self) -> str:
        """The token to write into `claimed_by` now (str, at most 128 characters)."""
        if self.engine.dialect.name != "postgresql":
            return process_token()
        with self._lock:
            self._ensure()
            return self._token

    def _ensure(self) -> None:
        """(under _lock) A live session: the kept one, or a new one (a new token) if it was lost."""
        if self._conn is not None and not self._alive():
            log.warning("the claim holder's database session was lost; its claims are given up")
            self._drop()
        if self._conn is None:
            self._open()

    def _open(self) -> None:
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:  # the server notices a vanished host (no FIN) in about 25 s, not the OS's 2 hours: its claims die then
            conn.exec_driver_sql(SESSION_KEEPALIVES)
        except Exception:  # noqa: BLE001  (a server or pooler that refuses them: the OS's defaults)
            log.info("the claim holder's session keeps the server's TCP keepalive defaults")
        pid, started = conn.exec_driver_sql(
            "SELECT pid, (extract(epoch FROM backend_start) * 1000000)::bigint "
            "FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).one()
        self._conn, self._token = conn, f"{_PG}{pid}:{started}"

    def _alive(self) -> bool:
        try:
            self._conn.exec_driver_sql("SELECT 1")  # type: ignore[union-attr]
            return True
        except Exception:  # noqa: BLE001  (any failure means the session is gone)
            return False

    def _drop(self) -> None:
        conn, self._conn, self._token = self._conn, None, ""
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def try_advisory_lock(self, name: str) -> str | None:
        """Take PostgreSQL's session advisory lock `name` (scoped to the current schema) on this
        holder's session: the token it is held under, or None when another session holds it.

        The lock ends with the session, like the claims: a killed process or a cut connection frees
        it for the others at once. `token != the returned token` tells the lock was lost.
        """
        with self._lock:
            self._ensure()
            took = self._conn.exec_driver_sql(  # type: ignore[union-attr]
                "SELECT pg_try_advisory_lock(hashtextextended(current_schema() || ':' || %(name)s, 0))",
                {"name": name},
            ).scalar_one()
            return self._token if took else None

    def advisory_unlock(self, name: str) -> None:
        """Give up the advisory lock `name` taken by `try_advisory_lock` (nothing if the session is gone)."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.exec_driver_sql(
                    "SELECT pg_advisory_unlock(hashtextextended(current_schema() || ':' || %(name)s, 0))",
                    {"name": name},
                )
            except Exception:  # noqa: BLE001  (a lost session holds nothing any more)
                pass

    def close(self) -> None:
        """End the session: every claim of this holder is dead from now on."""
        with self._lock:
            self._drop()


_holders: weakref.WeakKeyDictionary[Engine, tuple[int, ClaimHolder]] = weakref.WeakKeyDictionary()
_holders_lock = threading.Lock()


def claim_holder(engine: Engine) -> ClaimHolder:
    """The one holder of this process for `engine` (a forked child gets its own)."""
    with _holders_lock:
        found = _holders.get(engine)
        if found is None or found[0] != os.getpid():
            found = (os.getpid(), ClaimHolder(engine))
            _holders[engine] = found
        return found[1]


def dead_holders(conn: Connection, tokens: Iterable[str]) -> set[str]:
    """The tokens among `tokens` whose process or database session is gone ("" — unclaimed — counts as dead).

    PostgreSQL sessions are looked up in `pg_stat_activity` (one query for all); local processes
    in /proc. A token of a kind this database cannot check (a `pg:` token on SQLite) or that is
    malformed cannot belong to a live holder of this database, so it is dead too.
    """
    wanted = set(tokens)
    dead: set[str] = set()
    sessions: dict[str, str] = {}
    for token in wanted:
        if token.startswith(_PG) and conn.dialect.name == "postgresql":
            sessions[token] = token
        elif token.startswith(_PROC):
            try:
                pid = int(token[len(_PROC) :].split(":", 1)[0])
            except ValueError:
                dead.add(token)
                continue
            if process_token(pid) != token:
                dead.add(token)
        else:
            dead.add(token)
    if sessions:
        live = {
            f"{_PG}{pid}:{started}"
            for pid, started in conn.exec_driver_sql(
                "SELECT pid, (extract(epoch FROM backend_start) * 1000000)::bigint FROM pg_stat_activity"
            )
        }
        dead.update(t for t in sessions if t not in live)
    return dead


def release_claim_holders() -> None:
    """Close every holder's kept session in this process (their claims are dead from then on).

    A holder keeps its engine alive (its connection refers to it), so a process that makes many
    engines (the test suite: one per test database) must release them or run out of PostgreSQL
    connections; `collectbot` itself makes one engine and its session ends with the process.
    """
    with _holders_lock:
        holders = [holder for _, holder in _holders.values()]
        _holders.clear()
    for holder in holders:
        holder.close()
