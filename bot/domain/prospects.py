"""Prospects for sales: customers who could buy more now (DESIGN "Chat behaviour": `prospects`).

A customer is a prospect at `as_of` when all of these hold:

- nothing is overdue in any currency (`overdue` of every balance is 0);
- a credit limit is set (without one, credit has not been granted) and the
  available credit in the customer's own currency, credit_limit - total_open
  (DESIGN "Balance rules"), is above zero;
- the account is not on credit hold (the stop on new sales).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.balances import Balance


@dataclass(frozen=True)
class Prospect:
    currency: str  # the customer's own currency
    credit_limit_cents: int
    total_open_cents: int
    available_credit_cents: int


def prospect(balance: Balance, *, currency: str, credit_limit_cents: int | None, credit_hold: bool) -> Prospect | None:
    """The customer's headroom if they are a prospect (rules above), else None."""
    if credit_hold or credit_limit_cents is None:
        return None
    if any(b.overdue_cents for b in balance.balances):
        return None
    own = balance.for_currency(currency)
    total = own.total_open_cents if own is not None else 0
    available = credit_limit_cents - total
    if available <= 0:
        return None
    return Prospect(currency, credit_limit_cents, total, available)
