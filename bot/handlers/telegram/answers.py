"""Reading a debtor's typed answers: amounts and dates the way they write them, through bot.domain.parsing.

The parsers are the domain's (one parser for the whole product: "1.234,56" in pt/es, Persian
digits in fa, ISO dates everywhere and dd/mm/yyyy in pt/es); here a refusal becomes a line in
the debtor's language, chosen by the parser's reason key (`common.amount_<reason>`, else the
general `common.amount_invalid`; the same for dates).
"""

from __future__ import annotations

from datetime import date

from bot.domain import parsing
from bot.handlers.telegram.conversation import Turn
from messages.chat import has


def _refuse(t: Turn, kind: str, exc: Exception, **ctx: object) -> None:
    reason = getattr(exc, "reason", "")
    phrase = f"common.{kind}_{reason}" if reason and has(f"common.{kind}_{reason}") else f"common.{kind}_invalid"
    t.note(phrase, **ctx)


def read_amount(t: Turn, currency: str) -> int | None:
    """The cents the debtor typed (positive), or None after noting why not."""
    try:
        cents = parsing.parse_amount(t.text, t.locale)
    except ValueError as exc:
        _refuse(t, "amount", exc, currency=currency)
        return None
    if cents <= 0:
        t.note("common.amount_not_positive", currency=currency)
        return None
    return cents


def read_date(t: Turn) -> date | None:
    """The date the debtor typed, or None after noting why not."""
    try:
        return parsing.parse_date(t.text, t.locale)
    except ValueError as exc:
        _refuse(t, "date", exc)
        return None
