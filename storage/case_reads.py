"""Reads behind one customer's case for staff ("what does ACME owe?"): disputes, plans, promises, claims, contact.

Each function reads one customer's rows (indexed by customer id) and returns plain rows;
datetimes come back aware UTC (storage.types.UTCDateTime), dates as `date`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, or_, select

from storage.tables import (
    Allocation,
    Dispute,
    DisputeItem,
    Document,
    Event,
    Payment,
    PaymentPlan,
    PlanInstallment,
    PlanItem,
    Promise,
)

PLAN_SHOWN = ("proposed", "approved", "active")  # plans staff still act on or that pause reminders
CONTACT_KINDS = ("message_in", "message_out", "reminder_sent")


@dataclass(frozen=True)
class DisputeRow:
    id: int
    reason: str
    text: str
    opened_at: datetime
    doc_refs: tuple[str, ...]


@dataclass
class PlanRow:
    id: int
    status: str
    currency: str
    total_cents: int
    proposed_at: datetime
    decided_at: datetime | None
    installments: list[tuple[int, date, int]] = field(default_factory=list)  # (seq, due date, cents)
    doc_refs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PromiseRow:
    id: int
    promised_date: date
    amount_cents: int
    currency: str
    doc_ref: str | None  # None: the whole account


@dataclass(frozen=True)
class ClaimRow:
    id: int
    date: date
    amount_cents: int
    currency: str
    reference: str
    doc_refs: tuple[str, ...]


@dataclass(frozen=True)
class ContactRow:
    at: datetime
    kind: str
    actor: str
    text: str


def open_disputes(conn: Connection, customer_id: int) -> list[DisputeRow]:
    """The customer's open disputes, oldest first, with their documents."""
    ds, di, d = Dispute.__table__, DisputeItem.__table__, Document.__table__
    rows = conn.execute(
        select(ds.c.id, ds.c.reason, ds.c.text, ds.c.opened_at)
        .where(ds.c.customer_id == customer_id, ds.c.status == "open")
        .order_by(ds.c.opened_at, ds.c.id)
    ).all()
    refs: dict[int, list[str]] = {r.id: [] for r in rows}
    if refs:
        for did, ref in conn.execute(
            select(di.c.dispute_id, d.c.ref)
            .join(d, d.c.id == di.c.document_id)
            .where(di.c.dispute_id.in_(list(refs)))
            .order_by(d.c.ref)
        ):
            refs[did].append(ref)
    return [DisputeRow(r.id, r.reason, r.text, r.opened_at, tuple(refs[r.id])) for r in rows]


def plans(conn: Connection, customer_id: int) -> list[PlanRow]:
    """The customer's proposed, approved and active payment plans, newest first, with schedules."""
    pl, pi, inst, d = PaymentPlan.__table__, PlanItem.__table__, PlanInstallment.__table__, Document.__table__
    out = {
        r.id: PlanRow(r.id, r.status, r.currency, r.total_cents, r.proposed_at, r.decided_at)
        for r in conn.execute(
            select(pl.c.id, pl.c.status, pl.c.currency, pl.c.total_cents, pl.c.proposed_at, pl.c.decided_at)
            .where(pl.c.customer_id == customer_id, pl.c.status.in_(PLAN_SHOWN))
            .order_by(pl.c.id.desc())
        )
    }
    if out:
        ids = list(out)
        for pid, seq, due, cents in conn.execute(
            select(inst.c.plan_id, inst.c.seq, inst.c.due_date, inst.c.amount_cents)
            .where(inst.c.plan_id.in_(ids))
            .order_by(inst.c.plan_id, inst.c.seq)
        ):
            out[pid].installments.append((seq, due, cents))
        for pid, ref in conn.execute(
            select(pi.c.plan_id, d.c.ref).join(d, d.c.id == pi.c.document_id).where(pi.c.plan_id.in_(ids))
        ):
            out[pid].doc_refs.append(ref)
    for p in out.values():
        p.doc_refs.sort()
    return list(out.values())


def open_promises(conn: Connection, customer_id: int) -> list[PromiseRow]:
    """Promises to pay not yet kept or broken, soonest first."""
    pr, d = Promise.__table__, Document.__table__
    return [
        PromiseRow(r.id, r.promised_date, r.amount_cents, r.currency, r.ref)
        for r in conn.execute(
            select(pr.c.id, pr.c.promised_date, pr.c.amount_cents, pr.c.currency, d.c.ref)
            .outerjoin(d, d.c.id == pr.c.document_id)
            .where(pr.c.customer_id == customer_id, pr.c.status == "open")
            .order_by(pr.c.promised_date, pr.c.id)
        )
    ]


def claimed_payments(conn: Connection, customer_id: int) -> list[ClaimRow]:
    """Payments the debtor reported that credit staff have not confirmed or rejected, oldest first."""
    p, a = Payment.__table__, Allocation.__table__
    rows = conn.execute(
        select(p.c.id, p.c.date, p.c.amount_cents, p.c.currency, p.c.reference)
        .where(p.c.customer_id == customer_id, p.c.status == "claimed")
        .order_by(p.c.date, p.c.id)
    ).all()
    refs: dict[int, list[str]] = {r.id: [] for r in rows}
    if refs:
        for pid, ref in conn.execute(
            select(a.c.payment_id, a.c.document_ref).where(a.c.payment_id.in_(list(refs))).order_by(a.c.position)
        ):
            refs[pid].append(ref)
    return [ClaimRow(r.id, r.date, r.amount_cents, r.currency, r.reference or "", tuple(refs[r.id])) for r in rows]


def last_contact(conn: Connection, customer_id: int) -> ContactRow | None:
    """The latest exchange with the debtor: a reminder delivered, a message in or out, or anything the
    debtor did in the chat (actor `debtor:<chat id>`). A `no_channel` step reached nobody and is not one."""
    e = Event.__table__
    rows = conn.execute(
        select(e.c.at, e.c.kind, e.c.actor, e.c.text)
        .where(e.c.customer_id == customer_id, or_(e.c.kind.in_(CONTACT_KINDS), e.c.actor.like("debtor:%")))
        .order_by(e.c.at.desc(), e.c.id.desc())
        .limit(50)
    )
    for r in rows:
        if r.kind == "reminder_sent" and "chase by phone" in (r.text or ""):
            continue
        return ContactRow(r.at, r.kind, r.actor, r.text or "")
    return None
