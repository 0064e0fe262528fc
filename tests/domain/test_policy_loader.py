"""The policy loader: the packaged default honours the contract, and bad policies are refused.

A policy decides what debtors are told and charged, so every refusal must name the
key the author has to fix.
"""

from __future__ import annotations

import dataclasses
from datetime import time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.policy import BusinessHours, LateFee, Policy, Segment, Step
from bot.domain.policy_loader import (
    PolicyError,
    default_policy_text,
    load_policy,
    parse_policy,
)

TEMPLATES = {
    "reminder/pre_due",
    "reminder/due",
    "reminder/first",
    "reminder/second",
    "reminder/final",
    "reminder/formal_notice",
    "reminder/gentle",
}

STEP_FIRST = """
[[segments.default.steps]]
name = "first"
offset_days = 7
template = "reminder/first"
"""

STEP_SECOND = """
[[segments.default.steps]]
name = "second"
offset_days = 15
template = "reminder/second"
"""


def doc(
    top: str = "", segment: str = "", steps: str = STEP_FIRST + STEP_SECOND, tail: str = ""
) -> str:
    """A small valid policy, with pieces swapped in to break it one way at a time."""
    return f"{top}\n[segments.default]\n{segment}\n{steps}\n{tail}\n"


def step(
    extra: str, name: str = "first", offset: str = "7", template: str = '"reminder/first"'
) -> str:
    return (
        f'\n[[segments.default.steps]]\nname = "{name}"\noffset_days = {offset}\n'
        f"template = {template}\n{extra}\n"
    )


# ---------------------------------------------------------------- the packaged default


@pytest.fixture(scope="module")
def default() -> Policy:
    return load_policy(None)


def test_default_segment_is_the_contract_ladder(default: Policy) -> None:
    steps = default.segments["default"].steps
    got = [(s.name, s.offset_days, s.skippable, s.heads_up_days, s.actions) for s in steps]
    assert got == [
        ("pre_due", -3, True, None, ()),
        ("due", 1, True, None, ()),
        ("first", 7, False, None, ()),
        ("second", 15, False, None, ()),
        ("final", 30, False, 3, ()),
        ("formal_notice", 45, False, None, ("credit_hold", "escalate")),
    ]
    assert [s.template for s in steps] == [
        "reminder/pre_due",
        "reminder/due",
        "reminder/first",
        "reminder/second",
        "reminder/final",
        "reminder/formal_notice",
    ]


def test_default_policy_wide_values(default: Policy) -> None:
    assert default.min_gap_days == 3
    assert default.minimum_open_default == Decimal("1.00")
    assert default.minimum_open == {}
    assert default.minimum_for("IRR") == Decimal("1.00")
    assert default.minimum_for("EUR") == Decimal("1.00")
    assert default.claimed_payment_pause_days is None
    assert default.business_hours.start == time(9, 0)
    assert default.business_hours.end == time(18, 0)
    # No working-day override: every country keeps its own week (Friday off in Iran).
    assert default.business_hours.working_days == {}


def test_default_has_the_named_segments(default: Policy) -> None:
    assert set(default.segments) == {"default", "government", "individual", "strategic"}
    for name, segment in default.segments.items():
        assert segment.name == name


def test_every_default_segment_is_sorted_by_offset(default: Policy) -> None:
    for segment in default.segments.values():
        offsets = [s.offset_days for s in segment.steps]
        assert offsets == sorted(set(offsets)), segment.name


def test_default_templates_exist(default: Policy) -> None:
    for segment in default.segments.values():
        assert {s.template for s in segment.steps} <= TEMPLATES, segment.name


def test_default_sends_three_reminders_after_due_before_formal_notice(default: Policy) -> None:
    for segment in default.segments.values():
        names = [s.name for s in segment.steps]
        assert names[-1] == "formal_notice"
        before = [s for s in segment.steps[:-1] if s.offset_days > 0 and not s.skippable]
        assert len(before) >= 3, segment.name


def test_default_segments_are_tuned_as_described(default: Policy) -> None:
    gov = default.segments["government"]
    assert all(s.late_fee is None for s in gov.steps)
    assert gov.interest_annual_rate is None
    assert gov.steps[-1].actions == ("escalate",)

    individual = default.segments["individual"]
    assert individual.interest_annual_rate == Decimal("0.05")
    assert all(s.late_fee is None for s in individual.steps)
    assert "reminder/gentle" in {s.template for s in individual.steps}

    strategic = {s.name: s for s in default.segments["strategic"].steps}
    assert strategic["final"].heads_up_days == 7
    assert strategic["formal_notice"].actions == ("escalate",)
    assert strategic["formal_notice"].heads_up_days == 10
    assert all(s.late_fee is None for s in strategic.values())


def test_default_fees_are_small(default: Policy) -> None:
    fees = [s.late_fee for s in default.segments["default"].steps if s.late_fee]
    assert fees
    for fee in fees:
        # A percentage suits every currency; a fixed amount would have to name each one.
        assert fee.fixed is None and fee.percent is not None and fee.percent <= Decimal("2")


def test_load_none_is_the_packaged_text(default: Policy) -> None:
    assert parse_policy(default_policy_text()) == default


def test_load_from_a_path(tmp_path, default: Policy) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(default_policy_text(), encoding="utf-8")
    assert load_policy(path) == default
    assert load_policy(str(path)) == default


def test_missing_file_is_a_policy_error(tmp_path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(PolicyError) as caught:
        load_policy(missing)
    assert caught.value.source == str(missing)
    assert caught.value.located() == f"{missing}: cannot read the policy file: No such file or directory"


# ---------------------------------------------------------------- what a valid policy gives


def test_minimal_policy_takes_dataclass_defaults() -> None:
    policy = parse_policy(doc())
    assert policy == Policy(segments=policy.segments)
    assert [s.name for s in policy.segment("unknown").steps] == ["first", "second"]


def test_full_shape_is_read() -> None:
    text = doc(
        top="""
min_gap_days = 5
minimum_open_default = 2
conversation_pause_days = 0
claimed_payment_pause_days = 14
installment_reminder_days_before = 1
installment_grace_days = 0
payment_link_template = "https://pay.test/{customer_ref}/{doc_ref}?a={amount}&c={currency}"
""",
        segment='discount = { percent = "2.5", within_days = 10 }',
        steps=step('skippable = true\nheads_up_days = 2\nactions = ["escalate"]')
        + step(
            'late_fee = { percent = "1.5", cap = { EUR = "40.00", IRR = "1500000" } }',
            name="second",
            offset="15",
        )
        + step('late_fee = { fixed = { EUR = "25.00", BRL = 150 } }', name="third", offset="30"),
        tail="""
[minimum_open]
IRR = "500000.00"
JPY = 100

[business_hours]
start = "08:30"
end = "17:00"

[business_hours.working_days]
IR = ["sat", "sun", "mon", "tue", "wed"]
ES = ["mon"]
""",
    )
    policy = parse_policy(text)
    assert policy.min_gap_days == 5
    assert policy.minimum_open_default == Decimal("2")
    assert policy.minimum_for("IRR") == Decimal("500000.00")
    assert policy.minimum_for("JPY") == Decimal("100")
    assert policy.conversation_pause_days == 0
    assert policy.claimed_payment_pause_days == 14
    assert policy.installment_reminder_days_before == 1
    assert policy.installment_grace_days == 0
    assert policy.business_hours.start == time(8, 30)
    assert policy.business_hours.working_days == {"IR": (0, 1, 2, 5, 6), "ES": (0,)}
    segment = policy.segments["default"]
    assert segment.discount is not None
    assert segment.discount.percent == Decimal("2.5")
    assert segment.discount.within_days == 10
    first, second, third = segment.steps
    assert first.skippable and first.heads_up_days == 2 and first.actions == ("escalate",)
    assert second.late_fee == LateFee(percent=Decimal("1.5"), cap={"EUR": Decimal("40.00"), "IRR": Decimal(1500000)})
    assert third.late_fee == LateFee(fixed={"EUR": Decimal("25.00"), "BRL": Decimal(150)})
    assert third.late_fee.fixed_for("BRL") == Decimal(150)
    assert third.late_fee.fixed_for("USD") is None  # no fixed fee in a currency the policy does not name
    link = policy.payment_link_template
    assert link is not None
    assert link.format(customer_ref="C1", doc_ref="I1", amount="9.50", currency="EUR") == (
        "https://pay.test/C1/I1?a=9.50&c=EUR"
    )


def test_interest_rate_is_read() -> None:
    policy = parse_policy(doc(segment='interest_annual_rate = "0.08"'))
    assert policy.segments["default"].interest_annual_rate == Decimal("0.08")


# ---------------------------------------------------------------- refusals

NO_DEFAULT = """
[segments.vip]
[[segments.vip.steps]]
name = "first"
offset_days = 7
template = "reminder/first"
"""

S0 = "segments.default.steps[0]"
S1 = "segments.default.steps[1]"

BROKEN = [
    # structure
    ("min_gap_days = = 3", ""),
    ("min_gap_days = 3", "segments"),
    ("segments = 3", "segments"),
    (NO_DEFAULT, "segments.default"),
    (doc(steps="steps = []"), "segments.default.steps"),
    (doc(steps=""), "segments.default.steps"),
    (doc(steps="steps = [1]"), S0),
    (
        doc(tail='[segments.Gov]\nsteps = [{name = "a", offset_days = 1, template = "x"}]'),
        "segments.Gov",
    ),
    # unknown keys, at every level
    (doc(top="min_gap = 3"), "min_gap"),
    (doc(segment='discounts = { percent = "2", within_days = 10 }'), "segments.default.discounts"),
    (doc(steps=step("ofset_days = 8")), f"{S0}.ofset_days"),
    (doc(steps=step('late_fee = { percent = "1", amount = "5" }')), f"{S0}.late_fee.amount"),
    (doc(segment='discount = { percent = "2", days = 10 }'), "segments.default.discount.days"),
    (doc(tail='[business_hours]\ntimezone = "UTC"'), "business_hours.timezone"),
    # steps
    (doc(steps=step("") + step("")), f"{S1}.name"),
    (doc(steps=step("", name="First")), f"{S0}.name"),
    (doc(steps=step("", name="1st")), f"{S0}.name"),
    (
        doc(steps='[[segments.default.steps]]\noffset_days = 1\ntemplate = "reminder/due"'),
        f"{S0}.name",
    ),
    (
        doc(steps='[[segments.default.steps]]\nname = "due"\ntemplate = "reminder/due"'),
        f"{S0}.offset_days",
    ),
    (doc(steps='[[segments.default.steps]]\nname = "due"\noffset_days = 1'), f"{S0}.template"),
    (doc(steps=step("", offset="7.0")), f"{S0}.offset_days"),
    (doc(steps=step("", offset='"7"')), f"{S0}.offset_days"),
    (doc(steps=step("", offset="true")), f"{S0}.offset_days"),
    (doc(steps=STEP_SECOND + STEP_FIRST), "segments.default.steps[1].offset_days"),
    (doc(steps=step("") + step("", name="again")), f"{S1}.offset_days"),
    (doc(steps=step("", template='"Reminder/First"')), f"{S0}.template"),
    (doc(steps=step("", template='"reminder/../secret"')), f"{S0}.template"),
    (doc(steps=step("", template='"reminder/"')), f"{S0}.template"),
    (doc(steps=step("", template='"/etc/passwd"')), f"{S0}.template"),
    (doc(steps=step('skippable = "yes"')), f"{S0}.skippable"),
    (doc(steps=step("heads_up_days = 0")), f"{S0}.heads_up_days"),
    (doc(steps=step("heads_up_days = 2.5")), f"{S0}.heads_up_days"),
    (doc(steps=step('actions = ["credit_hold", "suspend"]')), f"{S0}.actions[1]"),
    (doc(steps=step('actions = ["escalate", "escalate"]')), f"{S0}.actions[1]"),
    (doc(steps=step('actions = "escalate"')), f"{S0}.actions"),
    (doc(steps=step("actions = [{ a = 1 }]")), f"{S0}.actions[0]"),
    # late fees: a percent (capped per currency) or fixed amounts per currency
    (doc(steps=step('late_fee = { kind = "fixed", value = "5" }')), f"{S0}.late_fee.kind"),
    (doc(steps=step('late_fee = { percent = "1", fixed = { EUR = "5" } }')), f"{S0}.late_fee"),
    (doc(steps=step("late_fee = {}")), f"{S0}.late_fee"),
    (doc(steps=step("late_fee = { fixed = {} }")), f"{S0}.late_fee.fixed"),
    (doc(steps=step('late_fee = { fixed = "5.00" }')), f"{S0}.late_fee.fixed"),
    (doc(steps=step('late_fee = { fixed = { EUR = "0" } }')), f"{S0}.late_fee.fixed.EUR"),
    (doc(steps=step('late_fee = { fixed = { EUR = "-5" } }')), f"{S0}.late_fee.fixed.EUR"),
    (doc(steps=step("late_fee = { fixed = { EUR = 5.0 } }")), f"{S0}.late_fee.fixed.EUR"),
    (doc(steps=step('late_fee = { fixed = { EUR = "5,00" } }')), f"{S0}.late_fee.fixed.EUR"),
    (doc(steps=step('late_fee = { fixed = { EUR = "NaN" } }')), f"{S0}.late_fee.fixed.EUR"),
    (doc(steps=step('late_fee = { fixed = { EUR = "5.001" } }')), f"{S0}.late_fee.fixed.EUR"),
    (doc(steps=step('late_fee = { fixed = { EUR = "1000000000000" } }')), f"{S0}.late_fee.fixed.EUR"),
    (doc(steps=step('late_fee = { fixed = { eur = "5" } }')), f"{S0}.late_fee.fixed.eur"),
    (doc(steps=step('late_fee = { fixed = { EURO = "5" } }')), f"{S0}.late_fee.fixed.EURO"),
    (doc(steps=step('late_fee = { percent = "101" }')), f"{S0}.late_fee.percent"),
    (doc(steps=step('late_fee = { percent = "0" }')), f"{S0}.late_fee.percent"),
    (doc(steps=step("late_fee = { percent = 1.5 }")), f"{S0}.late_fee.percent"),
    (doc(steps=step('late_fee = { percent = "1", cap = { EUR = "-1" } }')), f"{S0}.late_fee.cap.EUR"),
    (doc(steps=step('late_fee = { percent = "1", cap = "10" }')), f"{S0}.late_fee.cap"),
    (
        doc(steps=step('late_fee = { fixed = { EUR = "5" }, cap = { EUR = "10" } }')),
        f"{S0}.late_fee.cap",
    ),
    (doc(steps=step('late_fee = "5.00"')), f"{S0}.late_fee"),
    # segment money
    (doc(segment='interest_annual_rate = "1.5"'), "segments.default.interest_annual_rate"),
    (doc(segment='interest_annual_rate = "0"'), "segments.default.interest_annual_rate"),
    (doc(segment="interest_annual_rate = 0.08"), "segments.default.interest_annual_rate"),
    (
        doc(
            segment='interest_annual_rate = "0.08"',
            steps=step('late_fee = { fixed = { EUR = "5" } }'),
        ),
        "segments.default.interest_annual_rate",
    ),
    (
        doc(segment='discount = { percent = "0", within_days = 10 }'),
        "segments.default.discount.percent",
    ),
    (
        doc(segment='discount = { percent = "100", within_days = 10 }'),
        "segments.default.discount.percent",
    ),
    (
        doc(segment="discount = { percent = 2.0, within_days = 10 }"),
        "segments.default.discount.percent",
    ),
    (
        doc(segment='discount = { percent = "2", within_days = 0 }'),
        "segments.default.discount.within_days",
    ),
    (doc(segment='discount = { percent = "2" }'), "segments.default.discount.within_days"),
    # policy-wide numbers
    (doc(top="min_gap_days = -1"), "min_gap_days"),
    (doc(top="min_gap_days = 1.5"), "min_gap_days"),
    (doc(top="min_gap_days = true"), "min_gap_days"),
    (doc(top="minimum_open_default = 1.0"), "minimum_open_default"),
    (doc(top='minimum_open_default = "-1.00"'), "minimum_open_default"),
    (doc(top='minimum_open_default = "1e3"'), "minimum_open_default"),
    (doc(top="conversation_pause_days = -1"), "conversation_pause_days"),
    (doc(top="claimed_payment_pause_days = 0"), "claimed_payment_pause_days"),
    (doc(top="installment_reminder_days_before = -1"), "installment_reminder_days_before"),
    # minimum_open
    (doc(tail='[minimum_open]\nusd = "1.00"'), "minimum_open.usd"),
    (doc(tail='[minimum_open]\nEURO = "1.00"'), "minimum_open.EURO"),
    (doc(tail='[minimum_open]\nEUR = "one"'), "minimum_open.EUR"),
    (doc(tail="[minimum_open]\nEUR = 1.5"), "minimum_open.EUR"),
    (doc(top='minimum_open = "1.00"'), "minimum_open"),
    # business hours: the hours of the day; working days per country only
    (doc(tail='[business_hours]\nstart = "9:00"'), "business_hours.start"),
    (doc(tail='[business_hours]\nstart = "25:00"'), "business_hours.start"),
    (doc(tail="[business_hours]\nstart = 09:00:30"), "business_hours.start"),
    (doc(tail='[business_hours]\nstart = "18:00"\nend = "09:00"'), "business_hours.end"),
    (doc(tail='[business_hours]\nstart = "09:00"\nend = "09:00"'), "business_hours.end"),
    (doc(tail='[business_hours]\nweekdays = ["mon"]'), "business_hours.weekdays"),
    (doc(tail='[business_hours]\nworking_days = ["mon"]'), "business_hours.working_days"),
    (doc(tail='[business_hours.working_days]\nIR = ["monday"]'), "business_hours.working_days.IR[0]"),
    (doc(tail='[business_hours.working_days]\nIR = ["sat", "sat"]'), "business_hours.working_days.IR[1]"),
    (doc(tail="[business_hours.working_days]\nIR = []"), "business_hours.working_days.IR"),
    (doc(tail="[business_hours.working_days]\nIR = [0, 1]"), "business_hours.working_days.IR[0]"),
    (doc(tail='[business_hours.working_days]\nIR = "sat"'), "business_hours.working_days.IR"),
    (doc(tail='[business_hours.working_days]\nir = ["sat"]'), "business_hours.working_days.ir"),
    (doc(tail='[business_hours.working_days]\nIRN = ["sat"]'), "business_hours.working_days.IRN"),
    # bounds: numbers that would crash a sweep (or mean nothing) are refused here
    (doc(top="min_gap_days = 1000000000"), "min_gap_days"),
    (doc(top="min_gap_days = 366"), "min_gap_days"),
    (doc(top="conversation_pause_days = 366"), "conversation_pause_days"),
    (doc(top="claimed_payment_pause_days = 100000"), "claimed_payment_pause_days"),
    (doc(top="installment_reminder_days_before = 9999999"), "installment_reminder_days_before"),
    (doc(top="installment_grace_days = 366"), "installment_grace_days"),
    (doc(top="installment_grace_days = -1"), "installment_grace_days"),
    (doc(top='minimum_open_default = "1000000000000"'), "minimum_open_default"),
    (doc(top='minimum_open_default = "0.001"'), "minimum_open_default"),
    (doc(steps=step("", offset="3651")), f"{S0}.offset_days"),
    (doc(steps=step("", offset="-366")), f"{S0}.offset_days"),
    (doc(steps=step("", offset="99999999999999999")), f"{S0}.offset_days"),
    (doc(steps=step("heads_up_days = 366")), f"{S0}.heads_up_days"),
    (doc(segment='discount = { percent = "2", within_days = 366 }'), "segments.default.discount.within_days"),
    (doc(segment='interest_annual_rate = "0.0000001"'), "segments.default.interest_annual_rate"),
    (doc(steps=step("", name="a" * 33)), f"{S0}.name"),
    (doc(steps=step("", name="installment")), f"{S0}.name"),
    (doc(steps=step("", template='"' + "a" * 129 + '"')), f"{S0}.template"),
    (
        doc(tail=f'[segments.{"s" * 33}]\nsteps = [{{name = "a", offset_days = 1, template = "x"}}]'),
        f"segments.{'s' * 33}",
    ),
    (doc(steps="".join(step("", name=f"s{i}", offset=str(i)) for i in range(31))), "segments.default.steps"),
    (doc(top=f"payment_link_template = 'https://p.test/{'a' * 2000}'"), "payment_link_template"),
    (doc(tail='[segments.default.name]\nx = 1'), "segments.default.name"),
]


LINK_BROKEN = [
    "ftp://pay.test/{doc_ref}",
    "pay.test/{doc_ref}",
    "https://pay.test/{evil.__class__}",
    "https://pay.test/{doc_ref.__class__.__init__.__globals__}",
    "https://pay.test/{doc_ref[0]}",
    "https://pay.test/{invoice}",
    "https://pay.test/{}",
    "https://pay.test/{0}",
    "https://pay.test/{amount!r}",
    "https://pay.test/{amount:>{doc_ref}}",
    "https://pay.test/{doc_ref",
    "https://pay.test/}",
]


@pytest.mark.parametrize(("text", "key"), BROKEN)
def test_broken_policy_is_refused_naming_the_key(text: str, key: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    error = caught.value
    assert error.key == key, str(error)
    assert str(error) == (f"{key}: {error.reason}" if key else error.reason)
    assert error.reason and "\n" not in error.reason
    assert "Input should" not in error.reason and "Value error" not in error.reason, error.reason


@pytest.mark.parametrize("template", LINK_BROKEN)
def test_payment_link_template_is_refused(template: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(doc(top=f"payment_link_template = {template!r}"))
    assert caught.value.key == "payment_link_template"


def test_attribute_access_in_link_says_why() -> None:
    with pytest.raises(PolicyError, match="attribute and index access"):
        parse_policy(doc(top="payment_link_template = 'https://p.test/{evil.__class__}'"))


def test_unknown_link_field_lists_the_allowed_ones() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(doc(top="payment_link_template = 'https://p.test/{invoice}'"))
    for name in ("{doc_ref}", "{customer_ref}", "{amount}", "{currency}"):
        assert name in caught.value.reason


@pytest.mark.parametrize(
    "text",
    [
        doc(top="minimum_open_default = 1.5"),
        doc(tail="[minimum_open]\nEUR = 0.5"),
        doc(steps=step("late_fee = { fixed = { EUR = 15.0 } }")),
        doc(steps=step('late_fee = { percent = "1", cap = { EUR = 50.0 } }')),
    ],
)
def test_float_money_is_refused_with_advice(text: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert "write money as a string" in caught.value.reason
    assert '"1.50"' in caught.value.reason


def test_unknown_key_reason_lists_known_keys() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(doc(steps=step("ofset_days = 8")))
    assert "unknown key" in caught.value.reason
    assert "offset_days" in caught.value.reason


def test_unknown_key_is_reported_before_a_missing_one() -> None:
    """A typo'd key should be named as such, not as the required key it replaced."""
    text = doc(steps='[[segments.default.steps]]\nname = "a"\nofset_days = 1\ntemplate = "x"')
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert caught.value.key == f"{S0}.ofset_days"


def test_unsorted_steps_reason_names_both_steps() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(doc(steps=STEP_SECOND + STEP_FIRST))
    assert "increasing offset" in caught.value.reason
    assert "'first'" in caught.value.reason and "'second'" in caught.value.reason


def test_policy_error_is_a_value_error() -> None:
    error = PolicyError("segments.default.steps[2].offset_days", "must be an integer")
    assert isinstance(error, ValueError)
    assert error.key == "segments.default.steps[2].offset_days"
    assert error.reason == "must be an integer"
    assert str(error) == "segments.default.steps[2].offset_days: must be an integer"


# ---------------------------------------------------------------- the schema itself


def test_a_toml_local_time_on_the_minute_is_a_time_too() -> None:
    policy = parse_policy(doc(tail="[business_hours]\nstart = 08:30:00\nend = 17:00:00"))
    assert (policy.business_hours.start, policy.business_hours.end) == (time(8, 30), time(17, 0))


def test_policies_built_in_python_are_checked_the_same_way() -> None:
    """The dataclasses validate themselves, so a policy built in code (or replaced) is bounded too."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Step(name="first", offset_days=1_000_000_000, template="reminder/first")
    with pytest.raises(ValidationError):
        LateFee(percent=Decimal("1"), fixed={"EUR": Decimal("5")})
    with pytest.raises(ValidationError):
        BusinessHours(working_days={"IR": ()})
    policy = parse_policy(doc())
    with pytest.raises(ValidationError):
        dataclasses.replace(policy, min_gap_days=10**9)
    replaced = dataclasses.replace(policy, minimum_open={"IRR": Decimal("500000.00")})
    assert replaced.minimum_for("IRR") == Decimal("500000.00")
    fee_steps = {s for seg in parse_policy(default_policy_text()).segments.values() for s in seg.steps}
    assert len(fee_steps) > 1  # steps (late fees and their per-currency tables included) stay hashable
    segment = Segment(name="default", steps=(Step("first", 7, "reminder/first"),))
    with pytest.raises(ValidationError):
        Policy(segments={"vip": segment})  # the key and the segment's name disagree


NUMBER_KEYS = {
    "min_gap_days": (0, 365),
    "conversation_pause_days": (0, 365),
    "claimed_payment_pause_days": (1, 365),
    "installment_reminder_days_before": (0, 365),
    "installment_grace_days": (0, 365),
}
TOML_VALUES = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters='\\"'), max_size=12).map(
        lambda t: f'"{t}"'
    ),
)


@settings(max_examples=150, deadline=None)
@given(key=st.sampled_from(sorted(NUMBER_KEYS)), value=TOML_VALUES)
def test_any_value_for_a_day_count_is_bounded_or_refused_by_name(key: str, value: object) -> None:
    text = doc(top=f"{key} = {str(value).lower() if isinstance(value, bool) else value}")
    try:
        policy = parse_policy(text)
    except PolicyError as exc:
        assert exc.key == key
        return
    low, high = NUMBER_KEYS[key]
    assert type(value) is int and low <= getattr(policy, key) <= high


@settings(max_examples=150, deadline=None)
@given(
    offset=st.integers(min_value=-(10**12), max_value=10**12),
    heads_up=st.integers(min_value=-(10**12), max_value=10**12),
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**13), max_value=10**13),
)
def test_step_numbers_and_fee_amounts_are_bounded_or_refused_by_name(
    offset: int, heads_up: int, amount: Decimal
) -> None:
    text = doc(steps=step(f'heads_up_days = {heads_up}\nlate_fee = {{ fixed = {{ EUR = "{amount:f}" }} }}',
                          offset=str(offset)))
    try:
        policy = parse_policy(text)
    except PolicyError as exc:
        assert exc.key.startswith(S0), exc.key
        return
    first = policy.segments["default"].steps[0]
    assert -365 <= first.offset_days <= 3650 and 1 <= (first.heads_up_days or 0) <= 365
    assert first.late_fee is not None
    fee = first.late_fee.fixed_for("EUR")
    assert fee is not None and Decimal(0) < fee <= Decimal("999999999999.99") and fee == fee.quantize(Decimal("0.01"))
