"""Reads behind the reports (digest, scorecard, prospects): plain rows, optionally one sales rep's customers.

Every function takes `rep`: None for every customer, or a Slack user id to keep only
the customers whose `sales_rep_slack_id` is that id (DESIGN "Who sees what").
Datetimes come back aware UTC (storage.types.UTCDateTime), dates as `date`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, Connection, func, select

from bot.domain.statuses import DisputeStatus, PaymentStatus, PlanStatus, PromiseStatus
from storage.sql import chunks
from storage.tables import (
    Allocation,
    Customer,
    Dispute,
    DisputeItem,
    Document,
    Event,
    Payment,
    PaymentPlan,
    Promise,
    ReminderSend,
    StaffAlert,
)

C = Customer.__table__
CUSTOMER_COLS = (C.c.ref.label("customer_ref"), C.c.name, C.c.sales_rep_slack_id)


def _of_rep(rep: str | None) -> list[ColumnElement[bool]]:
    return [] if rep is None else [C.c.sales_rep_slack_id == rep]


def customer_ids(conn: Connection, rep: str | None, *, may_buy: bool = False) -> list[int]:
    """Ids of the customers in scope, in ref order; `may_buy`: only those with a credit limit and no credit hold."""
    cond = _of_rep(rep)
    if may_buy:
        cond += [C.c.credit_limit_cents.is_not(None), C.c.credit_hold.is_(False)]
    return list(conn.execute(select(C.c.id).where(*cond).order_by(C.c.ref)).scalars())


def sales_reps(conn: Connection, rep: str | None = None) -> list[str]:
    """Every distinct sales rep Slack id of the ledger ("" for customers without one), sorted."""
    return sorted(conn.execute(select(C.c.sales_rep_slack_id).where(*_of_rep(rep)).distinct()).scalars())


def customer_currencies(conn: Connection, rep: str | None) -> list[str]:
    """The distinct currencies of the customers a report covers (one rep's when `rep` is given), sorted."""
    return sorted(conn.execute(select(C.c.currency).where(*_of_rep(rep)).distinct()).scalars())


def month_sums(
    conn: Connection, first: date, last: date, *, item_types: Iterable[str], rep: str | None
) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """(rep, currency, cents) sums over the days first..last.

    First of documents of `item_types` issued, then of confirmed payments dated, in those days.
    """
    d, p = Document.__table__, Payment.__table__
    issued = conn.execute(
        select(C.c.sales_rep_slack_id, d.c.currency, func.sum(d.c.amount_cents))
        .join(C, C.c.id == d.c.customer_id)
        .where(d.c.type.in_(list(item_types)), d.c.issue_date >= first, d.c.issue_date <= last, *_of_rep(rep))
        .group_by(C.c.sales_rep_slack_id, d.c.currency)
    ).all()
    paid = conn.execute(
        select(C.c.sales_rep_slack_id, p.c.currency, func.sum(p.c.amount_cents))
        .join(C, C.c.id == p.c.customer_id)
        .where(p.c.status == PaymentStatus.CONFIRMED, p.c.date >= first, p.c.date <= last, *_of_rep(rep))
        .group_by(C.c.sales_rep_slack_id, p.c.currency)
    ).all()
    return [(r, cur, int(s)) for r, cur, s in issued], [(r, cur, int(s)) for r, cur, s in paid]


def outbox_rows(conn: Connection, start: datetime, end: datetime, rep: str | None) -> list[tuple[str, str, str, tuple]]:
    """(status, step, tone, message) of every outbox row recorded in [start, end), skipped steps left out.

    `message` tells the debtor messages apart: the rows one sweep records for one customer share it
    (customer id, the sweep's instant, message key; the sweep leaves the message key empty)."""
    t = ReminderSend.__table__
    return [
        (r.status, r.step, r.tone, (r.customer_id, r.created_at, r.message_key))
        for r in conn.execute(
            select(t.c.status, t.c.step, t.c.tone, t.c.customer_id, t.c.created_at, t.c.message_key)
            .join(C, C.c.id == t.c.customer_id)
            .where(t.c.created_at >= start, t.c.created_at < end, t.c.status != "skipped", *_of_rep(rep))
        )
    ]


def staff_alerts(conn: Connection, start: datetime, end: datetime, kinds: Sequence[str], rep: str | None) -> list:
    """Staff alerts of `kinds` recorded in [start, end), oldest first: kind, created_at and the customer."""
    a = StaffAlert.__table__
    return conn.execute(
        select(a.c.id, a.c.kind, a.c.created_at, *CUSTOMER_COLS)
        .join(C, C.c.id == a.c.customer_id)
        .where(a.c.created_at >= start, a.c.created_at < end, a.c.kind.in_(list(kinds)), *_of_rep(rep))
        .order_by(a.c.created_at, a.c.id)
    ).all()


def events_of_kind(conn: Connection, start: datetime, end: datetime, kind: str, rep: str | None) -> list:
    """Timeline events of one kind in [start, end), oldest first: at, doc_refs (a list) and the customer."""
    e = Event.__table__
    return conn.execute(
        select(e.c.id, e.c.at, e.c.doc_refs, *CUSTOMER_COLS)
        .join(C, C.c.id == e.c.customer_id)
        .where(e.c.at >= start, e.c.at < end, e.c.kind == kind, *_of_rep(rep))
        .order_by(e.c.at, e.c.id)
    ).all()


def promises_due(conn: Connection, day: date, rep: str | None) -> list:
    """Promises to pay whose promised date is `day`, any status, with the document ref (None: whole account)."""
    pr, d = Promise.__table__, Document.__table__
    return conn.execute(
        select(
            pr.c.id, pr.c.promised_date, pr.c.amount_cents, pr.c.currency, pr.c.status, d.c.ref.label("doc_ref"),
            *CUSTOMER_COLS,
        )
        .join(C, C.c.id == pr.c.customer_id)
        .outerjoin(d, d.c.id == pr.c.document_id)
        .where(pr.c.promised_date == day, *_of_rep(rep))
        .order_by(C.c.ref, pr.c.id)
    ).all()


def open_disputes(conn: Connection, rep: str | None) -> list[tuple]:
    """(row, [doc refs]) of every open dispute, oldest first."""
    ds, di, d = Dispute.__table__, DisputeItem.__table__, Document.__table__
    rows = conn.execute(
        select(ds.c.id, ds.c.reason, ds.c.text, ds.c.opened_at, ds.c.opened_by, *CUSTOMER_COLS)
        .join(C, C.c.id == ds.c.customer_id)
        .where(ds.c.status == DisputeStatus.OPEN, *_of_rep(rep))
        .order_by(ds.c.opened_at, ds.c.id)
    ).all()
    refs = _refs_by(conn, select(di.c.dispute_id, d.c.ref).join(d, d.c.id == di.c.document_id), di.c.dispute_id, rows)
    return [(r, refs.get(r.id, [])) for r in rows]


def claimed_payments(conn: Connection, rep: str | None) -> list[tuple]:
    """(row, [doc refs]) of every payment a debtor claimed that credit staff have not decided, oldest first."""
    p, a = Payment.__table__, Allocation.__table__
    rows = conn.execute(
        select(
            p.c.id, p.c.ref, p.c.date, p.c.amount_cents, p.c.currency, p.c.reference, p.c.method, p.c.created_at,
            *CUSTOMER_COLS,
        )
        .join(C, C.c.id == p.c.customer_id)
        .where(p.c.status == PaymentStatus.CLAIMED, *_of_rep(rep))
        .order_by(p.c.created_at, p.c.id)
    ).all()
    refs = _refs_by(conn, select(a.c.payment_id, a.c.document_ref).order_by(a.c.position), a.c.payment_id, rows)
    return [(r, refs.get(r.id, [])) for r in rows]


def _refs_by(conn: Connection, query, key_col, rows: Sequence) -> dict[int, list[str]]:  # noqa: ANN001
    out: dict[int, list[str]] = defaultdict(list)
    for chunk in chunks([r.id for r in rows]):
        for owner, ref in conn.execute(query.where(key_col.in_(list(chunk)))):
            out[owner].append(ref)
    return out


def broken_commitments(
    conn: Connection, customer_ids: Sequence[int], since: date, as_of: date
) -> dict[int, tuple[int, int]]:
    """customer id -> (broken promises, broken plans) in the window (since, as_of].

    A promise counts by its promised date; a plan by the day it was approved (or proposed,
    if never decided), as the plan record keeps no date of breaking.
    """
    pr, pl = Promise.__table__, PaymentPlan.__table__
    out: dict[int, list[int]] = {}
    for chunk in chunks(list(customer_ids)):
        for cid, n in conn.execute(
            select(pr.c.customer_id, func.count())
            .where(
                pr.c.customer_id.in_(list(chunk)),
                pr.c.status == PromiseStatus.BROKEN,
                pr.c.promised_date > since,
                pr.c.promised_date <= as_of,
            )
            .group_by(pr.c.customer_id)
        ):
            out.setdefault(cid, [0, 0])[0] = n
        for cid, when in conn.execute(
            select(pl.c.customer_id, func.coalesce(pl.c.decided_at, pl.c.proposed_at)).where(
                pl.c.customer_id.in_(list(chunk)), pl.c.status == PlanStatus.BROKEN
            )
        ):
            if when is not None and since < _day(when) <= as_of:
                out.setdefault(cid, [0, 0])[1] += 1
    return {cid: (a, b) for cid, (a, b) in out.items()}


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()  # SQLite gives COALESCE(...) back as text


def is_sales_rep(conn: Connection, slack_id: str) -> bool:
    """Whether any customer has `slack_id` as its sales rep (a blank id never is one)."""
    if not slack_id.strip():
        return False
    return conn.execute(select(C.c.id).where(C.c.sales_rep_slack_id == slack_id).limit(1)).first() is not None
