"""Every template a policy names is checked to render, in every locale, before any command uses it.

Issue 11: a policy naming a template that does not exist passed `policy check`, then every
sweep died rendering. `bot.services.policy` renders each step's template (and the plan
instalment reminder) in en, es, pt and fa, for the packaged templates or an operator's
COLLECTBOT_TEMPLATES_DIR, and refuses the policy in one line naming the step.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.domain.policy_loader import PolicyError, default_policy_text, load_policy
from bot.services import policy as service
from messages import Renderer
from messages.renderer import PACKAGED_DIR


@pytest.fixture
def operator_dir(tmp_path: Path) -> Path:
    """A copy of the packaged templates, as an operator would start theirs."""
    target = tmp_path / "templates"
    shutil.copytree(PACKAGED_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_policy_and_templates_pass() -> None:
    checked = service.check_policy(None, Renderer())
    assert checked.policy == load_policy(None)
    assert checked.templates.fallbacks == {}
    assert "reminder/first" in checked.templates.templates
    assert service.INSTALLMENT_TEMPLATE in checked.templates.templates


def test_every_packaged_reminder_renders_in_every_locale_with_the_checks_sample_data() -> None:
    """What lets `check_templates` trust the packaged reminders without rendering them per command."""
    policy = load_policy(None)
    packaged = service._packaged_reminders(Renderer())
    assert {s.template for seg in policy.segments.values() for s in seg.steps} | {"reminder/installment"} == packaged
    report = service.check_templates(policy, Renderer(), trust_packaged=False)
    assert set(report.templates) == packaged and report.fallbacks == {}


def test_a_packaged_template_that_is_no_debtor_reminder_is_rendered_and_refused(tmp_path: Path) -> None:
    path = policy_file(tmp_path, default_policy_text().replace('"reminder/first"', '"staff/heads_up"', 1))
    with pytest.raises(PolicyError) as caught:
        service.load_checked_policy(path, Renderer())
    assert caught.value.key == "segments.default.steps[2].template"
    assert "does not render" in caught.value.reason


def test_a_step_naming_a_missing_template_is_refused_naming_the_step(tmp_path: Path) -> None:
    path = policy_file(tmp_path, default_policy_text().replace('"reminder/second"', '"reminder/secnod"', 1))
    with pytest.raises(PolicyError) as caught:
        service.load_checked_policy(path, Renderer())
    error = caught.value
    assert error.key == "segments.default.steps[3].template"
    assert "reminder/secnod" in error.reason and "does not exist" in error.reason
    assert error.source == str(path)
    assert "\n" not in error.located()


def test_an_operator_template_that_fails_in_one_locale_is_refused(operator_dir: Path) -> None:
    fa = operator_dir / "fa" / "reminder" / "final.html.j2"
    fa.write_text(fa.read_text(encoding="utf-8") + "\n{{ debtor_phone }}\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        service.load_checked_policy(None, Renderer(operator_dir))
    assert caught.value.key == "segments.default.steps[4].template"  # the first step that uses it
    assert "fa" in caught.value.reason and "debtor_phone" in caught.value.reason


def test_a_template_that_does_not_parse_is_refused(operator_dir: Path) -> None:
    (operator_dir / "es" / "reminder" / "first.html.j2").write_text("Hola {{ customer.name ", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        service.load_checked_policy(None, Renderer(operator_dir))
    assert caught.value.key == "segments.default.steps[2].template"
    assert "does not parse" in caught.value.reason


def test_a_fault_in_a_branch_only_some_reminders_take_is_found(operator_dir: Path) -> None:
    """The sample data takes both sides of each {% if %}: a late fee, and none."""
    items = operator_dir / "pt" / "reminder" / "_items.html.j2"
    text = items.read_text(encoding="utf-8").replace(
        "{% if item.fee_cents %}", "{% if item.fee_cents %}{{ item.fee_cents | money(item.currency, 'x') }}"
    )
    items.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        service.load_checked_policy(None, Renderer(operator_dir))
    assert "does not render in pt" in caught.value.reason


def test_the_instalment_reminder_is_checked_too(operator_dir: Path) -> None:
    for language in ("en", "es", "pt", "fa"):
        (operator_dir / language / "reminder" / "installment.html.j2").unlink()
    with pytest.raises(PolicyError) as caught:
        service.load_checked_policy(None, Renderer(operator_dir))
    assert "reminder/installment" in caught.value.reason


def test_english_only_operator_templates_pass_and_say_who_reads_english(operator_dir: Path) -> None:
    for language in ("es", "pt", "fa"):
        shutil.rmtree(operator_dir / language)
    checked = service.check_policy(None, Renderer(operator_dir))
    assert checked.templates.fallbacks["reminder/first"] == ("es", "pt", "fa")


def test_the_sample_contexts_have_the_sweeps_shape() -> None:
    """If the sweep's template context changes, the check's sample data must change with it."""
    from bot.domain.balances import OpenItem
    from bot.domain.ladder import DueItem
    from bot.scheduler import compose
    from bot.services.customers import CustomerRow

    policy = load_policy(None)
    customer = CustomerRow(id=1, ref="C-1", name="C", segment="default", currency="EUR", credit_limit_cents=None,
                           payment_terms_days=30, locale="en", timezone="UTC", country="", sales_rep_slack_id="",
                           credit_hold=False)
    item = OpenItem(ref="INV-1", type="invoice", issue_date=date(2026, 6, 1), due_date=date(2026, 7, 1),
                    currency="EUR", amount_cents=100, open_cents=100, days_overdue=30)
    step = policy.segments["default"].steps[2]
    real = compose.reminder_context(policy, customer, [DueItem(item, step)], step,
                                    datetime(2026, 7, 31, tzinfo=UTC), "collectbot")
    sample = service._reminder_contexts()[0]
    assert set(sample) == set(real)
    assert set(sample["items"][0]) == set(real["items"][0])
    assert set(sample["totals"][0]) == set(real["totals"][0])
