"""Bulk reads and upserts for the ledger import: core statements, never one ORM object per row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Connection, delete, select, update

from bot.domain.csv_rows import CustomerInfo, DocInfo
from bot.domain.names import fold
from storage.sql import chunks as _chunks
from storage.sql import dialect_insert as _insert
from storage.tables import Allocation, Customer, CustomerKey, Document, Payment

CHUNK = 5000
REARM_DATE = date(1970, 1, 1)  # "look at this item on the next sweep"


def _upsert(conn: Connection, table, rows: list[dict], columns: list[str]) -> None:  # noqa: ANN001
    if not rows:
        return
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_update(index_elements=["ref"], set_={c: getattr(stmt.excluded, c) for c in columns})
    for chunk in _chunks(rows):
        conn.execute(stmt, list(chunk))


def customer_infos(conn: Connection) -> dict[str, CustomerInfo]:
    t = Customer.__table__
    rows = conn.execute(select(t.c.ref, t.c.id, t.c.currency, t.c.payment_terms_days))
    return {ref: CustomerInfo(cid, cur, terms) for ref, cid, cur, terms in rows}


def doc_infos(conn: Connection, refs: Iterable[str]) -> dict[str, DocInfo]:
    d, c = Document.__table__, Customer.__table__
    out: dict[str, DocInfo] = {}
    wanted = sorted(set(refs))
    for chunk in _chunks(wanted, 900):
        q = (
            select(d.c.ref, c.c.ref, d.c.type, d.c.currency)
            .join(c, c.c.id == d.c.customer_id)
            .where(d.c.ref.in_(chunk))
        )
        for ref, cref, kind, cur in conn.execute(q):
            out[ref] = DocInfo(cref, kind, cur)
    return out


def upsert_customers(conn: Connection, rows: list[dict]) -> None:
    columns = [k for k in rows[0] if k != "ref"] if rows else []
    _upsert(conn, Customer.__table__, rows, columns)
    ids = customer_infos(conn)
    keys_t = CustomerKey.__table__
    touched = [ids[r["ref"]].id for r in rows]
    for chunk in _chunks(touched, 900):
        conn.execute(delete(keys_t).where(keys_t.c.customer_id.in_(chunk)))
    keys = []
    for r in rows:
        cid = ids[r["ref"]].id
        names = {fold(r["ref"]), fold(r["name"])} | {fold(a) for a in r["aliases"].split("|") if a}
        keys.extend({"customer_id": cid, "key": k} for k in names if k)
    for chunk in _chunks(keys):
        conn.execute(keys_t.insert(), list(chunk))


def upsert_documents(conn: Connection, rows: list[dict]) -> None:
    payload = [{k: v for k, v in r.items() if k != "customer_ref"} for r in rows]
    columns = [k for k in payload[0] if k != "ref"] if payload else []
    _upsert(conn, Document.__table__, payload, columns)


def upsert_payments(conn: Connection, rows: list[dict]) -> None:
    payload = [
        {k: v for k, v in r.items() if k not in ("customer_ref", "allocations")} | {"status": "confirmed"} for r in rows
    ]
    columns = [k for k in payload[0] if k != "ref"] if payload else []
    _upsert(conn, Payment.__table__, payload, columns)
    p, a = Payment.__table__, Allocation.__table__
    ids: dict[str, int] = {}
    for chunk in _chunks([r["ref"] for r in rows], 900):
        ids.update({r: i for r, i in conn.execute(select(p.c.ref, p.c.id).where(p.c.ref.in_(chunk)))})
    for chunk in _chunks(list(ids.values()), 900):
        conn.execute(delete(a).where(a.c.payment_id.in_(chunk)))
    allocs = [
        {"payment_id": ids[r["ref"]], "document_ref": ref, "amount_cents": cents, "position": i}
        for r in rows
        for i, (ref, cents) in enumerate(r["allocations"])
    ]
    for chunk in _chunks(allocs):
        conn.execute(a.insert(), list(chunk))


def rearm_customers(conn: Connection, customer_ids: Iterable[int]) -> None:
    """Items of these customers whose dunning had stopped are looked at again by the next sweep.

    The ledger changed (a payment, a credit, a new item): an item that was settled
    or below the minimum may be open again. Re-arming is always safe: the sweep
    derives what is due from the ledger and the outbox, never from this column.
    """
    d = Document.__table__
    for chunk in _chunks(sorted(set(customer_ids)), 900):
        conn.execute(
            update(d)
            .where(d.c.customer_id.in_(chunk), d.c.next_action_on.is_(None), d.c.type.in_(("invoice", "debit_note")))
            .values(next_action_on=REARM_DATE)
        )


def rearm_all(conn: Connection, customer_id: int) -> None:
    """Every item of this customer is looked at on the next sweep (a pause ended, a case was decided)."""
    d = Document.__table__
    conn.execute(
        update(d)
        .where(d.c.customer_id == customer_id, d.c.type.in_(("invoice", "debit_note")))
        .values(next_action_on=REARM_DATE)
    )
