"""The dunning policy as plain data.

Loaded from TOML by `bot.domain.policy_loader`; the ladder engine reads only
these frozen dataclasses. Money here is Decimal in major units (e.g. "1.00").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal


@dataclass(frozen=True)
class LateFee:
    """A fee mentioned in a reminder: fixed, or percent of the open amount, capped."""

    kind: str  # "fixed" | "percent"
    value: Decimal  # fixed: amount in the item's currency; percent: e.g. Decimal("1.5")
    cap: Decimal | None = None  # in the item's currency


@dataclass(frozen=True)
class Step:
    name: str
    offset_days: int  # from the due date; negative = before
    template: str
    skippable: bool = False
    late_fee: LateFee | None = None
    heads_up_days: int | None = None  # warn the sales rep this many days before
    actions: tuple[str, ...] = ()  # "credit_hold", "escalate"
    sales_approval: bool = False  # waits until sales (or credit staff) agree, item by item


@dataclass(frozen=True)
class Discount:
    """Early-payment discount: `percent` off if paid within `within_days` of issue."""

    percent: Decimal
    within_days: int


@dataclass(frozen=True)
class Segment:
    name: str
    steps: tuple[Step, ...]  # ordered by offset
    interest_annual_rate: Decimal | None = None  # e.g. Decimal("0.08"): instead of fees
    discount: Discount | None = None


@dataclass(frozen=True)
class BusinessHours:
    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0


@dataclass(frozen=True)
class Policy:
    segments: dict[str, Segment]
    min_gap_days: int = 3
    minimum_open: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount
    minimum_open_default: Decimal = Decimal("1.00")
    business_hours: BusinessHours = BusinessHours()
    payment_link_template: str | None = None  # "{doc_ref}", "{customer_ref}", "{amount}", "{currency}"
    conversation_pause_days: int = 2
    claimed_payment_pause_days: int | None = None  # None: a claim pauses until decided
    installment_reminder_days_before: int = 3
    installment_grace_days: int = 3  # an unpaid instalment is missed this many days after its due date
    # A dispute found valid waits for the ERP's credit note; credit staff are reminded after this many days.
    credit_note_wait_days: int = 14

    def segment(self, name: str) -> Segment:
        return self.segments.get(name) or self.segments["default"]

    def minimum_for(self, currency: str) -> Decimal:
        return self.minimum_open.get(currency, self.minimum_open_default)
