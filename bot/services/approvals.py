"""Sales agreeing to a gated step (e.g. the strategic segment's formal notice) for a customer or one invoice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from bot.domain.ledger import ITEM_TYPES
from bot.domain.policy import Policy
from bot.services.holds import target
from storage import approvals, events
from storage.ledger_writes import rearm_all
from storage.tables import Document


class NothingToApprove(ValueError):
    """The step is not one that waits for sales in this customer's segment."""


@dataclass(frozen=True)
class StepApproval:
    """Sales agreed to `step` for one document (`doc_ref`) or every item of `customer_ref` (`items`
    of them); `new` is False when it had been agreed already (nothing was recorded)."""

    step: str
    customer_ref: str
    doc_ref: str | None
    items: int
    new: bool

    @property
    def subject(self) -> str:
        """What was agreed for: the document's ref, or "REF (N items)"."""
        return self.doc_ref or f"{self.customer_ref} ({self.items} items)"


def approve_step(
    conn: Connection, what: str, step: str, *, policy: Policy, actor: str, now: datetime
) -> StepApproval:
    """Agree that the gated `step` (policy `sales_approval`) may go out for CUSTOMER|DOC (an exact
    match, bot.services.holds.target), in the caller's transaction: the approvals, the event
    `step_approved` and the items armed again. Raises NothingToApprove when the customer's segment
    does not gate that step, and CustomerNotFound / CustomerNotExact / CustomerAmbiguous."""
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
    return StepApproval(step, customer.ref, ref, len(docs), bool(new))


def approve(engine: Engine, what: str, step: str, *, policy: Policy, actor: str, now: datetime) -> StepApproval:
    """`approve_step` in its own transaction (nothing is written when it raises)."""
    with engine.begin() as conn:
        return approve_step(conn, what, step, policy=policy, actor=actor, now=now)
