"""Lenient customer-name resolution: "acme", "ACME Corp.", "Açaí" typed as "acai".

Rules (DESIGN "balance CUSTOMER"): an exact match on a ref, name or alias after
folding case, accents and punctuation wins; otherwise fuzzy matching (rapidfuzz)
decides, and a tie between customers is ambiguous rather than a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
FUZZY_ACCEPT = 85.0  # a lone candidate at or above this is taken as meant
TIE_MARGIN = 4.0  # candidates this close to the best are a tie
SUGGEST_FLOOR = 55.0
CLOSER_MARGIN = 10.0
CLOSE_ENOUGH = 75.0  # a tie is only broken by a candidate that is close as a whole
FRAGMENT_WEIGHT = 0.95


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key: "Café-Zürich, Ltda." -> "cafe zurich ltda"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _PUNCT.sub(" ", stripped.casefold()).strip()


@dataclass(frozen=True)
class Resolution:
    """Exactly one of: `match` set; `candidates` (ambiguous); or `suggestions` (unknown)."""

    match: int | None = None
    candidates: tuple[int, ...] = ()
    suggestions: tuple[int, ...] = ()


class NameIndex:
    """Folded keys of every customer (ref, name, aliases) -> customer ids."""

    def __init__(self, entries: Iterable[tuple[int, str]]) -> None:
        self.exact: dict[str, set[int]] = {}
        for customer_id, key in entries:
            if key:
                self.exact.setdefault(key, set()).add(customer_id)
        self.keys = list(self.exact)

    def resolve(self, query: str) -> Resolution:
        key = fold(query)
        if not key:
            return Resolution()
        ids = self.exact.get(key)
        if ids:
            if len(ids) == 1:
                return Resolution(match=next(iter(ids)))
            return Resolution(candidates=tuple(sorted(ids)))
        best: dict[int, float] = {}
        closeness: dict[int, float] = {}  # whole-string similarity, to break ties
        for found, score, _ in process.extract(key, self.keys, scorer=fuzz.ratio, limit=20, score_cutoff=SUGGEST_FLOOR):
            for cid in self.exact[found]:
                best[cid] = max(best.get(cid, 0.0), score)
                closeness[cid] = max(closeness.get(cid, 0.0), score)
        # A fragment of a longer name ("acme" -> "acme corporation") scores a little
        # below an exact whole; a key that is only a fragment of the query does not count.
        for found, score, _ in process.extract(
            key, self.keys, scorer=fuzz.partial_ratio, limit=20, score_cutoff=FUZZY_ACCEPT
        ):
            if len(found) >= len(key):
                for cid in self.exact[found]:
                    best[cid] = max(best.get(cid, 0.0), score * FRAGMENT_WEIGHT)
                    closeness.setdefault(cid, fuzz.ratio(key, found))
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked or ranked[0][1] < FUZZY_ACCEPT:
            return Resolution(suggestions=tuple(cid for cid, _ in ranked[:5]))
        top = ranked[0][1]
        tied = [cid for cid, score in ranked if score >= top - TIE_MARGIN and score >= FUZZY_ACCEPT]
        if len(tied) > 1:
            # Several fragments match equally; one much closer as a whole is what was meant.
            tied.sort(key=lambda cid: -closeness[cid])
            if closeness[tied[0]] >= CLOSE_ENOUGH and closeness[tied[0]] - closeness[tied[1]] >= CLOSER_MARGIN:
                tied = tied[:1]
        if len(tied) == 1:
            return Resolution(match=tied[0])
        return Resolution(candidates=tuple(tied))
