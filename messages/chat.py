"""Every word the debtor's bot says outside reminders: one Jinja2 macro per phrase, in four languages.

`messages/<language>/chat/<group>.html.j2` holds the macros of one part of the chat (link,
menu, paid, dispute, plan, promise, statement, person, notices, errors); `say("paid.ask_amount",
locale, ...)` renders one of them as Telegram HTML, with every value autoescaped, so a
debtor's own text can never become markup. `label(...)` gives the same phrase as plain text for
an inline button (Telegram shows button labels as typed, without HTML). A phrase missing in a
language falls back to English, like the reminder templates.

These are the product's own words and always come from the packaged templates: an operator's
COLLECTBOT_TEMPLATES_DIR replaces reminders, not the chat's questions, so an operator folder made
for an older release can never leave a debtor in the middle of a flow without a question.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2.environment import TemplateModule
from markupsafe import Markup

from messages import packaged_renderer
from messages.locales import DEFAULT_LOCALE, formatting_locale


@lru_cache(maxsize=256)
def _module(group: str, locale: str, language_wanted: str) -> TemplateModule:
    renderer = packaged_renderer()
    template = renderer.template(f"chat/{group}", language_wanted)
    language = (template.name or DEFAULT_LOCALE).split("/", 1)[0]
    return template.make_module(vars={"locale": formatting_locale(locale, language)})


def _macro(key: str, locale: str):  # noqa: ANN202
    group, name = key.split(".", 1)
    macro = getattr(_module(group, locale, locale), name, None)
    if macro is None:  # not translated yet: the English phrase, English formatting
        macro = getattr(_module(group, DEFAULT_LOCALE, DEFAULT_LOCALE), name)
    return macro


def has(key: str) -> bool:
    """Whether the phrase `key` exists (in English, which has every phrase)."""
    group, name = key.split(".", 1)
    return hasattr(_module(group, DEFAULT_LOCALE, DEFAULT_LOCALE), name)


def say(key: str, locale: str, **ctx: object) -> str:
    """The phrase `key` ("group.macro") in the contact's `locale`, as Telegram HTML (values escaped)."""
    return str(_macro(key, locale)(**ctx)).strip()


def label(key: str, locale: str, **ctx: object) -> str:
    """The phrase `key` as plain text (for a button label): rendered, tags dropped, entities un-escaped."""
    return Markup(say(key, locale, **ctx)).striptags()
