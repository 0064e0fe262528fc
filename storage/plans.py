"""Loading approved payment plans, and recording what the sweep decided about them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select, update

from bot.domain.plans import Installment
from bot.domain.statuses import LIVE_PLAN, PaymentStatus
from storage.sql import chunks
from storage.tables import Allocation, Document, Payment, PaymentPlan, PlanInstallment, PlanItem, ReminderSend

LIVE = LIVE_PLAN


def installment_key(plan_id: int, seq: int) -> str:
    """The outbox key of an instalment's reminder: once per instalment, ever."""
    return f"plan:{plan_id}:inst:{seq}:pre"


@dataclass
class PlanRecord:
    id: int
    customer_id: int
    currency: str
    total_cents: int
    approved_at: datetime | None
    installments: list[Installment] = field(default_factory=list)
    doc_refs: list[str] = field(default_factory=list)
    reminded: set[int] = field(default_factory=set)
    claimed_cents: int = 0


def live_plans(conn: Connection, customer_ids: Iterable[int]) -> dict[int, list[PlanRecord]]:
    """customer id -> the customer's approved plans, with schedule, documents and reminders sent."""
    pl, pi, inst = PaymentPlan.__table__, PlanItem.__table__, PlanInstallment.__table__
    d, rs, p, a = Document.__table__, ReminderSend.__table__, Payment.__table__, Allocation.__table__
    plans: dict[int, PlanRecord] = {}
    for chunk in chunks(sorted(set(customer_ids)), 900):
        q = select(pl.c.id, pl.c.customer_id, pl.c.currency, pl.c.total_cents, pl.c.decided_at).where(
            pl.c.customer_id.in_(chunk), pl.c.status.in_(LIVE)
        )
        for pid, cid, cur, total, decided in conn.execute(q):
            plans[pid] = PlanRecord(pid, cid, cur, total, decided)
    ids = sorted(plans)
    for chunk in chunks(ids, 900):
        for pid, seq, due, cents in conn.execute(
            select(inst.c.plan_id, inst.c.seq, inst.c.due_date, inst.c.amount_cents)
            .where(inst.c.plan_id.in_(chunk))
            .order_by(inst.c.plan_id, inst.c.seq)
        ):
            plans[pid].installments.append(Installment(seq, due, cents))
        for pid, ref in conn.execute(
            select(pi.c.plan_id, d.c.ref).join(d, d.c.id == pi.c.document_id).where(pi.c.plan_id.in_(chunk))
        ):
            plans[pid].doc_refs.append(ref)
        claimed = (
            select(pi.c.plan_id, a.c.amount_cents)
            .select_from(pi)
            .join(d, d.c.id == pi.c.document_id)
            .join(a, a.c.document_ref == d.c.ref)
            .join(p, p.c.id == a.c.payment_id)
            .where(pi.c.plan_id.in_(chunk), p.c.status == PaymentStatus.CLAIMED)
        )
        for pid, cents in conn.execute(claimed):
            plans[pid].claimed_cents += cents or 0
    if ids:
        by_customer = {r.customer_id for r in plans.values()}
        for chunk in chunks(sorted(by_customer), 900):
            q = select(rs.c.key).where(
                rs.c.customer_id.in_(chunk), rs.c.document_id.is_(None), rs.c.step == "installment"
            )
            for (key,) in conn.execute(q):
                _, pid, _, seq, _ = key.split(":")
                if int(pid) in plans:
                    plans[int(pid)].reminded.add(int(seq))
    out: dict[int, list[PlanRecord]] = defaultdict(list)
    for rec in plans.values():
        rec.doc_refs.sort()
        out[rec.customer_id].append(rec)
    return out


def customers_with_live_plans(conn: Connection) -> set[int]:
    """Plans are reviewed every sweep (instalment reminders, missed instalments), whatever their items say."""
    t = PaymentPlan.__table__
    return set(conn.execute(select(t.c.customer_id).where(t.c.status.in_(LIVE)).distinct()).scalars())


def close_plan(conn: Connection, plan_id: int, status: str) -> bool:
    """approved -> broken | completed; False when another sweeper got there first."""
    t = PaymentPlan.__table__
    res = conn.execute(update(t).where(t.c.id == plan_id, t.c.status.in_(LIVE)).values(status=status))
    return res.rowcount == 1
