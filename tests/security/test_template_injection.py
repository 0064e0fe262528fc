"""Jinja injection: an operator's templates (COLLECTBOT_TEMPLATES_DIR) run in the sandbox with StrictUndefined.

A template that reaches for Python internals, the file system or the values it is given is
refused by `policy check` (and by every command, which checks the policy first) in one line that
shows nothing of what it reached for; a value that looks like a template (a customer named
"{{ 7*7 }}") is text, never evaluated, and is HTML-escaped in a Telegram reminder.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.domain.policy_loader import PolicyError
from bot.services.policy import _reminder_contexts, check_policy
from messages import Renderer
from messages.renderer import PACKAGED_DIR
from tests.conftest import COLLECTBOT, Cli, cli_env

PAYLOADS = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__['os'] }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ '{0.__class__}'.format('') }}",
    "{{ '%s'|format(''.__class__) }}",
    "{{ items.append(1) }}",
    "{{ items[0].update({'open_cents': 0}) }}",
    "{{ customer.clear() }}",
    "{{ config }}",
    "{{ range(10**9)|list|length }}",
    "{% include '../../../../../../etc/passwd' %}",
    "{% include '/etc/passwd' %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% extends 'en/reminder/first.html.j2' %}{% block x %}{{ ''.__class__ }}{% endblock %}",
]
LEAKS = ("<class", "subclasses", "uid=", "root:", "__globals__': ", "<module", "function ")


@pytest.fixture
def operator_dir(tmp_path: Path) -> Path:
    """The packaged reminders copied as an operator's own folder."""
    folder = tmp_path / "templates"
    for locale in ("en", "es", "pt", "fa"):
        shutil.copytree(PACKAGED_DIR / locale / "reminder", folder / locale / "reminder")
    return folder


def poison(folder: Path, payload: str) -> None:
    for locale in ("en", "es", "pt", "fa"):
        path = folder / locale / "reminder" / "first.html.j2"
        path.write_text(payload + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_template_reaching_out_of_the_sandbox_is_refused_in_one_line(operator_dir: Path, payload: str) -> None:
    poison(operator_dir, payload)
    renderer = Renderer(operator_dir)
    assert renderer.sandboxed
    with pytest.raises(PolicyError) as refused:
        check_policy(None, renderer)
    line = refused.value.located()
    assert "\n" not in line and refused.value.key == "segments.default.steps[2].template", line
    assert not [leak for leak in LEAKS if leak in line], line
    context = _reminder_contexts()[0]
    before = repr(context)
    try:
        text = renderer.render("reminder/first", "en", **context)
    except Exception as exc:  # noqa: BLE001 - refused: what matters is that nothing got out
        assert not [leak for leak in LEAKS if leak in str(exc)], exc
    else:
        raise AssertionError(f"rendered: {text[:200]}")
    assert repr(context) == before, "the template changed the values it was given"


def test_the_cli_refuses_an_escaping_operator_template_in_one_line(operator_dir: Path, cli: Cli,
                                                                   tmp_path: Path) -> None:
    """Before the fix, a template that extends or calls itself ended `policy check` in a RecursionError
    traceback; see the macro and extends payloads above."""
    from bot.domain.policy_loader import default_policy_text

    poison(operator_dir, "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    policy = tmp_path / "policy.toml"
    policy.write_text(default_policy_text(), encoding="utf-8")
    env = cli_env(cli.database_url) | {"COLLECTBOT_TEMPLATES_DIR": str(operator_dir)}
    for args in (("policy", "check", str(policy)), ("sweep", "--dry-run")):
        done = subprocess.run([COLLECTBOT, *args], env=env, cwd=tmp_path, text=True, capture_output=True,
                              timeout=120)
        assert done.returncode == 1, done
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("error: ") and "reminder/first" in line, line
        assert not [leak for leak in LEAKS if leak in line] and "Traceback" not in done.stderr


def test_values_that_look_like_templates_are_text_and_escaped(operator_dir: Path) -> None:
    context = _reminder_contexts()[0]
    context["customer"] = {"ref": "{{ ''.__class__ }}", "name": "{{ 7*7 }} <b>ACME</b> & {% raw %}"}
    context["contact_name"] = "{{ config }}"
    context["items"][0]["doc_ref"] = "<a href='x'>{{ 1+1 }}</a>"
    for renderer in (Renderer(), Renderer(operator_dir)):
        text = renderer.render("reminder/first", "en", **context)
        assert "Hello {{ config }}," in text  # the contact's name, as typed
        assert "&lt;a href=&#39;x&#39;&gt;{{ 1+1 }}&lt;/a&gt;" in text and "<a href='x'>" not in text  # the ref
        assert "ACME" not in text or "{{ 7*7 }} &lt;b&gt;ACME&lt;/b&gt; &amp;" in text
