"""Step approvals: which gated steps (policy `sales_approval`) sales agreed to, item by item."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from storage.sql import chunks
from storage.sql import dialect_insert as _insert
from storage.tables import Document, StepApproval


def approved(conn: Connection, customer_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    """customer id -> {(document ref, step)} agreed to."""
    t, d = StepApproval.__table__, Document.__table__
    out: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for chunk in chunks(list(customer_ids)):
        q = (
            select(t.c.customer_id, d.c.ref, t.c.step)
            .join(d, d.c.id == t.c.document_id)
            .where(t.c.customer_id.in_(chunk))
        )
        for cid, ref, step in conn.execute(q):
            out[cid].add((ref, step))
    return out


def approve(
    conn: Connection, customer_id: int, document_ids: Sequence[int], step: str, *, actor: str, at: datetime
) -> int:
    """Record agreement for these documents; returns how many were new (agreeing twice changes nothing)."""
    t = StepApproval.__table__
    stmt = _insert(conn, t).on_conflict_do_nothing(index_elements=["document_id", "step"]).returning(t.c.id)
    new = 0
    for doc_id in document_ids:
        row = {"customer_id": customer_id, "document_id": doc_id, "step": step, "approved_by": actor, "approved_at": at}
        new += conn.execute(stmt, row).first() is not None
    return new
