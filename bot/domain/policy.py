"""The dunning policy as plain, validated data (DESIGN "Dunning policy").

Frozen pydantic dataclasses: built from TOML by `bot.domain.policy_loader`, or in
Python (tests, `dataclasses.replace`), and checked the same way either time: strict
types, no unknown keys, every number bounded (`bot.domain.policy_values`). The ladder
engine reads only these objects. Money is Decimal in major units ("25.00"), and every
money amount is per currency: 25.00 EUR and 25.00 IRR are not the same fee.
"""

from __future__ import annotations

from dataclasses import field
from datetime import time
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, model_validator
from pydantic.dataclasses import dataclass

from bot.domain.policy_values import (
    MAX_SEGMENTS,
    MAX_STEPS,
    Actions,
    AnnualRate,
    Clock,
    Country,
    Currency,
    Days,
    DaysOrZero,
    DiscountPercent,
    FeePercent,
    Money,
    PaymentLink,
    PositiveMoney,
    SegmentName,
    StepName,
    StepOffset,
    TemplateName,
    WorkingDays,
    refuse,
)

_CONFIG = ConfigDict(extra="forbid")


def _items(table: dict | None) -> tuple | None:
    return None if table is None else tuple(sorted(table.items()))


@dataclass(frozen=True, config=_CONFIG)
class LateFee:
    """A fee mentioned in a reminder: a percent of the open amount (optionally capped), or fixed.

    Exactly one of `percent` and `fixed`. `fixed` and `cap` are per currency
    ({"EUR": Decimal("25.00")}): an item in a currency that `fixed` does not name
    gets no fixed fee, and one that `cap` does not name gets an uncapped percentage.
    """

    percent: FeePercent | None = None  # e.g. Decimal("1.5") for 1.5%
    fixed: dict[Currency, PositiveMoney] | None = None
    cap: dict[Currency, PositiveMoney] = field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> LateFee:
        if (self.percent is None) == (self.fixed is None):
            refuse('write either percent = "1.5" or fixed = { EUR = "25.00", ... }, not both or neither')
        if self.fixed is not None and not self.fixed:
            refuse("name at least one currency, e.g. fixed = { EUR = \"25.00\" }", ".fixed")
        if self.fixed is not None and self.cap:
            refuse("a cap applies only to percent fees", ".cap")
        return self

    def __hash__(self) -> int:  # hashable like the rest of a Step, per-currency tables included
        return hash((self.percent, _items(self.fixed), _items(self.cap)))

    def fixed_for(self, currency: str) -> Decimal | None:
        """The fixed fee in `currency`, or None when the policy names none for it."""
        return None if self.fixed is None else self.fixed.get(currency)

    def cap_for(self, currency: str) -> Decimal | None:
        """The cap on a percent fee in `currency`, or None (uncapped)."""
        return self.cap.get(currency)


@dataclass(frozen=True, config=_CONFIG)
class Step:
    """One rung of a ladder; `offset_days` counts from the due date (negative = before)."""

    name: StepName
    offset_days: StepOffset
    template: TemplateName
    skippable: StrictBool = False
    late_fee: LateFee | None = None
    heads_up_days: Days | None = None  # warn the sales rep this many days before
    actions: Actions = ()  # "credit_hold", "escalate"
    sales_approval: StrictBool = False  # waits until sales (or credit staff) agree, item by item


@dataclass(frozen=True, config=_CONFIG)
class Discount:
    """Early-payment discount: `percent` off if paid within `within_days` of issue."""

    percent: DiscountPercent
    within_days: Days


@dataclass(frozen=True, config=_CONFIG)
class Segment:
    """One ladder. Interest and late fees are alternatives: a segment charges one or neither."""

    name: SegmentName
    steps: Annotated[tuple[Step, ...], Field(min_length=1, max_length=MAX_STEPS)]  # by offset
    interest_annual_rate: AnnualRate | None = None  # e.g. Decimal("0.08"): instead of fees
    discount: Discount | None = None

    @model_validator(mode="after")
    def _ladder(self) -> Segment:
        """Strictly increasing offsets (sorting silently would hide a typo), unique names."""
        for index, step in enumerate(self.steps):
            earlier = self.steps[:index]
            if any(other.name == step.name for other in earlier):
                refuse(f"step name {step.name!r} is used twice", f".steps[{index}].name")
            if earlier and step.offset_days <= earlier[-1].offset_days:
                prev = earlier[-1]
                same = "repeats" if step.offset_days == prev.offset_days else "comes before"
                refuse(
                    f"steps must be listed in strictly increasing offset order: {step.name!r} "
                    f"({step.offset_days}) {same} {prev.name!r} ({prev.offset_days})",
                    f".steps[{index}].offset_days",
                )
        fee_step = next((s for s in self.steps if s.late_fee is not None), None)
        if self.interest_annual_rate is not None and fee_step is not None:
            refuse(
                f"interest replaces late fees, but step {fee_step.name!r} has a late fee; choose one",
                ".interest_annual_rate",
            )
        return self


@dataclass(frozen=True, config=_CONFIG)
class BusinessHours:
    """The hours of a business day, in the debtor's zone; the days come from the country.

    A country's working week is its `holidays` weekend's complement, unless
    `working_days` overrides it for that country (Monday = 0). There is no override
    for all countries at once (DESIGN "Ladder dates and windows").
    """

    start: Clock = time(9, 0)
    end: Clock = time(18, 0)
    working_days: dict[Country, WorkingDays] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.start, self.end, _items(self.working_days)))

    @model_validator(mode="after")
    def _order(self) -> BusinessHours:
        if self.start >= self.end:
            refuse(f"must be after start ({self.start:%H:%M}), got {self.end:%H:%M}", ".end")
        return self


@dataclass(frozen=True, config=_CONFIG)
class Policy:
    """The whole policy; `segments` must have `default`, the ladder for customers without a segment."""

    segments: Annotated[dict[SegmentName, Segment], Field(max_length=MAX_SEGMENTS)]
    min_gap_days: DaysOrZero = 3
    minimum_open: dict[Currency, Money] = field(default_factory=dict)  # currency -> amount
    minimum_open_default: Money = Decimal("1.00")
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    payment_link_template: PaymentLink | None = None  # "{doc_ref}", "{customer_ref}", "{amount}", "{currency}"
    conversation_pause_days: DaysOrZero = 2
    claimed_payment_pause_days: Days | None = None  # None: a claim pauses until decided
    installment_reminder_days_before: DaysOrZero = 3
    installment_grace_days: DaysOrZero = 3  # an unpaid instalment is missed this many days after its due date
    # A dispute found valid waits for the ERP's credit note; credit staff are reminded after this many days.
    credit_note_wait_days: Days = 14
    # A payment the debtor claimed that no imported payment matches after this many days is shown to staff.
    unmatched_claim_days: Days = 10

    @model_validator(mode="after")
    def _segments(self) -> Policy:
        for key, segment in self.segments.items():
            if segment.name != key:
                refuse(f"segment {key!r} is named {segment.name!r}", f".segments.{key}.name")
        if "default" not in self.segments:
            refuse("a default segment is required", ".segments.default")
        return self

    def segment(self, name: str) -> Segment:
        """The ladder of segment `name`, or `default` for a segment the policy does not have."""
        return self.segments.get(name) or self.segments["default"]

    def minimum_for(self, currency: str) -> Decimal:
        """The open amount (major units) below which nobody is reminded, in `currency`."""
        return self.minimum_open.get(currency, self.minimum_open_default)
