"""Fixtures of the fault tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """(URL of a fresh schema on the test server, an admin engine): for tests that need PostgreSQL
    whatever the backend parameter (several instances on one server, sessions cut)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema = f"t_{uuid.uuid4().hex}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False), admin
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
