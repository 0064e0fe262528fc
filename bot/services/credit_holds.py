"""Credit holds: the stop on new sales (DESIGN "Dunning policy"). Not a pause of reminders.

Set by a step's `credit_hold` action (the sweep) or by hand (`collectbot credit-hold CUSTOMER
--set --reason TEXT`); lifted by the first sweep at which the customer has nothing overdue, or by
hand (`--release`). A hold set by hand while nothing is overdue is a stop for another reason:
only a hand lifts it. Every change is a timeline event: `credit_hold_set` / `credit_hold_released`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from bot.domain.balances import nothing_overdue
from bot.services.balances import customer_balance
from bot.services.customers import CustomerRow, resolve_exact
from storage import credit_holds, events


class CreditHoldUnchanged(LookupError):
    """The customer already is (for --set) or is not (for --release) on credit hold: nothing changed."""


@dataclass(frozen=True)
class CreditHoldChange:
    """What a hand change did: the customer, the new state, and whether a sweep may lift it."""

    customer_ref: str
    name: str
    credit_hold: bool
    auto_release: bool


def set_by_hand(conn: Connection, query: str, *, reason: str, actor: str, now: datetime) -> CreditHoldChange:
    """Put the customer named exactly by `query` on credit hold, in the caller's transaction.

    Raises CustomerNotExact / CustomerAmbiguous / CustomerNotFound (bot.services.customers) for a
    query that is not an exact ref, name or alias, and CreditHoldUnchanged if already on hold.
    The sweep lifts it once nothing is overdue only if something is overdue now.
    """
    customer = resolve_exact(conn, query)
    today = now.astimezone(ZoneInfo(customer.timezone)).date()
    auto = not nothing_overdue(customer_balance(conn, customer, today))
    if not credit_holds.set_hold(conn, customer.id, auto_release=auto):
        raise CreditHoldUnchanged(f"{customer.ref} ({customer.name}) is already on credit hold")
    events.record(conn, at=now, kind="credit_hold_set", actor=actor, customer_id=customer.id,
                  text=f"credit hold set: {reason}")
    return CreditHoldChange(customer.ref, customer.name, True, auto)


def release_by_hand(conn: Connection, query: str, *, reason: str, actor: str, now: datetime) -> CreditHoldChange:
    """Lift the credit hold of the customer named exactly by `query`, in the caller's transaction.
    Raises like `set_by_hand`; CreditHoldUnchanged if the customer is not on credit hold."""
    customer = resolve_exact(conn, query)
    if not credit_holds.release(conn, customer.id):
        raise CreditHoldUnchanged(f"{customer.ref} ({customer.name}) is not on credit hold")
    events.record(conn, at=now, kind="credit_hold_released", actor=actor, customer_id=customer.id,
                  text=f"credit hold released: {reason}")
    return CreditHoldChange(customer.ref, customer.name, False, False)


def set_by_ladder(conn: Connection, customer: CustomerRow, step: str, now: datetime) -> bool:
    """A step's `credit_hold` action: put the customer on a hold the sweep lifts once nothing is
    overdue. False if already on credit hold (kept as it is)."""
    if not credit_holds.set_hold(conn, customer.id, auto_release=True):
        return False
    events.record(conn, at=now, kind="credit_hold_set", actor="system", customer_id=customer.id,
                  text=f"credit hold set by the {step} step: no new sales until nothing is overdue")
    return True


def release_by_sweep(conn: Connection, customer: CustomerRow, now: datetime) -> bool:
    """The sweep found nothing overdue: lift the credit hold. False if another process already did."""
    if not credit_holds.release(conn, customer.id, only_auto=True):
        return False
    events.record(conn, at=now, kind="credit_hold_released", actor="system", customer_id=customer.id,
                  text="credit hold released: nothing is overdue any more")
    return True
