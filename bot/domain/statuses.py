"""The statuses a debtor's case moves through, as enums (stored as their string values).

Each is a StrEnum, so a member equals its stored string ("claimed" == PaymentStatus.CLAIMED)
and the columns stay plain VARCHAR(16): no migration, and rows written before read the same.
The outbox statuses (reminder sends, staff alerts, debtor messages) are the delivery path's.
"""

from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    """payment.status. An imported payment is `confirmed`; a debtor's claim ("I paid") is `claimed`
    until credit staff confirm it (it counts in balances) or reject it (it never counts)."""

    CLAIMED = "claimed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class DisputeStatus(StrEnum):
    """dispute.status: `open` pauses dunning on its items; `valid` waits for the ERP's credit note;
    `not_valid` resumes dunning."""

    OPEN = "open"
    VALID = "valid"
    NOT_VALID = "not_valid"


class PlanStatus(StrEnum):
    """payment_plan.status: `proposed` by the debtor, `approved` or `rejected` by credit staff;
    an approved plan is `active` once running, and ends `broken` (an instalment missed) or `completed`."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACTIVE = "active"
    BROKEN = "broken"
    COMPLETED = "completed"


LIVE_PLAN = (PlanStatus.APPROVED, PlanStatus.ACTIVE)  # plans whose items are not dunned


class PromiseStatus(StrEnum):
    """promise.status: a promise to pay is `open` until its date, then `kept` or `broken`."""

    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class HoldStatus(StrEnum):
    """hold.status: `active` pauses reminders until its date; a sales rep's request is `requested`
    until credit staff approve (active) or reject it; `released` ended early."""

    REQUESTED = "requested"
    ACTIVE = "active"
    REJECTED = "rejected"
    RELEASED = "released"
