"""The append-only timeline (Event rows): written by every decision, read by `timeline`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, select
from sqlmodel import Session

from storage.tables import Event


def record(
    db: Connection | Session,
    *,
    at: datetime,
    kind: str,
    actor: str,
    text: str = "",
    customer_id: int | None = None,
    doc_refs: Iterable[str] = (),
) -> None:
    """Append one timeline event in the caller's transaction (or session).

    `kind` is one of DESIGN "Interfaces" timeline kinds; `actor` is `system`, `cli`,
    `debtor:<chat id>` or `slack:<user id>`; `doc_refs` is stored as a JSON list, however
    many refs it holds (never a joined string in a length-limited column).
    """
    values = {
        "customer_id": customer_id,
        "at": at,
        "kind": kind,
        "actor": actor,
        "doc_refs": list(doc_refs),
        "text": text,
    }
    if isinstance(db, Session):
        db.add(Event(**values))
    else:
        db.execute(Event.__table__.insert(), [values])


def for_customer(session: Session, customer_id: int) -> list[Event]:
    """The customer's timeline events, oldest first (ties by id: the order they were recorded)."""
    q = select(Event).where(Event.customer_id == customer_id).order_by(Event.at, Event.id)
    return list(session.scalars(q))
