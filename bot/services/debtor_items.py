"""What a debtor's flow offers and checks: the customer's open items, and whether refs are still theirs.

Read in the transaction of the update being handled (bot.services.chats.chat_step), so what the
debtor is offered and what their answer records are seen from the same state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from bot.domain.pauses import item_status
from bot.domain.statuses import PlanStatus
from bot.services.balances import customer_balance
from bot.services.customers import CustomerRow
from storage.pauses import load_pauses
from storage.tables import Document, PaymentPlan, PlanItem


@dataclass(frozen=True)
class ItemChoice:
    """An open item as a flow offers it: amount open in minor units (cents) of `currency`, and its
    status (bot.domain.pauses.item_status: e.g. `disputed`, `in_plan`, `claimed`, or `open`)."""

    ref: str
    currency: str
    open_cents: int
    due_date: date
    status: str


def open_item_choices(conn: Connection, customer: CustomerRow, today: date) -> list[ItemChoice]:
    """The customer's open items at the debtor's local date `today`, oldest first, with their status."""
    balance = customer_balance(conn, customer, today)
    pauses = load_pauses(conn, [customer.id])[customer.id]
    return [
        ItemChoice(i.ref, i.currency, i.open_cents, i.due_date, item_status(i.ref, pauses, today))
        for i in balance.open_items
    ]


def refs_in_proposed_plans(conn: Connection, customer_id: int) -> set[str]:
    """Refs already in a payment plan that waits for credit staff (status `proposed`)."""
    pl, pi, d = PaymentPlan.__table__, PlanItem.__table__, Document.__table__
    q = (
        select(d.c.ref)
        .join(pi, pi.c.document_id == d.c.id)
        .join(pl, pl.c.id == pi.c.plan_id)
        .where(pl.c.customer_id == customer_id, pl.c.status == PlanStatus.PROPOSED)
    )
    return set(conn.execute(q).scalars())


def documents_held(conn: Connection, customer_id: int, refs: Iterable[str]) -> set[str]:
    """Which of `refs` are documents of the customer (the rest are not, or no longer, theirs)."""
    d = Document.__table__
    wanted = list(refs)
    return set(conn.execute(select(d.c.ref).where(d.c.ref.in_(wanted), d.c.customer_id == customer_id)).scalars())
