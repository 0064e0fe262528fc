"""What stops reminders for an item, and the status an open item shows.

DESIGN "open_items.status": the first that applies of disputed, claimed,
in_plan, promised, on_hold, open. The same facts pause the dunning ladder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class Pauses:
    """One customer's pausing facts, keyed by document ref."""

    disputed: set[str] = field(default_factory=set)
    claimed: dict[str, datetime] = field(default_factory=dict)  # ref -> when the claim was made
    in_plan: set[str] = field(default_factory=set)
    promised: dict[str, date] = field(default_factory=dict)  # ref -> latest promised date
    promised_all: date | None = None  # a promise for the whole account
    customer_hold_until: date | None = None
    doc_hold_until: dict[str, date] = field(default_factory=dict)
    conversation_at: datetime | None = None  # last message of an open talk with a person

    def promised_until(self, ref: str) -> date | None:
        """The latest promised date covering `ref` (its own promise or one for the whole account), or None."""
        dates = [d for d in (self.promised.get(ref), self.promised_all) if d is not None]
        return max(dates) if dates else None

    def hold_until(self, ref: str) -> date | None:
        """The last held date covering `ref` (a hold on it or on the whole customer), or None."""
        dates = [d for d in (self.doc_hold_until.get(ref), self.customer_hold_until) if d is not None]
        return max(dates) if dates else None


def item_status(ref: str, pauses: Pauses, local_today: date) -> str:
    """What `balance` shows for an open item at the debtor's local date (DESIGN "Interfaces"):
    "disputed", "claimed", "in_plan", "promised", "on_hold", else "open" (the first that applies).
    """
    if ref in pauses.disputed:
        return "disputed"
    if ref in pauses.claimed:
        return "claimed"
    if ref in pauses.in_plan:
        return "in_plan"
    promised = pauses.promised_until(ref)
    if promised is not None and local_today <= promised:
        return "promised"
    hold = pauses.hold_until(ref)
    if hold is not None and local_today <= hold:
        return "on_hold"
    return "open"
