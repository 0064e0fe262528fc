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


def _refuse(t: Turn, kind: str, exc: parsing.ParseError, **ctx: object) -> None:
    phrase = f"common.{kind}_{exc.reason.value}"
    t.note(phrase if has(phrase) else f"common.{kind}_invalid", **ctx)


def read_amount(t: Turn, currency: str) -> int | None:
    """The cents the debtor typed (positive: the parser refuses zero and signs), or None after noting why not."""
    try:
        cents = parsing.parse_amount(t.text, t.locale, currency=currency)
    except parsing.ParseError as exc:
        _refuse(t, "amount", exc, currency=currency)
        return None
    return cents


def read_date(t: Turn) -> date | None:
    """The date the debtor typed, or None after noting why not."""
    try:
        return parsing.parse_date(t.text, t.locale)
    except parsing.ParseError as exc:
        _refuse(t, "date", exc)
        return None
