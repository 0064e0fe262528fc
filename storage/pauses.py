"""Loading the pausing facts (disputes, claims, plans, promises, holds, talks) in bulk.

The sweep reads these for every candidate customer, so the queries go straight
through the driver (storage.rawsql) rather than through compiled statements.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

from bot.domain.pauses import Pauses
from bot.domain.statuses import LIVE_PLAN, DisputeStatus, HoldStatus, PaymentStatus, PromiseStatus
from storage.rawsql import as_date, as_utc, fetch_in

# An open dispute pauses its items; so does one found valid until the ERP's credit note for the
# item is imported (credit notes naming it beyond those it had when disputed): collectbot invents
# no credit note, and the disputed amount is never dunned again (README "Dispute").
_DISPUTED = (
    "SELECT ds.customer_id, d.ref FROM dispute ds JOIN dispute_item di ON di.dispute_id = ds.id "
    "JOIN document d ON d.id = di.document_id WHERE ds.customer_id IN ({ids}) AND (ds.status = {p} "
    "OR (ds.status = {p} AND di.credited_cents >= (SELECT COALESCE(SUM(cn.amount_cents), 0) FROM document cn "
    "WHERE cn.customer_id = ds.customer_id AND cn.type = {p} AND cn.related_ref = d.ref)))"
)
# Only a debtor's claim is ever `claimed` (the import writes confirmed payments): read through the claims'
# own index (storage.tables.DEBTOR_CLAIMS), not every payment of every candidate (`+p.customer_id` keeps
# SQLite's planner off the index of all payments by customer).
_CLAIMED = (
    "SELECT p.customer_id, a.document_ref, p.created_at FROM payment p JOIN allocation a ON a.payment_id = p.id "
    "WHERE p.source = 'debtor' AND +p.customer_id IN ({ids}) AND p.status = {p}"
)
_IN_PLAN = (
    "SELECT pl.customer_id, d.ref FROM payment_plan pl JOIN plan_item pi ON pi.plan_id = pl.id "
    "JOIN document d ON d.id = pi.document_id WHERE pl.customer_id IN ({ids}) AND pl.status IN ({p}, {p})"
)
_PROMISED = (
    "SELECT pr.customer_id, d.ref, pr.promised_date FROM promise pr LEFT JOIN document d ON d.id = pr.document_id "
    "WHERE pr.customer_id IN ({ids}) AND pr.status = {p}"
)
_HELD = (
    'SELECT h.customer_id, d.ref, h."until" FROM hold h LEFT JOIN document d ON d.id = h.document_id '
    "WHERE h.customer_id IN ({ids}) AND h.status = {p}"
)
_TALKING = "SELECT customer_id, last_message_at FROM conversation WHERE customer_id IN ({ids}) AND closed_at IS NULL"


def load_pauses(conn: Connection, customer_ids: Iterable[int]) -> dict[int, Pauses]:
    """customer id -> what pauses dunning on their items now (bot.domain.pauses.Pauses): open or valid
    disputes, claimed payments, live plans, open promises, active holds, the last conversation.
    One query per kind for every customer given.
    """
    ids = sorted(set(customer_ids))
    out = {cid: Pauses() for cid in ids}
    for cid, ref in fetch_in(conn, _DISPUTED, ids, DisputeStatus.OPEN, DisputeStatus.VALID, "credit_note"):
        out[cid].disputed.add(ref)
    for cid, ref, at in fetch_in(conn, _CLAIMED, ids, PaymentStatus.CLAIMED):
        at = as_utc(at)
        prev = out[cid].claimed.get(ref)
        out[cid].claimed[ref] = at if prev is None or (at and at < prev) else prev
    for cid, ref in fetch_in(conn, _IN_PLAN, ids, *LIVE_PLAN):
        out[cid].in_plan.add(ref)
    for cid, ref, day in fetch_in(conn, _PROMISED, ids, PromiseStatus.OPEN):
        pauses, day = out[cid], as_date(day)
        if ref is None:
            pauses.promised_all = max(filter(None, (pauses.promised_all, day)))
        else:
            pauses.promised[ref] = max(filter(None, (pauses.promised.get(ref), day)))
    for cid, ref, until in fetch_in(conn, _HELD, ids, HoldStatus.ACTIVE):
        pauses, until = out[cid], as_date(until)
        if ref is None:
            pauses.customer_hold_until = max(filter(None, (pauses.customer_hold_until, until)))
        else:
            pauses.doc_hold_until[ref] = max(filter(None, (pauses.doc_hold_until.get(ref), until)))
    for cid, at in fetch_in(conn, _TALKING, ids):
        at = as_utc(at)
        prev = out[cid].conversation_at
        out[cid].conversation_at = at if prev is None or at > prev else prev
    return out
