"""A customer's timeline (DESIGN "Interfaces", `timeline`): every event, oldest first, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.services.customers import Found, find
from storage.engine import reading
from storage.events import for_customer


@dataclass(frozen=True)
class TimelineEntry:
    """One event: when (tz-aware), its kind (DESIGN's timeline kinds), who (`system`, `cli`,
    `debtor:<chat id>`, `slack:<user id>`), the documents it concerns and its text."""

    at: datetime
    kind: str
    actor: str
    doc_refs: list[str]
    text: str


@dataclass(frozen=True)
class Timeline:
    found: Found
    events: list[TimelineEntry]


def _refs(stored: object) -> list[str]:
    """The event's document refs, whether stored as a list or (older rows) a `|`-joined string."""
    if not stored:
        return []
    if isinstance(stored, str):
        return [r for r in stored.split("|") if r]
    return [str(r) for r in stored]  # type: ignore[union-attr]


def customer_timeline(engine: Engine, query: str) -> Timeline:
    """The customer `query` names (matched leniently, bot.services.customers.find) and their events,
    oldest first (ties by id). Raises CustomerAmbiguous / CustomerNotFound."""
    with reading(engine) as conn:
        found = find(conn, query)
        with Session(bind=conn) as session:
            rows = for_customer(session, found.customer.id)
            events = [TimelineEntry(e.at, e.kind, e.actor, _refs(e.doc_refs), e.text) for e in rows]
    return Timeline(found, events)
