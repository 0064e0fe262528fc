"""A database the command cannot use: one line naming it (never its password), exit 1, no traceback.

DESIGN "Interfaces": a command that cannot reach its database (server down, unknown database, bad
URL, unwritable SQLite path) exits non-zero with one line naming the database, not a traceback.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import COLLECTBOT, POSTGRES_URL, cli_env


def run(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(url)
    return subprocess.run([COLLECTBOT, *args], env=env, cwd=cwd, text=True, capture_output=True, timeout=60)


CASES = [  # (url, what the line says, how it names the database, the command that meets it)
    (
        "postgresql+psycopg://collect:s3cr3t-pw@127.0.0.1:1/ledger",
        "Connection refused",
        "postgresql+psycopg://collect:***@127.0.0.1:1/ledger",
        ("balance", "ACME"),
    ),
    (
        "postgres://collect:s3cr3t-pw@127.0.0.1/ledger",
        "postgresql+psycopg://",
        "postgres://collect:***@127.0.0.1",
        ("sweep", "--dry-run"),
    ),
    (
        "sqlite:////no/such/folder/ledger.db",
        "/no/such/folder does not exist",
        "sqlite:////no/such/folder/ledger.db",
        ("db", "upgrade"),
    ),
    ("not a url s3cr3t-pw", "is not a database URL", "COLLECTBOT_DATABASE_URL", ("report", "aging")),
    (
        "mysql://collect:s3cr3t-pw@localhost/ledger",
        "unsupported driver",
        "mysql://collect:***@localhost/ledger",
        ("timeline", "ACME"),
    ),
]


@pytest.mark.parametrize(("url", "reason", "named", "command"), CASES, ids=[c[0].split(":")[0] for c in CASES])
def test_a_database_that_cannot_be_used_is_one_line(
    tmp_path: Path, url: str, reason: str, named: str, command: tuple[str, ...]
) -> None:
    res = run(url, tmp_path, *command)
    assert res.returncode == 1
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and reason in lines[0] and named in lines[0]
    assert "s3cr3t-pw" not in res.stderr


def test_a_file_that_is_not_a_sqlite_database(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("shopping list\n" * 100)
    res = run(f"sqlite:///{tmp_path}/notes.db", tmp_path, "balance", "ACME")
    assert res.returncode == 1
    expected = f"error: cannot use database sqlite:///{tmp_path}/notes.db: file is not a database"
    assert res.stderr.strip().splitlines() == [expected]


def test_no_lock_file_is_left_in_the_working_directory(tmp_path: Path) -> None:
    res = run("sqlite:///./collectbot.db", tmp_path, "db", "upgrade")
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(tmp_path)) == ["collectbot.db"]


if POSTGRES_URL:  # a real server to ask for a database it does not have

    def test_an_unknown_postgres_database_is_named(tmp_path: Path) -> None:
        from sqlalchemy.engine import make_url

        url = make_url(POSTGRES_URL).set(database="collectbot_no_such_db", password="s3cr3t-pw")
        res = run(url.render_as_string(hide_password=False), tmp_path, "balance", "ACME")
        assert res.returncode == 1
        (line,) = res.stderr.strip().splitlines()
        assert 'database "collectbot_no_such_db" does not exist' in line and "s3cr3t-pw" not in line
