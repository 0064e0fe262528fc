"""Credit staff's decision on a proposed payment plan, with the notice that tells the debtor.

The decision (bot.services.cases.decide_plan) and the notice (bot.services.notices) are recorded
in the caller's one transaction; the notice is sent after it commits. The Slack buttons
call the same function; `decide` is the same in its own transaction (the CLI's), and `list_plans`
what `plan list` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, select

from bot.domain.statuses import PlanStatus
from bot.services.cases import decide_plan
from bot.services.customers import customers_by_id
from bot.services.notices import Decided, notify_debtor
from storage.engine import reading
from storage.tables import Customer, Document, PaymentPlan, PlanInstallment, PlanItem


def decide_and_notify(
    conn: Connection, plan_id: int, *, approve: bool, actor: str, now: datetime, today: date, reason: str = ""
) -> tuple[str, int | None]:
    """(status, id of the notice to the debtor or None). Raises LookupError / ValueError like decide_plan."""
    status = decide_plan(conn, plan_id, approve=approve, actor=actor, now=now, today=today, reason=reason)
    p, i, pi, d = PaymentPlan.__table__, PlanInstallment.__table__, PlanItem.__table__, Document.__table__
    plan = conn.execute(select(p.c.customer_id, p.c.total_cents, p.c.currency).where(p.c.id == plan_id)).one()
    installments = [
        {"due": due, "amount_cents": cents}
        for due, cents in conn.execute(
            select(i.c.due_date, i.c.amount_cents).where(i.c.plan_id == plan_id).order_by(i.c.seq)
        )
    ]
    refs = list(
        conn.execute(select(d.c.ref).join(pi, pi.c.document_id == d.c.id).where(pi.c.plan_id == plan_id)
                     .order_by(d.c.ref)).scalars()
    )
    customer = customers_by_id(conn, [plan.customer_id])[plan.customer_id]
    ctx: dict[str, object] = {"total_cents": plan.total_cents, "currency": plan.currency, "reason": reason}
    if status == PlanStatus.APPROVED:
        ctx["installments"] = installments
    notice = notify_debtor(
        conn, key=f"notice:plan:{plan_id}", customer=customer, phrase=f"notices.plan_{status}", now=now,
        doc_refs=refs, **ctx,
    )
    return status, notice


def decide(
    engine: Engine, plan_id: int, *, approve: bool, actor: str, now: datetime, today: date, reason: str = ""
) -> Decided:
    """`decide_and_notify` in its own transaction. Raises LookupError (no such plan) or ValueError
    (not proposed any more), and then nothing is written."""
    with engine.begin() as conn:
        status, notice = decide_and_notify(
            conn, plan_id, approve=approve, actor=actor, now=now, today=today, reason=reason
        )
    return Decided(status, notice)


@dataclass(frozen=True)
class PlanSummary:
    """One payment plan as `plan list` shows it; amounts in minor units (cents) of `currency`,
    `installments` as (due date, cents) in order, `doc_refs` sorted."""

    id: int
    customer_ref: str
    status: str
    currency: str
    total_cents: int
    installments: list[tuple[date, int]]
    doc_refs: list[str]


def list_plans(engine: Engine, status: str | None = None) -> list[PlanSummary]:
    """Every payment plan (only those with `status` when given), oldest first, in one snapshot."""
    p, c = PaymentPlan.__table__, Customer.__table__
    i, pi, d = PlanInstallment.__table__, PlanItem.__table__, Document.__table__
    q = select(p, c.c.ref.label("customer_ref")).join(c, c.c.id == p.c.customer_id).order_by(p.c.id)
    if status:
        q = q.where(p.c.status == status)
    plans = []
    with reading(engine) as conn:
        for r in conn.execute(q).all():
            inst = conn.execute(
                select(i.c.due_date, i.c.amount_cents).where(i.c.plan_id == r.id).order_by(i.c.seq)
            ).all()
            refs = conn.execute(
                select(d.c.ref).join(pi, pi.c.document_id == d.c.id).where(pi.c.plan_id == r.id).order_by(d.c.ref)
            ).scalars()
            plans.append(
                PlanSummary(r.id, r.customer_ref, r.status, r.currency, r.total_cents,
                            [(due, cents) for due, cents in inst], list(refs))
            )
    return plans
