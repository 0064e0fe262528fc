"""Everything a database holds, to compare before and after: "nothing written" checked, not assumed."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table (sorted, as text), the schema's bookkeeping left out."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names()) - {"alembic_version"}
        if conn.dialect.name == "sqlite":  # FTS5 tables cannot be scanned; their shadow tables hold the rows
            names -= set(conn.execute(text(
                "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")).scalars())
        state = {}
        for name in sorted(names):
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            state[name] = sorted(tuple(map(repr, row)) for row in rows)
        return state


def counts(engine: Engine) -> dict[str, int]:
    """Rows per table."""
    return {name: len(rows) for name, rows in snapshot(engine).items()}


def differences(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, int]:
    """Tables whose rows changed, with the number of rows added or removed (0: changed in place)."""
    return {
        name: len(after.get(name, [])) - len(before.get(name, []))
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
