"""Read a dunning policy from TOML into the validated dataclasses of `bot.domain.policy`.

A policy decides what debtors are told and charged, so a mistake in it must stop
the bot at start-up (or in `collectbot policy check`) rather than surface later as
a wrong reminder or a crashed sweep. pydantic checks every value (strict types, no
unknown keys, bounds); this module turns the first refusal into one `PolicyError`
naming the dotted key (``segments.default.steps[2].offset_days``) and one line of
reason in the policy author's terms (TOML's "integer", "table", "array").

Shape (every key except ``segments`` is optional and falls back to the dataclass
default)::

    min_gap_days, minimum_open_default, conversation_pause_days,
    claimed_payment_pause_days, installment_reminder_days_before, installment_grace_days,
    credit_note_wait_days, unmatched_claim_days,
    payment_link_template
    [minimum_open]                  CUR = "amount"
    [business_hours]                start, end ("HH:MM")
    [business_hours.working_days]   CC = ["sat", "sun", ...]   (per country, optional)
    [segments.NAME]                 interest_annual_rate, discount = {percent, within_days}
    [[segments.NAME.steps]]         name, offset_days, template, skippable, heads_up_days,
                                    late_fee = {percent, cap = {CUR = "amount"}}
                                            or {fixed = {CUR = "amount"}},
                                    actions, sales_approval

Everything here is pure except `load_policy`, which reads the one file. Checking
that the templates exist and render is `bot.services.policy`'s job (it needs the
renderer, which the domain does not import).
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from pydantic import TypeAdapter, ValidationError

from bot.domain.policy import Policy, Segment
from bot.domain.policy_values import toml_kind

_ADAPTER = TypeAdapter(Policy)

_NEW_FEE_SHAPE = (
    'money is per currency: write late_fee = { percent = "1.5", cap = { EUR = "40.00" } } '
    'or late_fee = { fixed = { EUR = "25.00", USD = "25.00" } }'
)
# Keys of earlier policy shapes, refused with what to write instead.
_MOVED = {
    ("business_hours", "weekdays"): (
        "working days come from each customer's country (its weekend in the holidays package); "
        'override them per country: [business_hours.working_days] IR = ["sat", "sun", "mon", "tue", "wed"]'
    ),
    ("late_fee", "kind"): _NEW_FEE_SHAPE,
    ("late_fee", "value"): _NEW_FEE_SHAPE,
}
_HIDDEN = {Segment: {"name"}}  # a segment is named by its table, [segments.NAME]

_TYPE_WORDS = {
    "int_type": "an integer",
    "bool_type": "a boolean",
    "string_type": "a string",
    "tuple_type": "an array",
    "list_type": "an array",
    "dict_type": "a table",
    "dataclass_type": "a table",
    "dataclass_args_type": "a table",
}


class PolicyError(ValueError):
    """A refused policy: `key` is the dotted path to fix ("" for the whole file), `reason`
    one line; `source` names the file when one was read."""

    def __init__(self, key: str, reason: str, source: str | None = None) -> None:
        super().__init__(f"{key}: {reason}" if key else reason)
        self.key = key
        self.reason = reason
        self.source = source

    def located(self) -> str:
        """The one line a command prints: "FILE: key: reason" (or "packaged policy: ...")."""
        return f"{self.source or 'packaged policy'}: {self}"


# ---------------------------------------------------------------- entry points


def parse_policy(text: str, source: str | None = None) -> Policy:
    """Parse and validate a whole policy; raises PolicyError on the first bad value."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("", f"not valid TOML: {exc}", source) from None
    return build_policy(data, source)


def build_policy(data: dict[str, Any], source: str | None = None) -> Policy:
    """Validate a policy already read from TOML (a dict of TOML values)."""
    data = _name_segments(data, source)
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise _policy_error(exc, source) from None


def load_policy(path: str | Path | None) -> Policy:
    """Load the policy at `path`, or the packaged default when `path` is None.

    An unreadable file is a PolicyError too, so callers such as the CLI have one
    exception to turn into a one-line reason.
    """
    if path is None:
        return parse_policy(default_policy_text())
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PolicyError("", f"cannot read the policy file: {reason}", source) from None
    return parse_policy(text, source)


def default_policy_text() -> str:
    """The packaged default policy, as shipped (useful as a starting point to edit)."""
    return (files("bot") / "policy" / "default.toml").read_text(encoding="utf-8")


# ---------------------------------------------------------------- from TOML to the dataclasses


def _name_segments(data: dict[str, Any], source: str | None) -> dict[str, Any]:
    """Give each segment table its name (the table's key), as `Segment.name` wants."""
    segments = data.get("segments")
    if not isinstance(segments, dict):
        return data
    named = {}
    for key, table in segments.items():
        if isinstance(table, dict):
            if "name" in table:
                raise PolicyError(f"segments.{key}.name", "unknown key (a segment is named by its table, "
                                  "[segments.NAME])", source)
            table = {"name": key, **table}
        named[key] = table
    return {**data, "segments": named}


def _policy_error(exc: ValidationError, source: str | None) -> PolicyError:
    """The first problem, unknown keys first: a typo'd key explains the missing one it replaced."""
    errors = exc.errors()
    first = next((e for e in errors if e["type"] == "unexpected_keyword_argument"), errors[0])
    loc = tuple(part for part in first["loc"] if part != "[key]")
    ctx = first.get("ctx") or {}
    key = _join(loc, ctx.get("at", "") if first["type"] == "policy" else "")
    return PolicyError(key, _reason(first, loc), source)


def _join(loc: tuple[str | int, ...], at: str) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    path += at
    return path.lstrip(".")


def _reason(error: dict[str, Any], loc: tuple[str | int, ...]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "policy":
        return error["ctx"]["reason"]
    if kind == "unexpected_keyword_argument":
        parent = next((p for p in reversed(loc[:-1]) if isinstance(p, str)), "")
        moved = _MOVED.get((parent, loc[-1]))
        if moved:
            return f"unknown key: {moved}"
        return f"unknown key (known keys here: {', '.join(sorted(_known_keys(loc[:-1])))})"
    if kind == "missing":
        return "is required"
    if kind == "dict_type" and loc and loc[-1] == "working_days":
        return ('must be a table of countries, e.g. IR = ["sat", "sun", "mon", "tue", "wed"] '
                "(working days are set per country, never for all countries at once)")
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]}, got {toml_kind(value)}"
    if kind == "too_short" and loc and loc[-1] == "steps":
        return "a segment needs at least one step"
    if kind == "too_long":
        return f"has at most {error['ctx']['max_length']} entries, got {error['ctx']['actual_length']}"
    return error["msg"]


def _plain(tp: Any) -> Any:
    """The type inside Annotated[...] and Optional[...]."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            tp = next(arg for arg in get_args(tp) if arg is not type(None))
        else:
            return tp


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys the table at `loc` accepts, walking the dataclasses' type hints."""
    tp: Any = Policy
    for part in loc:
        tp = _plain(tp)
        if dataclasses.is_dataclass(tp) and isinstance(part, str):
            tp = get_type_hints(tp, include_extras=True).get(part)
        elif get_origin(tp) in (dict, tuple):
            tp = get_args(tp)[-1 if get_origin(tp) is dict else 0]
        else:
            return []
    tp = _plain(tp)
    if not (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
        return []
    hidden = _HIDDEN.get(tp, set())
    return [f.name for f in dataclasses.fields(tp) if f.name not in hidden]
