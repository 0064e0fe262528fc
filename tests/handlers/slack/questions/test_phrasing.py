"""What staff ask, read from Slack's text: en/es/pt phrasings, reports, and Slack's own escaping undone."""

from __future__ import annotations

import pytest

from bot.handlers.slack.phrasing import Owe, Report, Unknown, clean, parse, slash_collect, slash_owe


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("<@U0BOT> what does ACME owe?", "ACME"),
        ("What does ACME Corp owe us", "ACME Corp"),
        ("how much does Café Zürich owe?", "Café Zürich"),
        ("balance of ACME", "ACME"),
        ("what's the balance for ACME", "ACME"),
        ("ACME balance", "ACME"),
        ("ACME's balance", "ACME"),
        ("owe ACME", "ACME"),
        ("¿Cuánto debe ACME?", "ACME"),
        ("cuanto nos debe Comercial Cádiz 6", "Comercial Cádiz 6"),
        ("qué debe la ACME", "ACME"),
        ("saldo de ACME", "ACME"),
        ("saldo del Grupo Ñandú", "Grupo Ñandú"),
        ("quanto deve ACME", "ACME"),
        ("Quanto a Açaí Comércio deve?", "Açaí Comércio"),
        ("o que ACME nos deve", "ACME"),
        ("saldo da Café Zürich Ltda", "Café Zürich Ltda"),
        ("saldo ACME", "ACME"),
        ('what does "ACME Corp" owe', "ACME Corp"),
        ("what does AT&amp;T owe", "AT&T"),
        ("what does &lt;!channel&gt; owe", "<!channel>"),
    ],
)
def test_questions_about_a_customer_keep_the_name_as_typed(text: str, name: str) -> None:
    assert parse(text) == Owe(name)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("prospects", Report("prospects")),
        ("<@U0BOT> Aging", Report("aging")),
        ("digest", Report("digest")),
        ("weekly", Report("weekly")),
        ("scorecard", Report("scorecard")),
        ("scorecard 2026-10", Report("scorecard", "2026-10")),
        ("help", Report("help")),
        ("ayuda", Report("help")),
        ("ajuda", Report("help")),
        ("", Report("help")),
        ("<@U0BOT>", Report("help")),
        ("hello there", Unknown("hello there")),
        ("aging report for everyone", Unknown("aging report for everyone")),
    ],
)
def test_reports_and_everything_else(text: str, intent: object) -> None:
    assert parse(text) == intent


def test_slash_commands() -> None:
    assert slash_owe("ACME Corp") == Owe("ACME Corp")
    assert slash_owe("aging") == Owe("aging")  # /owe always names a customer
    assert slash_owe("how much does ACME owe") == Owe("ACME")
    assert slash_owe("  ") == Report("help")
    assert slash_collect("scorecard 2026-09") == Report("scorecard", "2026-09")
    assert slash_collect("saldo de ACME") == Owe("ACME")


def test_clean_undoes_slacks_markup() -> None:
    assert clean("<@U0BOT>  see <https://x.test/a|the page> and <#C01|general> &amp; &lt;b&gt;?") == (
        "see the page and general & <b>"
    )
