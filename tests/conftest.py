"""Shared fixtures: a fresh database per test on every backend, and the real `collectbot` CLI.

SQLite always runs. PostgreSQL runs only when COLLECTBOT_TEST_POSTGRES_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); otherwise its parameter is
never generated, so nothing is reported as skipped. Each PostgreSQL database is a
schema of its own selected through libpq's `options=-csearch_path=<schema>`.

`database_url` (and `engine`, `cli`) is a database already at head: migrating costs a
second or more per test, so each pytest process (each xdist worker) migrates once, with
the real migrations, and every test gets a copy of that result. On SQLite the copy is the
template file copied; on PostgreSQL a schema at head is emptied after its test (every row
deleted, every sequence restarted, in one transaction) and handed to the next test, but
only when its structure (tables, columns, defaults, constraints, indexes, the Alembic
revision) is still the template's; otherwise it is dropped. `empty_database_url` and
`new_database` give an empty database, for tests of migrating itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url

from storage.engine import make_engine
from storage.migrate import ensure_schema
from tests.fuzz import profile as _fuzz_profiles  # noqa: F401 - registers fuzz-ci and thorough for --hypothesis-profile

pytest_plugins = ["tests.fakes.fixtures"]  # the fake Telegram and Slack servers

POSTGRES_URL = os.environ.get("COLLECTBOT_TEST_POSTGRES_URL", "").strip()
COLLECTBOT = str(Path(sys.executable).parent / "collectbot")

BACKENDS = [pytest.param("sqlite", id="sqlite")]
if POSTGRES_URL:
    BACKENDS.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))

# Settings the CLI subprocess must not inherit from the developer's shell.
_FOREIGN_ENV = ("COLLECTBOT_", "TELEGRAM_", "SLACK_")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs against COLLECTBOT_TEST_POSTGRES_URL")


NewDatabase = Callable[[Path], AbstractContextManager[str]]


@pytest.fixture(scope="session", autouse=True)
def _temp_dir_of_the_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """TMPDIR is a directory of this pytest run, for this process and the `collectbot` processes it starts.

    What the code puts in the temp directory (a SQLite database's migration lock,
    storage.migrate.upgrade_lock_file: one per database file) then goes with the run's
    other files (pytest keeps the last three runs) instead of piling up in /tmp.
    """
    run_tmp = tmp_path_factory.mktemp("tmp", numbered=False)
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(run_tmp)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    yield
    if before is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = before
    tempfile.tempdir = None


@pytest.fixture(autouse=True)
def _release_claim_sessions() -> Iterator[None]:
    """Each test's PostgreSQL claim sessions end with it (bot.scheduler.claims keeps one per engine)."""
    yield
    from bot.scheduler.claims import release_claim_holders

    release_claim_holders()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def _postgres_admin(backend: str) -> Iterator[Engine | None]:
    if backend != "postgres":
        yield None
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def new_database(backend: str, _postgres_admin: Engine | None) -> NewDatabase:
    """`with new_database(directory) as url:` an empty database, removed afterwards."""

    @contextmanager
    def fresh(directory: Path) -> Iterator[str]:
        if backend == "sqlite":
            yield f"sqlite:///{directory}/t.db"
            return
        assert _postgres_admin is not None
        schema = f"t_{uuid.uuid4().hex}"
        with _postgres_admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield _schema_url(schema)
        finally:
            with _postgres_admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return fresh


def _schema_url(schema: str) -> str:
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


# What makes two schemas the same database to a test: every relation, column (type, NOT NULL,
# default), constraint, index, function and trigger, and the Alembic revision. Run with the
# search_path on the schema, so that nothing in it is qualified by the schema's own name
# (pg_get_indexdef qualifies the table whatever the path: that prefix is taken out).
_PG_STRUCTURE = """
SELECT md5(string_agg(item, E'\\n' ORDER BY item)) FROM (
  SELECT format('rel %s %s', relname, relkind) AS item FROM pg_class
    WHERE relnamespace = current_schema()::regnamespace
  UNION ALL
  SELECT format('col %s.%s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) FROM pg_constraint
    WHERE connamespace = current_schema()::regnamespace
  UNION ALL
  SELECT format('idx %s', replace(pg_get_indexdef(i.indexrelid), quote_ident(current_schema()) || '.', ''))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace = current_schema()::regnamespace
  UNION ALL
  SELECT format('fn %s', oid::regprocedure) FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
  UNION ALL
  SELECT format('trg %s', t.tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
  UNION ALL
  SELECT format('rev %s', version_num) FROM alembic_version
) structure
"""


class _PostgresSchemas:
    """Schemas at head for one pytest process: migrated once, then emptied and reused (see the module doc)."""

    def __init__(self, admin: Engine) -> None:
        self.admin = admin
        self.maintenance = create_engine(POSTGRES_URL)
        self.free: list[str] = []
        self.structure: str | None = None
        self.tables: list[str] = []  # children before parents: the order rows can be deleted in
        self.sequences: list[str] = []

    def _create(self) -> str:
        schema = f"t_{uuid.uuid4().hex}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        eng = make_engine(_schema_url(schema))
        try:
            ensure_schema(eng)
        finally:
            eng.dispose()
        if self.structure is None:
            with self.maintenance.begin() as conn:
                conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
                self.structure = conn.execute(text(_PG_STRUCTURE)).scalar_one()
                meta = MetaData()
                meta.reflect(bind=conn)
                self.tables = [t.name for t in reversed(meta.sorted_tables) if t.name != "alembic_version"]
                self.sequences = list(conn.execute(text(
                    "SELECT relname FROM pg_class WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace"
                )).scalars())
        return schema

    def take(self) -> str:
        """A schema at head with no rows."""
        return self.free.pop() if self.free else self._create()

    def give_back(self, schema: str) -> None:
        """Empty `schema` for the next test if it still has the template's structure; drop it otherwise."""
        try:
            with self.maintenance.begin() as conn:
                conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                if conn.execute(text(_PG_STRUCTURE)).scalar_one() != self.structure:
                    raise LookupError("the test changed the schema")
                for table in self.tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
                for sequence in self.sequences:
                    conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        except Exception:  # noqa: BLE001 - whatever went wrong, the schema is not reused
            self.drop(schema)
        else:
            self.free.append(schema)

    def drop(self, schema: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    def close(self) -> None:
        for schema in self.free:
            self.drop(schema)
        self.free.clear()
        self.maintenance.dispose()


@pytest.fixture(scope="session")
def migrated_database(
    backend: str, _postgres_admin: Engine | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewDatabase]:
    """`with migrated_database(directory) as url:` a database at head with no rows, removed (or
    emptied for the next test) afterwards. The template is migrated once per pytest process."""
    if backend == "sqlite":
        template = tmp_path_factory.mktemp("template") / "template.db"
        eng = make_engine(f"sqlite:///{template}")
        ensure_schema(eng)
        eng.dispose()  # the last connection closed: WAL checkpointed, one self-contained file
        assert not Path(f"{template}-wal").exists()

        @contextmanager
        def copied(directory: Path) -> Iterator[str]:
            shutil.copyfile(template, directory / "t.db")
            yield f"sqlite:///{directory}/t.db"

        yield copied
        return

    assert _postgres_admin is not None
    schemas = _PostgresSchemas(_postgres_admin)

    @contextmanager
    def reused(directory: Path) -> Iterator[str]:
        schema = schemas.take()
        try:
            yield _schema_url(schema)
        finally:
            schemas.give_back(schema)

    yield reused
    schemas.close()


@pytest.fixture
def database_url(migrated_database: NewDatabase, tmp_path: Path) -> Iterator[str]:
    """A database at head with no rows (see the module doc)."""
    with migrated_database(tmp_path) as url:
        yield url


@pytest.fixture
def empty_database_url(new_database: NewDatabase, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all: the first command or `ensure_schema` migrates it."""
    directory = tmp_path / "empty"
    directory.mkdir()
    with new_database(directory) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    ensure_schema(eng)
    yield eng
    eng.dispose()


def cli_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV)}
    env.update(COLLECTBOT_DATABASE_URL=database_url, COLLECTBOT_TIMEZONE="UTC")
    return env


@dataclass(frozen=True)
class Cli:
    """The installed `collectbot` console script, run as a real process."""

    database_url: str
    cwd: Path
    extra_env: tuple[tuple[str, str], ...] = ()

    def with_env(self, **env: str) -> Cli:
        """The same CLI with these variables set (e.g. the fake Telegram's TELEGRAM_BOT_TOKEN)."""
        return Cli(self.database_url, self.cwd, (*self.extra_env, *env.items()))

    def __call__(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [COLLECTBOT, *map(str, args)],
            env=cli_env(self.database_url) | dict(self.extra_env),
            cwd=self.cwd,
            text=True,
            capture_output=True,
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def cli_for() -> Callable[[str, Path], Cli]:
    """A CLI bound to any database (for module-scoped, shared databases)."""
    return Cli


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(database_url, tmp_path)
