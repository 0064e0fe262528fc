"""What a staff member asks the bot, read from a mention, a DM or a slash command's text. Pure.

Questions about a customer, in English, Spanish and Portuguese (the name is kept as typed):

- en: "what does ACME owe", "how much does ACME owe (us)", "balance of/for ACME",
  "ACME balance", "ACME's balance", "owe ACME", "balance ACME";
- es: "cuánto debe ACME", "qué debe ACME", "cuánto nos debe ACME", "saldo de/del ACME",
  "ACME saldo";
- pt: "quanto deve ACME", "quanto o/a ACME deve", "o que ACME deve", "saldo de/do/da ACME".

Reports: the text is exactly one of `prospects`, `aging`, `digest`, `weekly`, `help`
(`ayuda`, `ajuda`, `?`), or `scorecard [YYYY-MM]`. Anything else is `Unknown`.

Slack writes `&`, `<` and `>` typed by a person as `&amp;`, `&lt;`, `&gt;`, and mentions,
channels and links as `<@U123>`, `<#C1|name>`, `<https://x|label>`: `clean` undoes that
first, so a customer named `AT&T` is asked about as typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

REPORTS = ("prospects", "scorecard", "aging", "digest", "weekly", "help")
_HELP_WORDS = {"help": "help", "ayuda": "help", "ajuda": "help", "?": "help"}


@dataclass(frozen=True)
class Owe:
    query: str  # the customer as typed


@dataclass(frozen=True)
class Report:
    kind: str  # one of REPORTS
    month: str | None = None  # scorecard's YYYY-MM, as typed


@dataclass(frozen=True)
class Unknown:
    text: str


Intent = Owe | Report | Unknown

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<(?:[#!][^|>]*\|)?([^|>]*)(?:\|([^>]*))?>")
_NAME = r"(?P<n>.+?)"
_PATTERNS = [
    # en
    rf"^(?:so\s+)?(?:what|how\s+much)\s+(?:does|do|did)\s+{_NAME}\s+owe(?:\s+us)?$",
    rf"^how\s+much\s+is\s+{_NAME}\s+owing$",
    rf"^(?:what(?:'s|\s+is)\s+)?(?:the\s+)?balance\s+(?:of|for)\s+{_NAME}$",
    rf"^{_NAME}(?:'s|’s)?\s+balance$",
    rf"^(?:owe|owes|balance)\s+{_NAME}$",
    # es
    rf"^(?:cuanto|que)\s+(?:nos\s+|me\s+)?debe\s+(?:el\s+|la\s+)?{_NAME}$",
    rf"^(?:cual\s+es\s+)?(?:el\s+)?saldo\s+(?:de\s+la|de\s+los|del|de)\s+{_NAME}$",
    # pt
    rf"^(?:quanto|o\s+que)\s+(?:nos\s+|me\s+)?deve\s+(?:o\s+|a\s+)?{_NAME}$",
    rf"^(?:quanto|o\s+que)\s+(?:o\s+|a\s+)?{_NAME}\s+(?:nos\s+|me\s+)?deve$",
    rf"^(?:qual\s+(?:e\s+)?o\s+)?saldo\s+(?:dos|das|do|da|de)\s+{_NAME}$",
    # es / pt: "ACME saldo", "saldo ACME"
    rf"^{_NAME}\s+saldo$",
    rf"^saldo\s+{_NAME}$",
]
_COMPILED = [re.compile(p, re.IGNORECASE | re.DOTALL) for p in _PATTERNS]
_MONTH = re.compile(r"^\d{4}-\d{1,2}$")


def clean(text: str) -> str:
    """Slack's message text as the person typed it: mentions of the bot dropped, links to their
    labels, `&amp;` `&lt;` `&gt;` back to `&` `<` `>`, spaces collapsed, end punctuation off."""
    text = _MENTION.sub(" ", text or "")
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = " ".join(text.split())
    return text.strip().lstrip("¿¡").rstrip("?!.¿¡ ").strip()


def _plain(text: str) -> str:
    """Lower case without accents, for matching the fixed words only (the name keeps its own)."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _unquote(name: str) -> str:
    name = name.strip()
    pairs = {'"': '"', "'": "'", "“": "”", "«": "»", "`": "`"}
    if len(name) >= 2 and name[0] in pairs and name[-1] == pairs[name[0]]:
        name = name[1:-1].strip()
    return name


def parse(text: str) -> Intent:
    """The intent of a message to the bot (see the module's phrasings)."""
    said = clean(text)
    if not said:
        return Report("help")
    if said.strip() == "?":
        return Report("help")
    words = said.split()
    first = _plain(words[0])
    if len(words) == 1 and (first in REPORTS or first in _HELP_WORDS):
        return Report(_HELP_WORDS.get(first, first))
    if first == "scorecard" and len(words) == 2 and _MONTH.match(words[1]):
        return Report("scorecard", words[1])
    # Patterns are matched on the unaccented text, whose characters line up one to one with
    # the original's once both are in composed form: the name is cut from the original.
    composed = unicodedata.normalize("NFC", said)
    plain = _plain(composed)
    probe = plain if len(plain) == len(composed) else composed
    for pattern in _COMPILED:
        m = pattern.match(probe)
        if m:
            name = _unquote(composed[m.start("n") : m.end("n")])
            if name:
                return Owe(name)
    return Unknown(said)


def slash_owe(text: str) -> Owe | Report:
    """`/owe ACME`: the whole text is the customer (a phrasing is accepted too); empty: help."""
    said = clean(text)
    if not said:
        return Report("help")
    intent = parse(said)
    return intent if isinstance(intent, Owe) else Owe(_unquote(said))


def slash_collect(text: str) -> Intent:
    """`/collect <what>`: a report, or a question about a customer; empty: help."""
    return parse(text)
