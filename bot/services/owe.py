"""The facts of "what does ACME owe?" for staff in Slack, as one plain document (no sentences).

The Slack handler renders it as Block Kit; nothing here knows Slack. One read of the
customer's ledger gives the balance (the same engine and rules as `collectbot balance`),
the open items with their status, the customer's countback DSO and payer rating
(bot.domain.dso, bot.domain.payer_rating, as `report weekly` and `report prospects` use
them) and the projection of the next dunning step (bot.domain.next_step).

Shape: {"customer": {"ref", "name", "segment", "currency", "sales_rep_slack_id",
"credit_hold"}, "as_of", "balances": [{"currency", "total_open", "overdue",
"unapplied_credit", "buckets": {bucket: amount}, "credit_limit", "available_credit"}],
"open_items": [{"doc_ref", "type", "due_date", "open_amount", "currency", "days_overdue",
"status"}] (oldest due first, every open item), "overdue_count", "disputes": [{"id",
"reason", "text", "opened_at", "doc_refs"}], "plans": [{"id", "status", "currency",
"total", "doc_refs", "next_installment": {"seq", "count", "due_date", "amount"} | None}],
"promises": [{"promised_date", "amount", "currency", "doc_ref"}], "claims": [{"id", "date",
"amount", "currency", "reference", "doc_refs"}], "next_step": {"step", "date",
"doc_refs", "awaiting_sales"} | None, "paused": {reason: item count}, "reminders_paused"
(a customer hold or an open talk with a person), "last_contact": {"at", "kind", "actor",
"text"} | None, "rating": {...bot.services.reports.rating_document}, "dso": [{"currency",
...dso_document}]}. Amounts are decimal strings with two decimals, dates ISO, instants ISO
8601 with offset in the company's zone.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from bot.domain.balances import compute_balance
from bot.domain.dso import DSO_MONTHS, dso_countback, monthly_sales
from bot.domain.ladder import CustomerFacts
from bot.domain.money import cents_str
from bot.domain.next_step import project_next_step
from bot.domain.payer_rating import LOOKBACK_DAYS, rate_payer
from bot.domain.policy import Policy
from bot.services.balances import currency_balance_json, open_item_json
from bot.services.customers import CustomerRow
from bot.services.reports import dso_document, rating_document
from storage import approvals, case_reads, heads_ups, outbox, report_reads
from storage.ledger_reads import ledgers
from storage.pauses import load_pauses


def owe_facts(conn: Connection, customer: CustomerRow, *, now: datetime, policy: Policy, company_tz: ZoneInfo) -> dict:
    """Everything staff see about one customer at `now` (see the module's shape).

    `as_of` is the company's date at `now` (as `collectbot balance` defaults to); the next
    step is projected on the debtor's own local date, as the sweep counts days.
    """
    c = customer
    as_of = now.astimezone(company_tz).date()
    doc_ids: dict[int, dict[str, int]] = {}
    docs, pays = ledgers(conn, [c.id], doc_ids)[c.id]
    bal = compute_balance(docs, pays, as_of, customer_currency=c.currency, credit_limit_cents=c.credit_limit_cents)
    pauses = load_pauses(conn, [c.id])[c.id]
    items = [open_item_json(i, pauses, as_of) for i in bal.open_items]
    promises_broken, plans_broken = report_reads.broken_commitments(
        conn, [c.id], as_of - timedelta(days=LOOKBACK_DAYS), as_of
    ).get(c.id, (0, 0))
    rating = rate_payer(docs, pays, as_of, broken_promises=promises_broken, broken_plans=plans_broken)
    sales = monthly_sales(docs, as_of, DSO_MONTHS)

    def local(at: datetime) -> str:
        return at.astimezone(company_tz).isoformat()

    contact = case_reads.last_contact(conn, c.id)
    return {
        "customer": {
            "ref": c.ref,
            "name": c.name,
            "segment": c.segment,
            "currency": c.currency,
            "sales_rep_slack_id": c.sales_rep_slack_id or None,
            "credit_hold": bool(c.credit_hold),
        },
        "as_of": as_of.isoformat(),
        "balances": [currency_balance_json(b) for b in bal.balances],
        "open_items": items,
        "overdue_count": sum(1 for i in bal.open_items if i.days_overdue > 0),
        "disputes": [
            {
                "id": d.id,
                "reason": d.reason,
                "text": d.text,
                "opened_at": local(d.opened_at),
                "doc_refs": list(d.doc_refs),
            }
            for d in case_reads.open_disputes(conn, c.id)
        ],
        "plans": [_plan(p, as_of) for p in case_reads.plans(conn, c.id)],
        "promises": [
            {
                "promised_date": p.promised_date.isoformat(),
                "amount": cents_str(p.amount_cents),
                "currency": p.currency,
                "doc_ref": p.doc_ref,
            }
            for p in case_reads.open_promises(conn, c.id)
        ],
        "claims": [
            {
                "id": p.id,
                "date": p.date.isoformat(),
                "amount": cents_str(p.amount_cents),
                "currency": p.currency,
                "reference": p.reference,
                "doc_refs": list(p.doc_refs),
            }
            for p in case_reads.claimed_payments(conn, c.id)
        ],
        **_projection(conn, c, docs, pays, doc_ids.get(c.id, {}), pauses, now=now, policy=policy),
        "last_contact": None
        if contact is None
        else {"at": local(contact.at), "kind": contact.kind, "actor": contact.actor, "text": contact.text},
        "rating": rating_document(rating),
        "dso": [
            {
                "currency": b.currency,
                **dso_document(dso_countback(b.total_open_cents, sales.get(b.currency, {}), as_of)),
            }
            for b in bal.balances
        ],
    }


def _plan(p: case_reads.PlanRow, as_of) -> dict:  # noqa: ANN001
    upcoming = next(((s, d, a) for s, d, a in p.installments if d >= as_of), None)
    return {
        "id": p.id,
        "status": p.status,
        "currency": p.currency,
        "total": cents_str(p.total_cents),
        "doc_refs": p.doc_refs,
        "next_installment": None
        if upcoming is None
        else {
            "seq": upcoming[0],
            "count": len(p.installments),
            "due_date": upcoming[1].isoformat(),
            "amount": cents_str(upcoming[2]),
        },
    }


def _projection(  # noqa: PLR0913
    conn: Connection,
    c: CustomerRow,
    docs,
    pays,
    doc_ids: dict[str, int],
    pauses,
    *,
    now: datetime,
    policy: Policy,  # noqa: ANN001
) -> dict:
    """The next dunning step on the debtor's local date (bot.domain.next_step)."""
    local_now = now.astimezone(ZoneInfo(c.timezone))
    today = local_now.date()
    balance = compute_balance(docs, pays, today, customer_currency=c.currency)
    hist = outbox.history(conn, list(doc_ids.values())).get(c.id, {})
    facts = CustomerFacts(
        segment=policy.segment(c.segment),
        today=today,
        now=local_now,
        balance=balance,
        history=hist,
        headed_up=frozenset(heads_ups.given(conn, [c.id]).get(c.id, ())),
        pauses=pauses,
        approved=frozenset(approvals.approved(conn, [c.id]).get(c.id, ())),
        country=c.country,
    )
    proj = project_next_step(facts, policy)
    nxt = proj.next
    return {
        "next_step": None
        if nxt is None
        else {
            "step": nxt.step,
            "date": nxt.on.isoformat(),
            "doc_refs": list(nxt.doc_refs),
            "awaiting_sales": nxt.awaiting_sales,
        },
        "paused": dict(sorted(Counter(reason for reason, _ in proj.paused.values()).items())),
        "reminders_paused": proj.customer_paused,
    }
