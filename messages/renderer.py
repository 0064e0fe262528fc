"""One way to turn a template name, a locale and plain values into message text.

The packaged templates are ours and trusted; an operator's own templates
(COLLECTBOT_TEMPLATES_DIR) are not, so they run in Jinja2's sandbox, where a
template cannot reach Python internals or mutate the values it is given.
Both refuse undefined variables (StrictUndefined), so a typo in a template
fails in tests instead of sending a debtor a reminder with a hole in it.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from messages.formatting import format_date, format_money, format_number, ltr
from messages.locales import DEFAULT_LOCALE, formatting_locale, language_of, template_language
from messages.words import words

PACKAGED_DIR = Path(__file__).resolve().parent
EXTENSIONS = (".html.j2", ".txt.j2")  # Telegram HTML first, then plain text (Slack mrkdwn)


@pass_context
def _money_filter(context: Context, cents: int, currency: str) -> str:
    return format_money(cents, currency, context["locale"])


@pass_context
def _date_filter(context: Context, d: date) -> str:
    return format_date(d, context["locale"])


@pass_context
def _number_filter(context: Context, value: int) -> str:
    return format_number(value, context["locale"])


def _environment(directory: Path, *, sandboxed: bool) -> Environment:
    # Immutable sandbox: the item dicts belong to the caller and must come back unchanged.
    cls = ImmutableSandboxedEnvironment if sandboxed else Environment
    env = cls(
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        # HTML for Telegram is escaped; .txt.j2 (Slack mrkdwn) gets values escaped by the caller.
        autoescape=select_autoescape(
            enabled_extensions=("html.j2",),
            disabled_extensions=("txt.j2",),
            default_for_string=True,
            default=True,
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        # Packaged templates only change with a release; an operator may edit theirs live.
        auto_reload=sandboxed,
    )
    env.filters.update(money=_money_filter, date=_date_filter, number=_number_filter, ltr=ltr, words=words)
    return env


class Renderer:
    """Renders `<dir>/<language>/<name>.html.j2` (or `.txt.j2`) for a contact's locale.

    Lookup for locale "pt_BR": pt/, then en/ in the same directory; an
    operator directory never falls back to the packaged templates, so what the
    operator sees in their folder is exactly what debtors receive. A language
    folder the operator adds (say de/) is used for that language too.
    """

    def __init__(self, templates_dir: str | os.PathLike[str] | None = None) -> None:
        sandboxed = templates_dir is not None
        directory = PACKAGED_DIR if templates_dir is None else Path(templates_dir)
        if not directory.is_dir():
            raise FileNotFoundError(f"templates directory not found: {directory}")
        self.templates_dir = directory
        self.sandboxed = sandboxed
        self._env = _environment(directory, sandboxed=sandboxed)

    def _languages(self, locale: str) -> list[str]:
        """Folders to try, most specific first; only plain language codes become paths."""
        own = language_of(locale)
        candidates = [own] if own.isascii() and own.isalpha() else []
        return list(dict.fromkeys([*candidates, template_language(locale), DEFAULT_LOCALE]))

    def template(self, name: str, locale: str) -> Template:
        """The template `render` would use; raises jinja2.TemplatesNotFound if none exists."""
        return self._env.select_template(
            [f"{language}/{name}{ext}" for language in self._languages(locale) for ext in EXTENSIONS]
        )

    def render(self, name: str, locale: str, **ctx: object) -> str:
        """The message text, stripped; `locale` is also visible to templates as `locale`."""
        template = self.template(name, locale)
        language = (template.name or DEFAULT_LOCALE).split("/", 1)[0]
        return template.render(ctx, locale=formatting_locale(locale, language)).strip()

    def template_names(self, locale: str = "en") -> list[str]:
        """Names `render` can resolve for this locale (its folder plus the fallbacks).

        Partials (file names starting with "_") are left out: they are included
        by other templates, never rendered on their own.
        """
        names: set[str] = set()
        for language in self._languages(locale):
            prefix = f"{language}/"
            for path in self._env.list_templates():
                if not path.startswith(prefix) or not path.endswith(EXTENSIONS):
                    continue
                name = path[len(prefix) :].removesuffix(".html.j2").removesuffix(".txt.j2")
                if not name.rsplit("/", 1)[-1].startswith("_"):
                    names.add(name)
        return sorted(names)
