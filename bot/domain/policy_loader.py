"""Read a dunning policy from TOML into the frozen dataclasses of `bot.domain.policy`.

A policy decides what debtors are told and charged, so a mistake in it must stop
the bot at start-up (or in `collectbot policy check`) rather than surface later as
a wrong reminder. Every value is therefore checked here, and every refusal is a
`PolicyError` naming the dotted key (``segments.default.steps[2].offset_days``) and
the reason. Unknown keys are refused too: a typo such as ``ofset_days`` must never
be silently ignored in favour of a default.

Shape (every key except ``segments`` is optional and falls back to the dataclass
default)::

    min_gap_days, minimum_open_default, conversation_pause_days,
    claimed_payment_pause_days, installment_reminder_days_before, installment_grace_days,
    payment_link_template
    [minimum_open]            CUR = "amount"
    [business_hours]          start, end ("HH:MM"), weekdays (["mon", ...])
    [segments.NAME]           interest_annual_rate, discount = {percent, within_days}
    [[segments.NAME.steps]]   name, offset_days, template, skippable,
                              late_fee = {kind, value, cap}, heads_up_days, actions,
                              sales_approval

Everything here is pure except `load_policy`, which reads the one file.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable, Collection
from datetime import time
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

from bot.domain.policy import BusinessHours, Discount, LateFee, Policy, Segment, Step

Reader = Callable[[Any, str], Any]

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Stricter than ^[a-z][a-z0-9_/]*$: no empty, leading-dot or trailing parts.
TEMPLATE_RE = re.compile(r"^[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)*$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

ACTIONS = frozenset({"credit_hold", "escalate"})
LINK_FIELDS = frozenset({"doc_ref", "customer_ref", "amount", "currency"})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_TOML_TYPES = {
    bool: "a boolean",
    int: "an integer",
    float: "a float",
    str: "a string",
    list: "an array",
    dict: "a table",
}


class PolicyError(ValueError):
    """A refused policy value; `key` is the dotted path so the author can find it."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


# ---------------------------------------------------------------- entry points


def parse_policy(text: str) -> Policy:
    """Parse and validate a whole policy; raises PolicyError on the first bad value."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("toml", f"not valid TOML: {exc}") from None
    kwargs = _read_table(data, "", _POLICY_FIELDS, required={"segments"})
    return Policy(**kwargs)


def load_policy(path: str | Path | None) -> Policy:
    """Load the policy at `path`, or the packaged default when `path` is None.

    An unreadable file is a PolicyError too (keyed by the path), so callers such as
    the CLI have one exception to turn into a one-line reason.
    """
    if path is None:
        return parse_policy(default_policy_text())
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(path), f"cannot read the policy file: {exc}") from None
    return parse_policy(text)


def default_policy_text() -> str:
    """The packaged default policy, as shipped (useful as a starting point to edit)."""
    return (files("bot") / "policy" / "default.toml").read_text(encoding="utf-8")


# ---------------------------------------------------------------- generic readers


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value: Any) -> str:
    """TOML's word for a value's type, so messages speak the author's language."""
    return _TOML_TYPES.get(type(value), "a date or time")


def _read_table(data: Any, path: str, fields: dict[str, Reader], required: Collection[str] = ()) -> dict[str, Any]:
    """Read the known keys of a table into dataclass kwargs; refuse unknown or missing ones.

    Absent optional keys are left out of the result so the dataclass defaults (kept
    in one place, `bot.domain.policy`) apply.
    """
    _expect(data, dict, path or "(top level)")
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise PolicyError(_join(path, key), f"unknown key (known keys here: {known})")
    for key in sorted(required):
        if key not in data:
            raise PolicyError(_join(path, key), "is required")
    return {key: fields[key](value, _join(path, key)) for key, value in data.items()}


def _expect(value: Any, kind: type, key: str) -> None:
    # bool is a subclass of int in Python; TOML keeps them apart, and so do we.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PolicyError(key, f"must be {_TOML_TYPES[kind]}, got {_kind(value)}")


def _integer(minimum: int | None = None) -> Reader:
    def read(value: Any, key: str) -> int:
        _expect(value, int, key)
        if minimum is not None and value < minimum:
            raise PolicyError(key, f"must be >= {minimum}, got {value}")
        return value

    return read


def _boolean(value: Any, key: str) -> bool:
    _expect(value, bool, key)
    return value


def _decimal(value: Any, key: str, example: str, noun: str = "money") -> Decimal:
    """A TOML string or integer as Decimal; floats are refused because they are inexact."""
    if isinstance(value, float):
        raise PolicyError(key, f'write {noun} as a string, e.g. "{example}" (floats are inexact)')
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    _expect(value, str, key)
    if not DECIMAL_RE.match(value):
        raise PolicyError(key, f'not a decimal number like "{example}": {value!r}')
    return Decimal(value)


def _money(minimum: Decimal, *, strict: bool = False) -> Reader:
    """An amount >= minimum (or > minimum when strict)."""

    def read(value: Any, key: str) -> Decimal:
        amount = _decimal(value, key, "1.50")
        if amount < minimum or (strict and amount == minimum):
            sign = ">" if strict else ">="
            raise PolicyError(key, f"must be {sign} {minimum}, got {amount}")
        return amount

    return read


def _pattern(regex: re.Pattern[str], what: str) -> Reader:
    def read(value: Any, key: str) -> str:
        _expect(value, str, key)
        if not regex.match(value):
            raise PolicyError(key, f"{value!r} is not {what} (must match {regex.pattern})")
        return value

    return read


def _choice(options: tuple[str, ...]) -> Reader:
    def read(value: Any, key: str) -> str:
        _expect(value, str, key)
        if value not in options:
            raise PolicyError(key, f"{value!r} is not one of {', '.join(options)}")
        return value

    return read


# ---------------------------------------------------------------- policy-wide values


def _minimum_open(value: Any, key: str) -> dict[str, Decimal]:
    """Currency code -> minimum amount below which nobody is reminded."""
    _expect(value, dict, key)
    amounts = {}
    for currency, amount in value.items():
        at = _join(key, currency)
        if not CURRENCY_RE.match(currency):
            raise PolicyError(at, "currency codes are 3 upper-case letters, e.g. EUR")
        amounts[currency] = _money(Decimal(0))(amount, at)
    return amounts


def _clock(value: Any, key: str) -> time:
    _expect(value, str, key)
    match = HHMM_RE.match(value)
    if not match:
        raise PolicyError(key, f'write a time as "HH:MM" (24-hour), got {value!r}')
    return time(int(match[1]), int(match[2]))


def _weekdays(value: Any, key: str) -> tuple[int, ...]:
    """Day names to Monday=0 numbers; a repeated or empty list is surely a mistake."""
    _expect(value, list, key)
    if not value:
        raise PolicyError(key, "needs at least one day, or no message would ever go out")
    days = []
    for index, name in enumerate(value):
        at = f"{key}[{index}]"
        if name not in WEEKDAYS:
            raise PolicyError(at, f"{name!r} is not one of {', '.join(WEEKDAYS)}")
        if WEEKDAYS.index(name) in days:
            raise PolicyError(at, f"{name!r} is listed twice")
        days.append(WEEKDAYS.index(name))
    return tuple(sorted(days))


def _business_hours(value: Any, key: str) -> BusinessHours:
    fields = {"start": _clock, "end": _clock, "weekdays": _weekdays}
    kwargs = _read_table(value, key, fields)
    hours = BusinessHours(**kwargs)
    if hours.start >= hours.end:
        raise PolicyError(_join(key, "end"), f"must be after start ({hours.start:%H:%M}), got {hours.end:%H:%M}")
    return hours


def _payment_link(value: Any, key: str) -> str:
    """A URL template; only the four plain fields, so it cannot reach into objects."""
    _expect(value, str, key)
    if not value.startswith(("https://", "http://")):
        raise PolicyError(key, "must start with https:// or http://")
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise PolicyError(key, f"not a valid template: {exc}") from None
    for _literal, field, spec, conversion in parts:
        if field is not None:
            _check_link_field(field, spec, conversion, key)
    return value


def _check_link_field(field: str, spec: str | None, conversion: str | None, key: str) -> None:
    allowed = ", ".join("{" + name + "}" for name in sorted(LINK_FIELDS))
    if "." in field or "[" in field:
        raise PolicyError(key, f"{{{field}}}: attribute and index access are not allowed")
    if field not in LINK_FIELDS:
        raise PolicyError(key, f"unknown field {{{field}}}; use only {allowed}")
    if spec or conversion:
        raise PolicyError(key, f"write {{{field}}} plainly, without a conversion or format spec")


# ---------------------------------------------------------------- segments and steps


def _late_fee(value: Any, key: str) -> LateFee:
    fields = {
        "kind": _choice(("fixed", "percent")),
        "value": _money(Decimal(0), strict=True),
        "cap": _money(Decimal(0)),
    }
    fee = LateFee(**_read_table(value, key, fields, required={"kind", "value"}))
    if fee.kind == "percent" and fee.value > 100:
        raise PolicyError(_join(key, "value"), f"a percentage must be <= 100, got {fee.value}")
    if fee.kind == "fixed" and fee.cap is not None:
        raise PolicyError(_join(key, "cap"), "a cap applies only to percent fees")
    return fee


def _actions(value: Any, key: str) -> tuple[str, ...]:
    _expect(value, list, key)
    for index, action in enumerate(value):
        if not isinstance(action, str) or action not in ACTIONS:
            known = ", ".join(sorted(ACTIONS))
            raise PolicyError(f"{key}[{index}]", f"{action!r} is not one of {known}")
        if action in value[:index]:
            raise PolicyError(f"{key}[{index}]", f"{action!r} is listed twice")
    return tuple(value)


_STEP_FIELDS: dict[str, Reader] = {
    "name": _pattern(NAME_RE, "a step name"),
    "offset_days": _integer(),  # negative = before the due date
    "template": _pattern(TEMPLATE_RE, "a template name like reminder/first"),
    "skippable": _boolean,
    "late_fee": _late_fee,
    "heads_up_days": _integer(1),
    "actions": _actions,
    "sales_approval": _boolean,
}


def _steps(value: Any, key: str) -> tuple[Step, ...]:
    """The ladder, which must already be in strictly increasing offset order.

    Sorting silently would hide a typo in an offset; two steps on one day would
    make "the next step" ambiguous. Both are refused instead.
    """
    _expect(value, list, key)
    if not value:
        raise PolicyError(key, "a segment needs at least one step")
    steps: list[Step] = []
    for index, raw in enumerate(value):
        at = f"{key}[{index}]"
        step = Step(**_read_table(raw, at, _STEP_FIELDS, required={"name", "offset_days", "template"}))
        _check_step_order(step, steps, at)
        steps.append(step)
    return tuple(steps)


def _check_step_order(step: Step, earlier: list[Step], at: str) -> None:
    for other in earlier:
        if other.name == step.name:
            raise PolicyError(_join(at, "name"), f"step name {step.name!r} is used twice")
    if earlier and step.offset_days <= earlier[-1].offset_days:
        prev = earlier[-1]
        same = "repeats" if step.offset_days == prev.offset_days else "comes before"
        raise PolicyError(
            _join(at, "offset_days"),
            f"steps must be listed in strictly increasing offset order: {step.name!r} "
            f"({step.offset_days}) {same} {prev.name!r} ({prev.offset_days})",
        )


def _annual_rate(value: Any, key: str) -> Decimal:
    rate = _decimal(value, key, "0.08", "a rate")
    if not Decimal(0) < rate <= Decimal(1):
        raise PolicyError(key, f'an annual rate is a fraction between 0 and 1 (e.g. "0.08"), got {rate}')
    return rate


def _discount(value: Any, key: str) -> Discount:
    fields = {
        "percent": lambda v, k: _decimal(v, k, "2", "a percentage"),
        "within_days": _integer(1),
    }
    discount = Discount(**_read_table(value, key, fields, required={"percent", "within_days"}))
    if not Decimal(0) < discount.percent < Decimal(100):
        raise PolicyError(_join(key, "percent"), f"must be between 0 and 100 (exclusive), got {discount.percent}")
    return discount


_SEGMENT_FIELDS: dict[str, Reader] = {
    "steps": _steps,
    "interest_annual_rate": _annual_rate,
    "discount": _discount,
}


def _segment(name: str, value: Any, key: str) -> Segment:
    """One ladder; interest and fees are alternatives, so a segment may not charge both."""
    segment = Segment(name=name, **_read_table(value, key, _SEGMENT_FIELDS, required={"steps"}))
    fee_step = next((s for s in segment.steps if s.late_fee is not None), None)
    if segment.interest_annual_rate is not None and fee_step is not None:
        raise PolicyError(
            _join(key, "interest_annual_rate"),
            f"interest replaces late fees, but step {fee_step.name!r} has a late fee; choose one",
        )
    return segment


def _segments(value: Any, key: str) -> dict[str, Segment]:
    """All ladders by name; `default` must exist because unknown segments fall back to it."""
    _expect(value, dict, key)
    segments = {}
    for name, raw in value.items():
        at = _join(key, name)
        if not NAME_RE.match(name):
            raise PolicyError(at, f"segment name {name!r} must match {NAME_RE.pattern}")
        segments[name] = _segment(name, raw, at)
    if "default" not in segments:
        raise PolicyError(_join(key, "default"), "a default segment is required")
    return segments


_POLICY_FIELDS: dict[str, Reader] = {
    "segments": _segments,
    "min_gap_days": _integer(0),
    "minimum_open": _minimum_open,
    "minimum_open_default": _money(Decimal(0)),
    "business_hours": _business_hours,
    "payment_link_template": _payment_link,
    "conversation_pause_days": _integer(0),
    # Leave claimed_payment_pause_days out for "paused until credit staff decide".
    "claimed_payment_pause_days": _integer(1),
    "installment_reminder_days_before": _integer(0),
    "installment_grace_days": _integer(0),
    "credit_note_wait_days": _integer(1),
}
