"""The value rules of a dunning policy: each kind of number, name and code, with its bounds.

Used as `Annotated` types by the pydantic dataclasses of `bot.domain.policy`, so a
value is checked wherever a policy is built (from TOML or in Python). A refusal is a
`PydanticCustomError` of type "policy" whose `reason` is one plain line and whose
`at` (optional) is a key suffix such as "[1]" or ".end"; `bot.domain.policy_loader`
turns it into `PolicyError("segments.default.steps[1].offset_days", reason)`.

Bounds (README "Dunning policy"): they keep every date the sweep computes inside the
calendar and every amount inside the ledger's limit, so a typo such as
`min_gap_days = 1000000000` is refused by `policy check` instead of crashing sweeps.
"""

from __future__ import annotations

import re
import string
from datetime import time
from decimal import Decimal
from typing import Annotated, Any, NoReturn

from pydantic import AfterValidator, BeforeValidator, Strict
from pydantic_core import PydanticCustomError

# The ledger's own amount limit (DESIGN "Interfaces": amounts up to 999,999,999,999.99).
MAX_MONEY = Decimal("999999999999.99")
MAX_OFFSET_BEFORE = 365  # a step at most a year before the due date ...
MAX_OFFSET_AFTER = 3650  # ... and at most ten years after it
MAX_DAYS = 365  # gaps, pauses, heads-ups, grace, discount windows
NAME_LENGTH = 32  # step and segment names are stored in 32-character columns
TEMPLATE_LENGTH = 128
LINK_LENGTH = 2000
MAX_STEPS = 30
MAX_SEGMENTS = 100

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Stricter than ^[a-z][a-z0-9_/]*$: no empty, leading-dot or trailing parts.
TEMPLATE_RE = re.compile(r"^[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)*$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Monday = 0, as date.weekday()
ACTIONS = ("credit_hold", "escalate")
LINK_FIELDS = frozenset({"doc_ref", "customer_ref", "amount", "currency"})
# The sweep names a payment plan's instalment reminder "installment" in the outbox.
RESERVED_STEP_NAMES = frozenset({"installment"})

_TOML_KINDS = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
               tuple: "an array", dict: "a table"}


def toml_kind(value: Any) -> str:
    """TOML's word for a value's type, so messages speak the policy author's language."""
    return _TOML_KINDS.get(type(value), "a date or time")


def refuse(reason: str, at: str = "") -> NoReturn:
    """Refuse a value: `reason` is one line; `at` extends the key path ("[2]", ".end")."""
    raise PydanticCustomError("policy", "{reason}", {"reason": reason, "at": at})


# ---------------------------------------------------------------- numbers


def _days_between(low: int, high: int, unit: str = "days") -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            refuse(f"must be between {low} and {high} {unit}, got {value}")
        return value

    return AfterValidator(check)


def _decimal(value: Any, noun: str, example: str) -> Any:
    """A TOML string or integer as Decimal; floats are refused because they are inexact."""
    if isinstance(value, Decimal) or value is None:
        return value
    if isinstance(value, float):
        refuse(f'write {noun} as a string, e.g. "{example}" (floats are inexact)')
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if not isinstance(value, str):
        refuse(f"must be a string like \"{example}\", got {toml_kind(value)}")
    if not DECIMAL_RE.match(value):
        refuse(f'not a decimal number like "{example}": {value!r}')
    return Decimal(value)


def _money_in(value: Any) -> Any:
    return _decimal(value, "money", "1.50")


def _money_check(*, positive: bool) -> AfterValidator:
    def check(amount: Decimal) -> Decimal:
        if positive and amount <= 0:
            refuse(f"must be more than 0, got {amount:f} (leave the currency out for none)")
        if amount < 0:
            refuse(f"must be 0 or more, got {amount:f}")
        if amount > MAX_MONEY:
            refuse(f"must be at most {MAX_MONEY:,}, got {amount:f}")
        if -amount.as_tuple().exponent > 2:
            refuse(f"money has at most 2 decimals (cents), got {amount:f}")
        return amount

    return AfterValidator(check)


def _fraction_check(low: Decimal, high: Decimal, *, high_included: bool, what: str) -> AfterValidator:
    def check(value: Decimal) -> Decimal:
        if not (low < value <= high if high_included else low < value < high):
            limit = "at most" if high_included else "below"
            refuse(f"{what} must be more than {low} and {limit} {high}, got {value:f}")
        if -value.as_tuple().exponent > 6:
            refuse(f"write at most 6 decimals, got {value:f}")
        return value

    return AfterValidator(check)


StepOffset = Annotated[int, Strict(), _days_between(-MAX_OFFSET_BEFORE, MAX_OFFSET_AFTER)]
DaysOrZero = Annotated[int, Strict(), _days_between(0, MAX_DAYS)]
Days = Annotated[int, Strict(), _days_between(1, MAX_DAYS)]
Money = Annotated[Decimal, BeforeValidator(_money_in), _money_check(positive=False)]
PositiveMoney = Annotated[Decimal, BeforeValidator(_money_in), _money_check(positive=True)]
FeePercent = Annotated[
    Decimal,
    BeforeValidator(lambda v: _decimal(v, "a percentage", "1.5")),
    _fraction_check(Decimal(0), Decimal(100), high_included=True, what="a percentage"),
]
DiscountPercent = Annotated[
    Decimal,
    BeforeValidator(lambda v: _decimal(v, "a percentage", "2")),
    _fraction_check(Decimal(0), Decimal(100), high_included=False, what="a percentage"),
]
AnnualRate = Annotated[
    Decimal,
    BeforeValidator(lambda v: _decimal(v, "a rate", "0.08")),
    _fraction_check(Decimal(0), Decimal(1), high_included=True, what='an annual rate (a fraction, "0.08" for 8%)'),
]


# ---------------------------------------------------------------- names and codes


def _pattern(regex: re.Pattern[str], what: str, max_length: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > max_length:
            refuse(f"{what} has at most {max_length} characters, got {len(value)}")
        if not regex.match(value):
            refuse(f"{value!r} is not {what} (must match {regex.pattern})")
        return value

    return AfterValidator(check)


def _not_reserved(name: str) -> str:
    if name in RESERVED_STEP_NAMES:
        refuse(f"{name!r} is reserved for payment-plan instalment reminders; choose another step name")
    return name


def _code(regex: re.Pattern[str], example: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.match(value):
            refuse(f"{value!r} is not a code like {example} ({len(example)} upper-case letters)")
        return value

    return AfterValidator(check)


def _action(value: str) -> str:
    if value not in ACTIONS:
        refuse(f"{value!r} is not one of {', '.join(ACTIONS)}")
    return value


def _unique(values: tuple[Any, ...]) -> tuple[Any, ...]:
    for index, value in enumerate(values):
        if value in values[:index]:
            refuse(f"{value!r} is listed twice", f"[{index}]")
    return values


SegmentName = Annotated[str, Strict(), _pattern(NAME_RE, "a segment name", NAME_LENGTH)]
StepName = Annotated[str, Strict(), _pattern(NAME_RE, "a step name", NAME_LENGTH), AfterValidator(_not_reserved)]
TemplateName = Annotated[
    str, Strict(), _pattern(TEMPLATE_RE, "a template name like reminder/first", TEMPLATE_LENGTH)
]
Currency = Annotated[str, Strict(), _code(CURRENCY_RE, "EUR")]
Country = Annotated[str, Strict(), _code(COUNTRY_RE, "IR")]
Action = Annotated[str, Strict(), AfterValidator(_action)]
Actions = Annotated[tuple[Action, ...], AfterValidator(_unique)]


# ---------------------------------------------------------------- the clock and the week


def _clock(value: Any) -> Any:
    """"HH:MM" (24-hour) as a time; a TOML local time on the minute is accepted too."""
    if isinstance(value, time):
        if value.second or value.microsecond or value.tzinfo:
            refuse(f'write a time as "HH:MM" (24-hour), got {value}')
        return value
    if not isinstance(value, str):
        refuse(f'write a time as "HH:MM" (24-hour), got {toml_kind(value)}')
    match = HHMM_RE.match(value)
    if not match:
        refuse(f'write a time as "HH:MM" (24-hour), got {value!r}')
    return time(int(match[1]), int(match[2]))


def _day_names(value: Any) -> Any:
    """["sat", "sun", ...] as Monday=0 numbers; an empty or repeated list is surely a mistake."""
    if not isinstance(value, list | tuple):
        refuse(f"must be an array of day names ({', '.join(WEEKDAYS)}), got {toml_kind(value)}")
    if not value:
        refuse("needs at least one day, or no message would ever go out")
    days: list[int] = []
    numbers_ok = isinstance(value, tuple)  # Python callers (dataclasses.replace) pass Monday=0 numbers
    for index, name in enumerate(value):
        if name in WEEKDAYS:
            day: int | None = WEEKDAYS.index(name)
        else:
            day = name if numbers_ok and type(name) is int and 0 <= name < 7 else None
        if day is None:
            refuse(f"{name!r} is not one of {', '.join(WEEKDAYS)}", f"[{index}]")
        if day in days:
            refuse(f"{name!r} is listed twice", f"[{index}]")
        days.append(day)
    return tuple(sorted(days))


Clock = Annotated[time, BeforeValidator(_clock)]
WorkingDays = Annotated[tuple[int, ...], BeforeValidator(_day_names)]


# ---------------------------------------------------------------- the payment link


def _payment_link(value: str) -> str:
    """A URL template; only the four plain fields, so it cannot reach into objects."""
    if len(value) > LINK_LENGTH:
        refuse(f"has at most {LINK_LENGTH} characters, got {len(value)}")
    if not value.startswith(("https://", "http://")):
        refuse("must start with https:// or http://")
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as exc:
        refuse(f"not a valid template: {exc}")
    allowed = ", ".join("{" + name + "}" for name in sorted(LINK_FIELDS))
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if "." in field or "[" in field:
            refuse(f"{{{field}}}: attribute and index access are not allowed")
        if field not in LINK_FIELDS:
            refuse(f"unknown field {{{field}}}; use only {allowed}")
        if spec or conversion:
            refuse(f"write {{{field}}} plainly, without a conversion or format spec")
    return value


PaymentLink = Annotated[str, Strict(), AfterValidator(_payment_link)]
