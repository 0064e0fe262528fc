"""Alembic migrations: empty -> head builds the whole model, down and up again, on every backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers every table on the metadata)
from storage.customer_keys import in_model
from storage.engine import make_engine
from storage.migrate import HEAD_REVISION, MIGRATIONS_DIR, current_revision, ensure_schema, upgrade
from tests.conftest import Cli

MODEL_TABLES = set(SQLModel.metadata.tables)


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def table_names(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


@pytest.fixture
def empty_engine(empty_database_url: str) -> Iterator[Engine]:
    eng = make_engine(empty_database_url)
    yield eng
    eng.dispose()


def test_head_revision_constant_is_the_script_directory_head() -> None:
    assert HEAD_REVISION == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_upgrade_from_empty_creates_every_model_table(empty_engine: Engine) -> None:
    assert table_names(empty_engine) == set()
    assert current_revision(empty_engine) is None

    upgrade(empty_engine)

    assert MODEL_TABLES <= table_names(empty_engine)
    assert current_revision(empty_engine) == HEAD_REVISION


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": in_model})
        assert compare_metadata(ctx, SQLModel.metadata) == []


def test_downgrade_to_base_then_upgrade_again(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "base")
    assert table_names(engine) & MODEL_TABLES == set()
    assert current_revision(engine) is None

    upgrade(engine)
    assert MODEL_TABLES <= table_names(engine)
    assert current_revision(engine) == HEAD_REVISION


def test_ensure_schema_is_idempotent(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO customer (ref, name, aliases, segment, currency, "
                          "payment_terms_days, locale, timezone, country, sales_rep_slack_id, "
                          "credit_hold) VALUES ('C1', 'Kept', '', 'default', 'USD', 30, 'en', "
                          "'UTC', '', '', false)"))
    ensure_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM customer")).scalars().all() == ["Kept"]


def test_db_upgrade_command(empty_database_url: str, tmp_path) -> None:
    proc = Cli(empty_database_url, tmp_path)("db", "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    eng = make_engine(empty_database_url)
    try:
        assert current_revision(eng) == HEAD_REVISION
        assert MODEL_TABLES <= table_names(eng)
    finally:
        eng.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path}/wal.db")
    try:
        ensure_schema(eng)
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        eng.dispose()
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    raw = sqlite3.connect(tmp_path / "wal.db")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
