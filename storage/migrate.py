"""Alembic, driven from code: `collectbot db upgrade` and the automatic upgrade.

Every command calls `ensure_schema`, which costs one query when the database is
already at head. Two processes upgrading at once are serialised by a lock (a
file lock in the temp directory for a SQLite database, an advisory lock on
PostgreSQL).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, inspect, text

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0014_rate_holder"
_PG_LOCK_KEY = 0x636F6C6C  # "coll"


def _config(engine: Engine):  # noqa: ANN202
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None before the first migration."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_lock_file(engine: Engine) -> str | None:
    """The file that serialises migrations of a SQLite database file (None for other databases).

    It lives in the temp directory, not beside the database (often the working directory): one
    per database path, empty, and shared by every process on this host. It is left in place
    (removing a lock file others may wait on is a race); a program that owns a throw-away
    database, like `collectbot demo`, removes it with the database.
    """
    return sqlite_lock_file(engine, "migrate")


def sqlite_lock_file(engine: Engine, purpose: str) -> str | None:
    """`collectbot-<purpose>-<digest of the database path>.lock` in the temp directory: a file every
    process on this host using that SQLite database finds (None for other databases, or in memory)."""
    db = engine.url.database if engine.dialect.name == "sqlite" else None
    if not db or db == ":memory:" or db.startswith("file::memory:"):
        return None
    digest = hashlib.sha256(os.path.abspath(db).encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"collectbot-{purpose}-{digest}.lock")


@contextmanager
def _upgrade_lock(engine: Engine):  # noqa: ANN202
    if engine.dialect.name == "sqlite":
        lock = upgrade_lock_file(engine)
        if lock is None:
            yield
            return
        with open(lock, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
    else:
        yield


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (default head), one process at a time (a file lock in
    the temp directory on SQLite, an advisory lock on PostgreSQL), so two commands started
    together never migrate twice.
    """
    from alembic import command

    with _upgrade_lock(engine):
        command.upgrade(_config(engine), revision)


def ensure_schema(engine: Engine) -> None:
    """Bring the database to head unless it is there already (one query)."""
    if current_revision(engine) != HEAD_REVISION:
        upgrade(engine)
