"""Sales agreeing to a gated step (e.g. the strategic segment's formal notice) for a customer or one invoice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from bot.domain.ledger import ITEM_TYPES
from bot.domain.policy import Policy
from bot.services.holds import target
from storage import approvals, events
from storage.ledger_writes import rearm_all
from storage.tables import Document


class NothingToApprove(ValueError):
    """The step is not one that waits for sales in this customer's segment."""


def approve_step(conn: Connection, what: str, step: str, *, policy: Policy, actor: str, now: datetime) -> str:
    customer, doc_id, ref = target(conn, what)
    segment = policy.segment(customer.segment)
    gated = [s.name for s in segment.steps if s.sales_approval]
    if step not in gated:
        needs = f"; steps that do: {', '.join(gated)}" if gated else "; no step of it does"
        raise NothingToApprove(f"{step!r} does not wait for sales in segment {segment.name!r} ({customer.ref}){needs}")
    d = Document.__table__
    if doc_id is None:
        q = select(d.c.id, d.c.ref).where(d.c.customer_id == customer.id, d.c.type.in_(tuple(ITEM_TYPES)))
        docs = list(conn.execute(q))
    else:
        docs = [(doc_id, ref)]
    new = approvals.approve(conn, customer.id, [i for i, _ in docs], step, actor=actor, at=now)
    if new:
        events.record(
            conn,
            at=now,
            kind="step_approved",
            actor=actor,
            customer_id=customer.id,
            doc_refs=[r for _, r in docs] if doc_id is not None else [],
            text=f"{step} agreed for {ref or 'every invoice of ' + customer.ref}",
        )
        rearm_all(conn, customer.id)
    subject = ref or f"{customer.ref} ({len(docs)} items)"
    return f"{step} agreed for {subject}" if new else f"{step} was already agreed for {subject}"
