"""Shared fixtures: a fresh database per test on every backend, and the real `collectbot` CLI.

SQLite always runs. PostgreSQL runs only when COLLECTBOT_TEST_POSTGRES_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); otherwise its parameter is
never generated, so nothing is reported as skipped. Each PostgreSQL database is a
fresh schema selected through libpq's `options=-csearch_path=<schema>`, dropped
afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
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
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with _postgres_admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return fresh


@pytest.fixture
def database_url(new_database: NewDatabase, tmp_path: Path) -> Iterator[str]:
    with new_database(tmp_path) as url:
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
