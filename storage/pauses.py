"""Loading the pausing facts (disputes, claims, plans, promises, holds, talks) in bulk."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from bot.domain.pauses import Pauses
from storage.tables import (
    Allocation,
    Conversation,
    Dispute,
    DisputeItem,
    Document,
    Hold,
    Payment,
    PaymentPlan,
    PlanItem,
    Promise,
)


def load_pauses(conn: Connection, customer_ids: Iterable[int]) -> dict[int, Pauses]:
    ids = sorted(set(customer_ids))
    out = {cid: Pauses() for cid in ids}
    doc = Document.__table__
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        di, ds = DisputeItem.__table__, Dispute.__table__
        for cid, ref in conn.execute(
            select(ds.c.customer_id, doc.c.ref)
            .select_from(ds)
            .join(di, di.c.dispute_id == ds.c.id)
            .join(doc, doc.c.id == di.c.document_id)
            .where(ds.c.customer_id.in_(chunk), ds.c.status == "open")
        ):
            out[cid].disputed.add(ref)
        p, a = Payment.__table__, Allocation.__table__
        for cid, ref, at in conn.execute(
            select(p.c.customer_id, a.c.document_ref, p.c.created_at)
            .select_from(p)
            .join(a, a.c.payment_id == p.c.id)
            .where(p.c.customer_id.in_(chunk), p.c.status == "claimed")
        ):
            prev = out[cid].claimed.get(ref)
            out[cid].claimed[ref] = at if prev is None or (at and at < prev) else prev
        pl, pi = PaymentPlan.__table__, PlanItem.__table__
        for cid, ref in conn.execute(
            select(pl.c.customer_id, doc.c.ref)
            .select_from(pl)
            .join(pi, pi.c.plan_id == pl.c.id)
            .join(doc, doc.c.id == pi.c.document_id)
            .where(pl.c.customer_id.in_(chunk), pl.c.status.in_(("approved", "active")))
        ):
            out[cid].in_plan.add(ref)
        pr = Promise.__table__
        for cid, ref, day in conn.execute(
            select(pr.c.customer_id, doc.c.ref, pr.c.promised_date)
            .select_from(pr)
            .outerjoin(doc, doc.c.id == pr.c.document_id)
            .where(pr.c.customer_id.in_(chunk), pr.c.status == "open")
        ):
            pauses = out[cid]
            if ref is None:
                pauses.promised_all = max(filter(None, (pauses.promised_all, day)))
            else:
                pauses.promised[ref] = max(filter(None, (pauses.promised.get(ref), day)))
        h = Hold.__table__
        for cid, ref, until in conn.execute(
            select(h.c.customer_id, doc.c.ref, h.c.until)
            .select_from(h)
            .outerjoin(doc, doc.c.id == h.c.document_id)
            .where(h.c.customer_id.in_(chunk), h.c.status == "active")
        ):
            pauses = out[cid]
            if ref is None:
                pauses.customer_hold_until = max(filter(None, (pauses.customer_hold_until, until)))
            else:
                pauses.doc_hold_until[ref] = max(filter(None, (pauses.doc_hold_until.get(ref), until)))
        cv = Conversation.__table__
        for cid, at in conn.execute(
            select(cv.c.customer_id, cv.c.last_message_at).where(cv.c.customer_id.in_(chunk), cv.c.closed_at.is_(None))
        ):
            prev = out[cid].conversation_at
            out[cid].conversation_at = at if prev is None or at > prev else prev
    return out
