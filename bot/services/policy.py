"""The policy every command uses: validated, and its debtor templates checked to render.

`bot.domain.policy_loader` checks the policy's values; only the renderer (messages/,
which the domain does not import) can tell whether `reminder/frist` exists, or whether
an operator's template uses a variable the sweep never passes. Without this check
such a policy passes `policy check` and then every sweep dies rendering (issue 11).
So `load_checked_policy` renders every template a debtor can receive (each step's
and the plan instalment reminder) in every supported locale, with sample data that
takes every branch of the packaged templates, before any command uses the policy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

from bot.domain.policy import Policy
from bot.domain.policy_loader import PolicyError, load_policy
from messages import SUPPORTED_LOCALES, Renderer
from messages.renderer import PACKAGED_DIR

# Rendered by the sweep for every customer with an approved plan, whatever the policy says.
INSTALLMENT_TEMPLATE = "reminder/installment"


@dataclass(frozen=True)
class TemplateReport:
    """What the check found besides problems: which (template, locale) pairs are read from
    another language's folder (the renderer falls back to English)."""

    templates: tuple[str, ...]
    fallbacks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # template -> locales


@dataclass(frozen=True)
class PolicyCheck:
    """A policy that passed every check, and what `policy check` shows about its templates."""

    policy: Policy
    templates: TemplateReport


def check_policy(path: str | Path | None, renderer: Renderer) -> PolicyCheck:
    """The policy at `path` (None: the packaged one), with its templates checked in `renderer`.

    Raises PolicyError (one line, `source` set) for an unreadable file, bad TOML, a bad
    value, or a template that is missing or does not render in some locale.
    """
    policy = load_policy(path)
    return PolicyCheck(policy, check_templates(policy, renderer, source=None if path is None else str(path)))


def load_checked_policy(path: str | Path | None, renderer: Renderer) -> Policy:
    """`check_policy(...).policy`: what every command that loads the policy uses (App.policy)."""
    return check_policy(path, renderer).policy


def check_templates(
    policy: Policy, renderer: Renderer, source: str | None = None, *, trust_packaged: bool = True
) -> TemplateReport:
    """Render each step's template (and the instalment reminder) in every supported locale.

    Raises PolicyError keyed by the first step using a broken template
    (``segments.default.steps[2].template``); returns what fell back to English.

    With `trust_packaged`, a packaged debtor reminder (messages/<locale>/reminder/NAME,
    present in every locale) is not rendered again: the test suite renders every one of
    them in every locale with this module's sample data, and compiling them all would
    add most of a second to every command. Any other template (an operator's, or a
    packaged file that is not a debtor reminder in every locale) is rendered.
    """
    trusted = _packaged_reminders(renderer) if trust_packaged else frozenset()
    checked: dict[str, tuple[str, ...]] = {}
    for segment in policy.segments.values():
        for index, step in enumerate(segment.steps):
            if step.template not in checked:
                key = f"segments.{segment.name}.steps[{index}].template"
                checked[step.template] = (
                    () if step.template in trusted else _check_one(renderer, step.template, _reminder_contexts(), key,
                                                                   source)
                )
    checked[INSTALLMENT_TEMPLATE] = (
        () if INSTALLMENT_TEMPLATE in trusted
        else _check_one(renderer, INSTALLMENT_TEMPLATE, [_installment_context()], "", source)
    )
    return TemplateReport(tuple(checked), {name: locales for name, locales in checked.items() if locales})


def _packaged_reminders(renderer: Renderer) -> frozenset[str]:
    """Debtor reminders shipped with collectbot in every supported locale (none for an operator's folder)."""
    if renderer.sandboxed or renderer.templates_dir.resolve() != PACKAGED_DIR.resolve():
        return frozenset()
    folder = renderer.templates_dir / SUPPORTED_LOCALES[0] / "reminder"
    names = {f"reminder/{path.name.removesuffix('.html.j2')}" for path in folder.glob("[a-z]*.html.j2")}
    return frozenset(
        name for name in names
        if all((renderer.templates_dir / locale / f"{name}.html.j2").is_file() for locale in SUPPORTED_LOCALES)
    )


def _check_one(
    renderer: Renderer, name: str, contexts: list[dict[str, Any]], key: str, source: str | None
) -> tuple[str, ...]:
    """The locales that fall back to another language's folder; PolicyError on any failure."""
    fallbacks = []
    for locale in SUPPORTED_LOCALES:
        try:
            template = renderer.template(name, locale)
            for ctx in contexts:
                renderer.render(name, locale, **ctx)
        except TemplateNotFound:
            where = renderer.templates_dir
            raise PolicyError(key, f"template {name!r} does not exist in {where} "
                              f"(no {locale}/{name}.html.j2 or .txt.j2)", source) from None
        except TemplateSyntaxError as exc:
            raise PolicyError(key, f"template {name!r} ({exc.name or locale}) does not parse: "
                              f"{exc.message} (line {exc.lineno})", source) from None
        except RecursionError:  # a macro that calls itself, a template that extends itself
            raise PolicyError(key, f"template {name!r} does not render in {locale}: it calls or extends itself "
                              "without end", source) from None
        except (TemplateError, ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as exc:
            raise PolicyError(key, f"template {name!r} does not render in {locale}: {exc}", source) from None
        if not (template.name or "").startswith(f"{locale}/"):
            fallbacks.append(locale)
    return tuple(fallbacks)


# ---------------------------------------------------------------- sample data
# The shapes of bot/scheduler/compose.py's contexts (a test keeps them in step).


def _item(ref: str, currency: str, cents: int, *, extras: bool) -> dict[str, Any]:
    return {
        "doc_ref": ref,
        "due_date": dt.date(2026, 7, 31),
        "open_cents": cents,
        "currency": currency,
        "days_overdue": 12 if extras else -3,
        "fee_cents": 1234 if extras else None,
        "interest_cents": 321 if extras else None,
        "payment_link": f"https://pay.example.com/C-1/{ref}" if extras else None,
        "discount": {"cents": 2469, "until": dt.date(2026, 7, 20)} if extras else None,
    }


def _reminder_contexts() -> list[dict[str, Any]]:
    """Two customers: one whose items carry every extra (fee, interest, discount, link),
    one whose items carry none, so both sides of each `{% if %}` are rendered."""
    contexts = []
    for extras in (True, False):
        items = [_item("INV-1", "EUR", 123456, extras=extras), _item("INV-2", "IRR", 50000000, extras=extras)]
        contexts.append(
            {
                "customer": {"ref": "C-1", "name": "Sample Customer Ltd"},
                "contact_name": "Sam" if extras else "",
                "tone": "first",
                "items": items,
                "totals": [{"currency": i["currency"], "open_cents": i["open_cents"]} for i in items],
                "company_name": "collectbot",
            }
        )
    return contexts


def _installment_context() -> dict[str, Any]:
    return {
        "customer": {"ref": "C-1", "name": "Sample Customer Ltd"},
        "contact_name": "",
        "company_name": "collectbot",
        "installment": {
            "plan_id": 7,
            "seq": 2,
            "count": 6,
            "due_date": dt.date(2026, 7, 31),
            "amount_cents": 150000,
            "currency": "EUR",
        },
    }
