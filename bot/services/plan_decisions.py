"""Credit staff's decision on a proposed payment plan, with the notice that tells the debtor.

The decision (bot.services.cases.decide_plan) and the notice (bot.services.notices) are recorded
in the caller's one transaction; the notice is sent after it commits. The Slack buttons will
call the same function.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select

from bot.services.cases import decide_plan
from bot.services.customers import customers_by_id
from bot.services.notices import notify_debtor
from storage.tables import Document, PaymentPlan, PlanInstallment, PlanItem


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
    if status == "approved":
        ctx["installments"] = installments
    notice = notify_debtor(
        conn, key=f"notice:plan:{plan_id}", customer=customer, phrase=f"notices.plan_{status}", now=now,
        doc_refs=refs, **ctx,
    )
    return status, notice
