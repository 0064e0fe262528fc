"""Engine and sessions: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build the engine for `url`; SQLite gets the pragmas the application relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, echo=echo, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # Let SQLAlchemy, not pysqlite, issue BEGIN, so that BEGIN IMMEDIATE works.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if parsed.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            # Writers take the lock at BEGIN: no deadlock-by-upgrade between two sweeps. Readers
            # (`reading`) take none: in WAL mode they see a snapshot and never wait for a writer.
            if conn.get_execution_options().get(_READ_ONLY):
                conn.exec_driver_sql("BEGIN DEFERRED")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


_READ_ONLY = "collectbot_read_only"


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only: one consistent snapshot, and on SQLite no write lock.

    Every other transaction (`engine.begin()`, `engine.connect()`) begins with SQLite's
    BEGIN IMMEDIATE, so two writers never deadlock upgrading a read lock; a read that took
    that lock would stall a sweep's writes (and wait for them). Reads only: on SQLite a write
    through this connection would have to upgrade its lock and can fail with "database is
    locked" instead of waiting. PostgreSQL: a plain transaction, rolled back at the end.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(**{_READ_ONLY: True})
        try:
            yield conn
        finally:
            conn.rollback()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
