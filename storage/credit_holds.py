"""The credit hold flag of a customer (the stop on new sales), changed only through these functions."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from storage.tables import Customer

_C = Customer.__table__


def set_hold(conn: Connection, customer_id: int, *, auto_release: bool) -> bool:
    """Put the customer on credit hold; False (nothing changed) if it already was.
    `auto_release`: the sweep lifts it once nothing is overdue."""
    n = conn.execute(
        update(_C)
        .where(_C.c.id == customer_id, _C.c.credit_hold.is_(False))
        .values(credit_hold=True, credit_hold_auto_release=auto_release)
    ).rowcount
    return bool(n)


def release(conn: Connection, customer_id: int, *, only_auto: bool = False) -> bool:
    """Lift the customer's credit hold; False (nothing changed) if there was none (or, with
    `only_auto`, if it is one only a hand may lift)."""
    cond = [_C.c.id == customer_id, _C.c.credit_hold.is_(True)]
    if only_auto:
        cond.append(_C.c.credit_hold_auto_release.is_(True))
    n = conn.execute(
        update(_C)
        .where(*cond)
        .values(credit_hold=False, credit_hold_auto_release=False)
    ).rowcount
    return bool(n)


def auto_release_ids(conn: Connection) -> list[int]:
    """Customers on a credit hold the sweep may lift (few: read whole, every sweep)."""
    q = select(_C.c.id).where(_C.c.credit_hold.is_(True), _C.c.credit_hold_auto_release.is_(True))
    return list(conn.execute(q).scalars())

