"""Debtor reminders and staff alerts as text: Jinja2 templates, one folder per locale.

Everything that turns data into words goes through `render(name, locale, **ctx)`
so the chat adapters and the sweep never build message strings themselves, and
an operator can replace every word by pointing COLLECTBOT_TEMPLATES_DIR at a
copy of these folders (rendered sandboxed; see `Renderer`).
"""

from __future__ import annotations

from functools import lru_cache

from messages.formatting import format_date, format_money
from messages.locales import RTL_LOCALES, SUPPORTED_LOCALES, is_rtl, template_language
from messages.renderer import Renderer

__all__ = [
    "RTL_LOCALES",
    "SUPPORTED_LOCALES",
    "Renderer",
    "format_date",
    "format_money",
    "is_rtl",
    "packaged_renderer",
    "render",
    "template_language",
]


@lru_cache(maxsize=1)
def packaged_renderer() -> Renderer:
    """The shared Renderer over the packaged templates, built on first use, not at import."""
    return Renderer()


def render(name: str, locale: str, **ctx: object) -> str:
    """Render a packaged template, e.g. render("reminder/first", "pt_BR", **ctx)."""
    return packaged_renderer().render(name, locale, **ctx)
