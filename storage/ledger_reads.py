"""Reading a customer's ledger as the domain's plain records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Connection, select

from bot.domain.ledger import Doc, Pay
from storage.sql import chunks as _chunks
from storage.tables import Allocation, Document, Payment


def ledgers(conn: Connection, customer_ids: Iterable[int]) -> dict[int, tuple[list[Doc], list[Pay]]]:
    """Documents and confirmed payments (with allocations) of each customer, in bulk."""
    ids = sorted(set(customer_ids))
    out: dict[int, tuple[list[Doc], list[Pay]]] = {cid: ([], []) for cid in ids}
    d, p, a = Document.__table__, Payment.__table__, Allocation.__table__
    for chunk in _chunks(ids):
        q = select(
            d.c.customer_id,
            d.c.ref,
            d.c.type,
            d.c.issue_date,
            d.c.due_date,
            d.c.amount_cents,
            d.c.currency,
            d.c.related_ref,
        ).where(d.c.customer_id.in_(chunk))
        for cid, ref, kind, issue, due, cents, cur, rel in conn.execute(q):
            out[cid][0].append(Doc(ref, kind, issue, due, cents, cur, rel))
        allocs: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
        qa = (
            select(a.c.payment_id, a.c.position, a.c.document_ref, a.c.amount_cents)
            .join(p, p.c.id == a.c.payment_id)
            .where(p.c.customer_id.in_(chunk), p.c.status == "confirmed")
        )
        for pid, pos, ref, cents in conn.execute(qa):
            allocs[pid].append((pos, ref, cents))
        qp = select(p.c.customer_id, p.c.id, p.c.ref, p.c.date, p.c.amount_cents, p.c.currency).where(
            p.c.customer_id.in_(chunk), p.c.status == "confirmed"
        )
        for cid, pid, ref, day, cents, cur in conn.execute(qp):
            parts = tuple((r, c) for _, r, c in sorted(allocs.get(pid, ())))
            out[cid][1].append(Pay(ref, day, cents, cur, parts))
    return out
