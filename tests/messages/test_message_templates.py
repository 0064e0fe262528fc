"""The messages package: every template renders in every locale, escapes what users
typed, formats money the debtor's way, and keeps operator templates in the sandbox.

(Named test_message_templates.py rather than test_templates.py: tests/ has no
__init__.py, so two test files with one basename in different folders would clash.)
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from jinja2.exceptions import SecurityError

from messages import (
    RTL_LOCALES,
    SUPPORTED_LOCALES,
    Renderer,
    format_date,
    format_money,
    render,
    template_language,
)
from messages.formatting import format_number

REMINDERS = ("pre_due", "due", "first", "second", "final", "formal_notice", "gentle")
STAFF = ("heads_up", "chase_by_phone", "formal_notice_alert", "approval_needed")
PERSIAN = re.compile(r"[\u0600-\u06FF]")
TELEGRAM_TAGS = {"b", "i", "a", "code"}


def full_items() -> list[dict]:
    return [
        {
            "doc_ref": "INV-1",
            "due_date": dt.date(2025, 3, 7),
            "open_cents": 123456,
            "currency": "BRL",
            "days_overdue": 20,
            "fee_cents": 1234,
            "interest_cents": 321,
            "payment_link": "https://pay.example.com/ACME/INV-1?amount=1234.56&currency=BRL",
            "discount": {"cents": 2469, "until": dt.date(2025, 3, 1)},
        },
        {
            "doc_ref": "2025-INV-7",
            "due_date": dt.date(2025, 4, 1),
            "open_cents": 5000,
            "currency": "USD",
            "days_overdue": -3,
            "fee_cents": None,
            "interest_cents": None,
            "payment_link": None,
            "discount": None,
        },
    ]


def reminder_ctx(**overrides: object) -> dict:
    ctx = {
        "customer": {"ref": "ACME", "name": "ACME Ltda."},
        "contact_name": "Jane",
        "tone": "first",
        "items": full_items(),
        "totals": [
            {"currency": "BRL", "open_cents": 123456},
            {"currency": "USD", "open_cents": 5000},
        ],
        "company_name": "Globex",
    }
    ctx.update(overrides)
    return ctx


def installment_ctx() -> dict:
    return {
        "customer": {"ref": "ACME", "name": "ACME Ltda."},
        "contact_name": "",
        "company_name": "Globex",
        "installment": {
            "plan_id": 42,
            "seq": 2,
            "count": 6,
            "due_date": dt.date(2025, 5, 10),
            "amount_cents": 123456,
            "currency": "BRL",
        },
    }


def staff_ctx() -> dict:
    return {
        "customer": {"ref": "ACME", "name": "ACME &amp; Co"},
        "sales_rep": "U024BE7LH",
        "items": full_items(),
        "step": "final",
        "step_date": dt.date(2025, 4, 6),
        "text": "",
    }


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.seen.add(tag)
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"unbalanced </{tag}>"
        self.open.pop()


def assert_telegram_html(text: str) -> None:
    parser = _TagCollector()
    parser.feed(text)
    parser.close()
    assert parser.seen <= TELEGRAM_TAGS, parser.seen - TELEGRAM_TAGS
    assert not parser.open, f"unclosed tags: {parser.open}"


def assert_tidy(text: str) -> None:
    assert "\n\n\n" not in text
    assert all(line.strip() for line in text.split("\n\n")), "empty paragraph"
    assert not [line for line in text.splitlines() if line and not line.strip()]
    assert len(text.splitlines()) <= 20


# ------------------------------------------------------------ formatting


def test_format_money_uses_babel_with_exact_decimals() -> None:
    assert format_money(123456, "USD", "en") == "$1,234.56"
    assert "1.234,56" in format_money(123456, "BRL", "pt_BR")
    assert format_money(123456, "BRL", "pt-BR") == format_money(123456, "BRL", "pt_BR")
    assert format_money(5, "USD", "en") == "$0.05"
    assert format_money(-150, "USD", "en") == "-$1.50"


def test_format_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        format_money(1234.56, "USD", "en")  # type: ignore[arg-type]


def test_format_money_and_date_accept_odd_locale_tags() -> None:
    assert format_money(123456, "USD", "es-MX") == format_money(123456, "USD", "es_MX")
    assert format_money(123456, "USD", "xx_YY") == "$1,234.56"
    assert format_date(dt.date(2025, 3, 7), "en") == "Mar 7, 2025"
    assert "2025" in format_date(dt.date(2025, 3, 7), "pt-BR")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("pt_BR", "pt"), ("pt-BR", "pt"), ("ES", "es"), ("fa_IR", "fa"), ("de", "en"), ("", "en")],
)
def test_template_language(locale: str, expected: str) -> None:
    assert template_language(locale) == expected


# ------------------------------------------------------------ packaged reminders


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("step", REMINDERS)
def test_every_reminder_renders_in_every_locale(step: str, locale: str) -> None:
    text = render(f"reminder/{step}", locale, **reminder_ctx(tone=step))

    for item in full_items():
        assert item["doc_ref"] in text
        assert format_money(item["open_cents"], item["currency"], locale) in text
        assert format_date(item["due_date"], locale) in text
    assert format_money(1234, "BRL", locale) in text  # the late fee
    assert format_money(321, "BRL", locale) in text  # the interest
    assert '<a href="https://pay.example.com/ACME/INV-1?amount=1234.56&amp;currency=BRL">' in text
    assert "Globex" in text
    assert_telegram_html(text)
    assert_tidy(text)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_pre_due_mentions_the_discount(locale: str) -> None:
    text = render("reminder/pre_due", locale, **reminder_ctx())
    assert format_money(2469, "BRL", locale) in text
    assert format_date(dt.date(2025, 3, 1), locale) in text


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_reminder_without_extras_mentions_no_fee_link_or_discount(locale: str) -> None:
    plain = full_items()[1:]
    text = render(
        "reminder/formal_notice",
        locale,
        **reminder_ctx(items=plain, totals=[{"currency": "USD", "open_cents": 5000}]),
    )
    assert "2025-INV-7" in text
    assert "<a " not in text
    with_extras = render("reminder/formal_notice", locale, **reminder_ctx())
    assert len(text.splitlines()) < len(with_extras.splitlines())


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_installment_renders_in_every_locale(locale: str) -> None:
    text = render("reminder/installment", locale, **installment_ctx())
    assert format_money(123456, "BRL", locale) in text
    assert format_date(dt.date(2025, 5, 10), locale) in text
    assert "42" in text  # the plan's number is an identifier: ASCII, like invoice refs
    assert f"{format_number(2, locale)} " in text and format_number(6, locale) in text  # "2 of 6"
    assert "ACME Ltda." in text  # no contact name: the customer is greeted
    assert_telegram_html(text)
    assert_tidy(text)


def test_portuguese_writes_brazilian_numbers() -> None:
    text = render("reminder/first", "pt", **reminder_ctx())
    assert "1.234,56" in text
    assert "1,234.56" not in text


ENGLISH_WORDS = re.compile(
    r"\b(hello|hi|dear|please|thank|reminder|payment|overdue|invoice|buttons|below|paid|the)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("locale", ["es", "pt", "fa"])
@pytest.mark.parametrize("step", [*REMINDERS, "installment"])
def test_translations_are_not_english_copies(step: str, locale: str) -> None:
    ctx = installment_ctx() if step == "installment" else reminder_ctx()
    assert ENGLISH_WORDS.search(render(f"reminder/{step}", "en", **ctx))
    assert not ENGLISH_WORDS.search(render(f"reminder/{step}", locale, **ctx))


@pytest.mark.parametrize("step", [*REMINDERS, "installment"])
def test_persian_is_written_in_persian_script(step: str) -> None:
    ctx = installment_ctx() if step == "installment" else reminder_ctx()
    text = render(f"reminder/{step}", "fa", **ctx)
    assert "fa" in RTL_LOCALES
    assert len(PERSIAN.findall(text)) > 40
    # Only LEFT-TO-RIGHT MARKs around Latin values; no embeddings, overrides or isolates.
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", text)
    for line in filter(None, (line.strip() for line in text.splitlines())):
        first_strong = re.search(r"[A-Za-z\u200e\u0600-\u06FF]", re.sub(r"<[^>]+>", "", line))
        assert first_strong and PERSIAN.match(first_strong.group()), f"LTR line: {line!r}"


# ------------------------------------------------------------ escaping and strictness


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_user_text_is_escaped_in_html(locale: str) -> None:
    items = full_items()
    items[0]["doc_ref"] = "INV<1>"
    ctx = reminder_ctx(customer={"ref": "X", "name": "<b>x</b>&"}, contact_name="", items=items)
    text = render("reminder/first", locale, **ctx)
    assert "&lt;b&gt;x&lt;/b&gt;&amp;" in text
    assert "INV&lt;1&gt;" in text
    assert "<b>x</b>" not in text


def test_missing_variable_raises() -> None:
    ctx = reminder_ctx()
    del ctx["company_name"]
    with pytest.raises(jinja2.UndefinedError):
        render("reminder/first", "en", **ctx)


def test_missing_item_key_raises() -> None:
    items = full_items()
    del items[1]["fee_cents"]
    with pytest.raises(jinja2.UndefinedError):
        render("reminder/second", "es", **reminder_ctx(items=items))


def test_unknown_template_raises() -> None:
    with pytest.raises(jinja2.TemplateNotFound):
        render("reminder/nope", "en", **reminder_ctx())


# ------------------------------------------------------------ locale fallback


def test_regional_locale_uses_the_language_folder_with_regional_formatting() -> None:
    assert render("reminder/first", "pt_BR", **reminder_ctx()) == render(
        "reminder/first", "pt", **reminder_ctx()
    )
    mexican = render("reminder/first", "es-MX", **reminder_ctx())
    assert format_money(5000, "USD", "es_MX") in mexican
    assert "Según nuestros registros" in mexican


def test_unknown_language_falls_back_to_english_with_english_formatting() -> None:
    assert render("reminder/due", "de", **reminder_ctx()) == render(
        "reminder/due", "en", **reminder_ctx()
    )


# ------------------------------------------------------------ staff templates


@pytest.mark.parametrize("name", STAFF)
def test_staff_templates_render_plain_text_in_english_for_any_locale(name: str) -> None:
    text = render(f"staff/{name}", "fa", **staff_ctx())
    assert text == render(f"staff/{name}", "en", **staff_ctx())
    assert "<@U024BE7LH>" in text
    assert "ACME &amp; Co" in text  # already escaped by the caller: not escaped twice
    assert "INV-1" in text and "2025-INV-7" in text
    assert format_money(123456, "BRL", "en") in text
    assert "Apr 6, 2025" in text
    assert not PERSIAN.search(text)


def test_staff_text_is_optional_and_shown_when_given() -> None:
    ctx = staff_ctx() | {"sales_rep": "", "step_date": None}
    quiet = render("staff/heads_up", "en", **ctx)
    assert "<@" not in quiet
    noted = render("staff/heads_up", "en", **ctx | {"text": "Check is in the mail."})
    assert "Check is in the mail." in noted


@pytest.mark.parametrize("name", ["heads_up", "chase_by_phone", "approval_needed"])
def test_staff_templates_name_a_step_in_words(name: str) -> None:
    # the ladder's codes (formal_notice, pre_due) read as words, as messages.words says them
    text = render(f"staff/{name}", "en", **staff_ctx() | {"step": "formal_notice"})
    assert "*formal notice*" in text
    prose = text.replace("--step formal_notice", "")  # a command to copy keeps the code
    assert "formal_notice" not in prose
    heads = render("staff/heads_up", "en", **staff_ctx() | {"heads_ups": [{
        "doc_ref": "INV-1", "step": "pre_due", "date": dt.date(2025, 4, 6), "iso": "2025-04-06",
        "open_cents": 100, "currency": "USD", "due_date": dt.date(2025, 4, 9), "days_overdue": -3}]})
    assert "*pre-due* on" in heads and "pre_due" not in heads


DEBTOR_STAFF = (
    "payment_claimed", "dispute_opened", "plan_proposed", "message_in", "credit_note_missing", "hold_requested",
    "payment_unmatched",
)
CHAT = ("common", "commands", "menu", "link", "paid", "dispute", "plan", "promise", "statement", "person", "notices")


def test_template_names_lists_reminders_and_staff_with_fallback() -> None:
    expected = {f"reminder/{s}" for s in [*REMINDERS, "installment"]} | {
        f"staff/{s}" for s in (*STAFF, *DEBTOR_STAFF)
    } | {f"chat/{s}" for s in CHAT}  # the debtor chat's phrases (messages/chat.py)
    assert set(Renderer().template_names("en")) == expected
    assert set(Renderer().template_names("pt_BR")) == expected


# ------------------------------------------------------------ operator templates


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_operator_templates_are_used_with_filters_and_escaping(tmp_path: Path) -> None:
    write(
        tmp_path / "en/reminder/first.html.j2",
        "Pay {{ customer.name }}: {{ items[0].open_cents | money(items[0].currency) }}"
        " by {{ items[0].due_date | date }}\n",
    )
    write(tmp_path / "pt/reminder/first.html.j2", "Pague {{ totals[0].open_cents | money('BRL') }}")
    renderer = Renderer(tmp_path)
    ctx = reminder_ctx(customer={"ref": "X", "name": "<b>x</b>&"})

    assert renderer.render("reminder/first", "en", **ctx) == (
        "Pay &lt;b&gt;x&lt;/b&gt;&amp;: R$1,234.56 by Mar 7, 2025"
    )
    assert renderer.render("reminder/first", "pt_BR", **ctx) == "Pague R$\xa01.234,56"
    # No es/ folder in the operator dir: English from that same dir, not the packaged one.
    assert renderer.render("reminder/first", "es", **ctx).startswith("Pay ")
    assert renderer.template_names("es") == ["reminder/first"]
    with pytest.raises(jinja2.TemplateNotFound):
        renderer.render("reminder/second", "en", **ctx)


def test_operator_text_templates_are_not_escaped(tmp_path: Path) -> None:
    write(tmp_path / "en/staff/heads_up.txt.j2", "*{{ customer.name }}* {{ text }}")
    text = Renderer(tmp_path).render("staff/heads_up", "en", **staff_ctx() | {"text": "a<b"})
    assert text == "*ACME &amp; Co* a<b"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ customer.__class__.__init__.__globals__ }}",
        "{{ items.append(1) }}",
    ],
)
def test_operator_templates_are_sandboxed(tmp_path: Path, source: str) -> None:
    write(tmp_path / "en/reminder/first.html.j2", source)
    with pytest.raises(SecurityError):
        Renderer(tmp_path).render("reminder/first", "en", **reminder_ctx())


def test_operator_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Renderer(tmp_path / "missing")


def test_a_copy_of_the_packaged_templates_renders_the_same_in_the_sandbox(tmp_path: Path) -> None:
    """Operators start from a copy of messages/: it must work unchanged in the sandbox."""
    packaged = Renderer()
    shutil.copytree(
        packaged.templates_dir, tmp_path / "copy", ignore=shutil.ignore_patterns("*.py")
    )
    copy = Renderer(tmp_path / "copy")
    for locale in SUPPORTED_LOCALES:
        for step in REMINDERS:
            expected = packaged.render(f"reminder/{step}", locale, **reminder_ctx())
            assert copy.render(f"reminder/{step}", locale, **reminder_ctx()) == expected
        for name in STAFF:
            expected = packaged.render(f"staff/{name}", locale, **staff_ctx())
            assert copy.render(f"staff/{name}", locale, **staff_ctx()) == expected


PRE_DUE_SOON = {"en": "falls due soon", "es": "se acerca el vencimiento", "pt": "está próximo", "fa": "نزدیک است"}
PRE_DUE_PAST = {"en": "has fallen due", "es": "ya ha vencido", "pt": "já venceram", "fa": "فرا رسیده است"}
PRE_DUE_MIXED = {"en": "some has already", "es": "una parte vence pronto", "pt": "alguns vencem", "fa": "برخی"}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_a_pre_due_reminder_never_calls_a_past_due_date_coming(locale: str) -> None:
    """DESIGN's ladder sends pre_due until a later step's offset passes, so with a far next step
    (government: -3, then +15) it can reach an invoice already overdue: the words follow the dates."""
    ahead = [i for i in full_items() if i["days_overdue"] <= 0]
    usd = [{"currency": "USD", "open_cents": 5000}]
    coming = render("reminder/pre_due", locale, **reminder_ctx(items=ahead, totals=usd))
    assert PRE_DUE_SOON[locale] in coming and PRE_DUE_PAST[locale] not in coming
    overdue = [i for i in full_items() if i["days_overdue"] > 0]  # INV-1, 20 days overdue
    brl = [{"currency": "BRL", "open_cents": 123456}]
    past = render("reminder/pre_due", locale, **reminder_ctx(items=overdue, totals=brl))
    assert PRE_DUE_PAST[locale] in past and PRE_DUE_SOON[locale] not in past
    assert PRE_DUE_MIXED[locale] not in past
    assert_tidy(past)
    both = render("reminder/pre_due", locale, **reminder_ctx())  # one overdue, one due in 3 days
    assert PRE_DUE_MIXED[locale] in both
    assert_tidy(both)
