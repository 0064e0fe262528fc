"""Small SQL helpers shared by the storage modules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

IN_LIMIT = 900  # below SQLite's default bound on parameters in one statement


def chunks(seq: Sequence, size: int = IN_LIMIT) -> Iterator[Sequence]:
    """Consecutive slices of at most `size` items (IN lists stay under the drivers' parameter limits)."""
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def dialect_insert(conn: Connection, table):  # noqa: ANN001, ANN201
    """INSERT with ON CONFLICT support (both dialects spell it the same way)."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)
