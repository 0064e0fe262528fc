"""Sales heads-ups given, one row per (item, step): at most one heads-up per (item, step), ever.

The message to the rep is a staff alert (storage.outbox.add_alert), one per customer per
sweep, recorded in the same transaction as these rows (DESIGN "Ladder dates and windows").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, update

from storage.rawsql import fetch_in
from storage.sql import dialect_insert
from storage.tables import HeadsUp

_GIVEN = (
    "SELECT h.customer_id, d.ref, h.step FROM heads_up h JOIN document d ON d.id = h.document_id"
    " WHERE h.customer_id IN ({ids})"
)


def given(conn: Connection, customer_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    """customer id -> {(document ref, step)} whose sales heads-up was already given."""
    out: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for cid, ref, step in fetch_in(conn, _GIVEN, customer_ids):
        out[cid].add((ref, step))
    return out


def claim(
    conn: Connection, customer_id: int, wanted: Sequence[tuple[int, str, date]], now: datetime
) -> set[tuple[int, str]]:
    """Record heads-ups for (document id, step, projected local date); returns the (document id, step)
    pairs this caller won. A pair already recorded (by an earlier sweep or a racing one) is not."""
    t = HeadsUp.__table__
    stmt = dialect_insert(conn, t).on_conflict_do_nothing(index_elements=["document_id", "step"])
    stmt = stmt.returning(t.c.document_id, t.c.step)
    won: set[tuple[int, str]] = set()
    for doc_id, step, when in wanted:  # one by one: RETURNING with executemany is not portable
        row = {"customer_id": customer_id, "document_id": doc_id, "step": step, "projected_on": when,
               "alert_key": "", "created_at": now}
        won.update((d, s) for d, s in conn.execute(stmt, row))
    return won


def name_alert(conn: Connection, pairs: Sequence[tuple[int, str]], key: str) -> None:
    """Note which staff alert told the rep about these (document id, step) pairs."""
    t = HeadsUp.__table__
    for doc_id, step in pairs:
        conn.execute(update(t).where(t.c.document_id == doc_id, t.c.step == step).values(alert_key=key))
