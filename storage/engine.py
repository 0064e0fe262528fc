"""Engine and sessions: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import Session


class DatabaseUnavailable(Exception):
    """The database cannot be used; the message is one line that names it, never with its password.

    DESIGN "Interfaces": a command that cannot reach its database (server down, unknown database,
    bad URL, unwritable SQLite path) exits non-zero with one line naming the database.
    """


_USERINFO = re.compile(r"([^/@:]*):[^/@:]*@")


def database_name(url: str | URL) -> str:
    """How to name a database to a person: the URL with its password masked (`***`)."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _USERINFO.sub(r"//\1:***@", url)


def failure_reason(exc: BaseException, url: str | URL | None = None) -> str:
    """The first line of a database error, without SQLAlchemy's background link or the password."""
    inner = getattr(exc, "orig", None) or exc
    text = " ".join(str(inner).split("\n", 1)[0].split()).strip() or type(inner).__name__
    password = (url if isinstance(url, URL) else make_url(url)).password if url else None
    if password:
        text = text.replace(str(password), "***")
    return text.removeprefix("connection failed: ")


def open_database(url: str) -> Engine:
    """An engine on `url` with the schema brought up to date (storage.migrate.ensure_schema).

    Raises DatabaseUnavailable with one line for: a string that is not a database URL, a driver
    that is not installed (`postgres://` is suggested its right spelling), a SQLite file whose
    directory does not exist or that is not a SQLite database or cannot be written, and a
    PostgreSQL server that does not answer or lacks the database.
    """
    from storage.migrate import ensure_schema

    try:
        parsed = make_url(url)
    except ArgumentError:
        # Not echoed: what is not a URL cannot be told apart from a password pasted by mistake.
        raise DatabaseUnavailable(
            "COLLECTBOT_DATABASE_URL is not a database URL "
            "(e.g. sqlite:///./collectbot.db or postgresql+psycopg://user@host/db)"
        ) from None
    name = database_name(parsed)
    if parsed.drivername in ("postgres", "postgresql+psycopg2") or parsed.drivername.startswith("postgres+"):
        raise DatabaseUnavailable(f"database {name}: write postgresql+psycopg://... (the driver is psycopg 3)")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise DatabaseUnavailable(f"database {name}: the directory {folder} does not exist")
    try:
        engine = make_engine(url)
    except (NoSuchModuleError, ModuleNotFoundError, ArgumentError) as exc:
        raise DatabaseUnavailable(
            f"database {name}: unsupported driver ({failure_reason(exc)}); use sqlite:/// or postgresql+psycopg://"
        ) from None
    try:
        ensure_schema(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnavailable(f"cannot use database {name}: {failure_reason(exc, parsed)}") from None
    return engine


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
    """Whether the engine is SQLite (the few places whose SQL differs by dialect ask this)."""
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
