"""The policy parser against random TOML: a policy, or one PolicyError line, never anything else.

The documents are the packaged policy with random changes (a value replaced by any TOML value,
a key removed or added, a table turned into an array, text cut or spliced), plus random text,
so every validator meets shapes it was not written for. `policy check` goes further (the
templates each step names are rendered in every locale): it is fuzzed on a share of them.
"""

from __future__ import annotations

import json
import math
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.policy import Policy
from bot.domain.policy_loader import PolicyError, default_policy_text, parse_policy
from bot.services.policy import check_policy
from messages import Renderer
from tests.fuzz.profile import fuzz

DEFAULT = tomllib.loads(default_policy_text())
WORDS = ["default", "steps", "name", "offset_days", "template", "skippable", "heads_up_days", "late_fee",
         "percent", "cap", "fixed", "EUR", "USD", "actions", "credit_hold", "escalate", "sales_approval",
         "discount", "within_days", "interest_annual_rate", "segments", "minimum_open", "business_hours",
         "working_days", "IR", "start", "end", "reminder/first", "reminder/../../etc/passwd", "{{ 7*7 }}",
         "sat", "min_gap_days", "payment_link_template", "{doc_ref}", "{__class__}", ""]


def toml_values(depth: int = 2) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(),
        st.booleans(),
        st.text(max_size=12),
        st.sampled_from(WORDS),
        st.sampled_from(["1.50", "-1", "0", "1e3", "NaN", "09:00", "25:00", "99999999999999.999", "0.001"]),
        st.dates(), st.times(), st.datetimes(),
    )
    if depth == 0:
        return leaves
    return st.one_of(
        leaves,
        st.lists(toml_values(depth - 1), max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=6)), toml_values(depth - 1),
                        max_size=3),
    )


def _string(value: str) -> str:
    escaped = json.dumps(value, ensure_ascii=False)  # TOML basic strings share JSON's escapes
    return "".join(f"\\u{ord(c):04x}" if c == "\x7f" else c for c in escaped)


def _key(key: str) -> str:
    return key if key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key) else _string(key)


def dump(value: Any) -> str:
    """One TOML value, tables inline (so any nesting is one line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    return "{" + ", ".join(f"{_key(k)} = {dump(v)}" for k, v in value.items()) + "}"


def document(data: dict[str, Any]) -> str:
    return "\n".join(f"{_key(k)} = {dump(v)}" for k, v in data.items()) + "\n"


def _paths(value: Any, at: tuple = ()) -> list[tuple]:
    found = [at] if at else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*at, i))
    return found


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def policies(draw: st.DrawFn) -> str:
    """A policy document: the packaged one changed a few times, or spliced text."""
    data = json.loads(json.dumps(DEFAULT))  # a deep copy (the packaged policy has no dates)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths)) if paths else ()
        how = draw(st.sampled_from(["replace", "replace", "delete", "add", "wrap"]))
        if not path:
            data[draw(st.sampled_from(WORDS)) or "x"] = draw(toml_values())
            continue
        parent, last = _parent(data, path), path[-1]
        if how == "replace":
            parent[last] = draw(toml_values())
        elif how == "delete":
            del parent[last]
        elif how == "add" and isinstance(parent[last], dict):
            parent[last][draw(st.sampled_from(WORDS)) or "y"] = draw(toml_values())
        elif how == "add" and isinstance(parent[last], list):
            parent[last].append(draw(st.one_of(toml_values(), st.just(parent[last][0] if parent[last] else 1))))
        else:
            parent[last] = [parent[last]] if draw(st.booleans()) else {"x": parent[last]}
    text = document(data)
    if draw(st.integers(0, 4)) == 0:  # broken text: a cut, a splice, a stray character
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(max_size=6)) + text[cut + draw(st.integers(0, 8)) :]
    return text


def assert_one_line(exc: PolicyError) -> None:
    line = exc.located()
    assert "\n" not in line and "\r" not in line and "Traceback" not in line, line
    assert len(line) < 1000, len(line)


@settings(fuzz())
@given(text=st.one_of(policies(), st.text(max_size=200)))
def test_any_toml_is_a_policy_or_one_policy_error_line(text: str) -> None:
    try:
        policy = parse_policy(text, source="fuzz.toml")
    except PolicyError as exc:
        assert_one_line(exc)
        return
    assert isinstance(policy, Policy) and policy.segments


RENDERER = Renderer()


@settings(fuzz(0.5))
@given(text=policies())
def test_policy_check_with_templates_is_a_policy_or_one_policy_error_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    try:
        check_policy(path, RENDERER)
    except PolicyError as exc:
        assert_one_line(exc)
        assert exc.source == str(path)
