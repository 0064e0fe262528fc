"""Every phrase of the debtor's chat exists in every language, renders, and keeps user text inert."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bot.domain.statement import CurrencyTotal, StatementLine, Touch
from messages.chat import label, say
from messages.locales import SUPPORTED_LOCALES

CHAT = Path(__file__).resolve().parents[2] / "messages"
MACRO = re.compile(r"\{%\s*macro\s+(\w+)\(([^)]*)\)")
EVIL = "<b>x</b> & <script>"
SAMPLES: dict[str, object] = {
    "name": EVIL, "customer": EVIL, "count": 3, "page": 1, "pages": 2, "low": 2, "high": 12, "attempts": 5,
    "minutes": 60, "days": 90, "number": 7, "currency": "USD", "open_cents": 123456, "amount_cents": 99999,
    "total_cents": 123456, "invoices": ["INV-1", EVIL], "invoice": EVIL, "ref": EVIL, "selected": True,
    "due": date(2026, 3, 31), "paid_on": date(2026, 3, 1), "promised": date(2026, 4, 1), "as_of": date(2026, 3, 16),
    "reference": EVIL, "receipt": "photo", "reason": EVIL, "details": EVIL, "text": EVIL, "monthly": True,
    "installments": [{"due": date(2026, 4, 16), "amount_cents": 61728}, {"due": date(2026, 5, 16),
                                                                        "amount_cents": 61728}],
    "lines": [StatementLine(EVIL, "invoice", date(2026, 1, 1), date(2026, 1, 31), "USD", 1000, (
        Touch(EVIL, "payment", date(2026, 1, 5), 100),), 900, ("DN-1",), None)],
    "totals": [CurrencyTotal("USD", 900, 50)], "type": "invoice",
}


SAME_EVERYWHERE = {"common.no_button", "paid.whole_button", "plan.count_button", "menu.language_name"}


def phrases() -> list[tuple[str, str, list[str]]]:
    out = []
    for path in sorted((CHAT / "en" / "chat").glob("*.html.j2")):
        group = path.name.removesuffix(".html.j2")
        for name, params in MACRO.findall(path.read_text(encoding="utf-8")):
            out.append((group, name, [p.strip() for p in params.split(",") if p.strip()]))
    return out


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_phrase_renders_in_every_language_with_user_text_escaped(locale: str) -> None:
    for group, name, params in phrases():
        ctx = {p: ("damaged" if (group, p) == ("dispute", "reason") and name == "reason_label" or
                   (group, name, p) == ("dispute", "confirm", "reason") else SAMPLES[p]) for p in params}
        text = say(f"{group}.{name}", locale, **ctx)
        assert text, f"{group}.{name} is empty in {locale}"
        assert "<script>" not in text and "<b>x</b>" not in text, f"{group}.{name} in {locale} lets HTML through"
        if locale != "en" and f"{group}.{name}" not in SAME_EVERYWHERE:
            english = say(f"{group}.{name}", "en", **ctx)
            assert text != english, f"{group}.{name} is not translated to {locale}"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_each_language_has_each_phrase_with_the_same_parameters(locale: str) -> None:
    for path in (CHAT / "en" / "chat").glob("*.html.j2"):
        english = dict(MACRO.findall(path.read_text(encoding="utf-8")))
        theirs = dict(MACRO.findall((CHAT / locale / "chat" / path.name).read_text(encoding="utf-8")))
        for name, params in english.items():
            assert name in theirs, f"{locale}/{path.name} lacks {name}"
            assert theirs[name].replace(" ", "") == params.replace(" ", ""), f"{locale}/{path.name}: {name}"


def test_button_labels_are_plain_text() -> None:
    assert label("common.item_button", "en", selected=False, ref="A&B", currency="USD", open_cents=100,
                 due=date(2026, 1, 2)) == "A&B · $1.00 · due Jan 2, 2026"
