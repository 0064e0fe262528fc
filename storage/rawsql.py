"""Hot-path reads straight through the DBAPI cursor.

The sweep reads tens of thousands of rows for a few thousand customers; building
and compiling a SQLAlchemy statement with a 900-item IN list, then a Row object
per result, cost more than SQLite's own work. These helpers take plain SQL with
an `{ids}` slot, fill it with the driver's placeholders, and return tuples. The
driver gives dates back as ISO strings on SQLite and as `date` on PostgreSQL:
`as_date` and `as_utc` make both the domain's types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from storage.sql import chunks


def fetch_in(conn: Connection, sql: str, ids: Sequence[int], *params: object) -> Iterator[tuple]:
    """Rows of `sql` over chunks of ids: an `{ids}` slot for the IN list, then a `{p}` per extra parameter
    (every `{p}` after the `{ids}` slot in the text, since the values are bound in that order)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.cursor()
    try:
        for chunk in chunks(list(ids)):
            cursor.execute(sql.format(ids=",".join([mark] * len(chunk)), p=mark), (*chunk, *params))
            yield from cursor.fetchall()
    finally:
        cursor.close()


def fetch_all(conn: Connection, sql: str, *params: object) -> list[tuple]:
    """Rows of `sql`, a `{p}` slot for each parameter."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql.format(p=mark), params)
        return cursor.fetchall()
    finally:
        cursor.close()


def as_date(value: object) -> date | None:
    """A date column's value as a date (SQLite through the driver gives ISO text); None stays None."""
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return date.fromisoformat(value)  # type: ignore[arg-type]


def as_utc(value: object) -> datetime | None:
    """Aware UTC, like storage.types.UTCDateTime gives back."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)  # type: ignore[arg-type]
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
