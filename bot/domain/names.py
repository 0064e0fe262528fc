"""Customer-name rules: how names are folded into keys, and which customer a query means.

DESIGN "Interfaces", `CUSTOMER`: an exact match on a ref, name or alias after folding
wins; otherwise a lenient (fuzzy) match, where a tie lists the candidates and nothing
close enough gives suggestions. Pure: the candidates come from the database's index
(storage/customer_keys.py), which finds them with `probe`.

Folding (`fold`): case, accents and punctuation go; letters that are the same to a
reader become one (Latin letters through the `anyascii` transliteration, so ł ø æ ß
read as l o ae ss; Arabic ي ى ك as Persian ی ک; every script's decimal digits as
0-9); other scripts keep their letters, so that distinct Persian letters stay distinct
in exact keys. Names and aliases also lose trailing legal-form suffixes (LLC, Inc,
S.L.U., GmbH, Ltda, ME, سهامی خاص, ...); refs are kept whole.

Each key also has a `search` text, its ASCII transliteration, which is what the
trigram index holds: the same on SQLite and PostgreSQL whatever the server's locale.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from anyascii import anyascii
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

FUZZY_ACCEPT = 85.0  # a lone candidate at or above this is taken as meant
TIE_MARGIN = 4.0  # candidates this close to the best are a tie
SUGGEST_FLOOR = 55.0  # "did you mean" lists candidates from this score up
CLOSE_ENOUGH = 75.0  # a tie is only broken by a candidate that is this close as a whole
CLOSER_MARGIN = 10.0  # ... and this much closer than the next one
FRAGMENT_WEIGHT = 0.95  # "acme" in "acme corporation" scores a little below a whole match
MAX_SUGGESTIONS = 5
CANDIDATE_LIMIT = 200  # rows the index hands over per probe, best trigram overlap first
RANK_GRAMS = 24  # query trigrams counted to rank the index's rows

# Letters that are the same to a reader but are different code points (after NFKD).
_READER_SAME = {
    "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
    "\u0649": "\u06cc",  # alef maksura -> Persian yeh
    "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
    "\u06d5": "\u0647",  # ae (heh of ۀ once its hamza is gone) -> heh
    "\u06be": "\u0647",  # heh doachashmee -> heh
    "\u0629": "\u0647",  # teh marbuta -> heh
    "\u0671": "\u0627",  # alef wasla -> alef
    "\u0640": "",  # tatweel (a stretch, not a letter)
}

# Trailing legal forms, written as people write them; matched on the folded words with
# the spaces between them removed ("S.L.U." and "SLU" are both "slu").
LEGAL_FORMS = (
    "Inc", "Incorporated", "Corp", "Corporation", "Co", "Company", "Cie", "Cia", "LLC", "Ltd", "Limited",
    "LLP", "LP", "PLC", "PLLC", "Pty", "Pty Ltd", "Pvt Ltd", "Private Limited", "Co Ltd",
    "S.A.", "S.A.U.", "S.L.", "S.L.U.", "S.L.L.", "S.R.L.", "S.A.S.", "S.A.S.U.", "S.A.C.", "S.A.A.",
    "S.A. de C.V.", "S. de R.L.", "S. de R.L. de C.V.", "S.A.P.I. de C.V.", "S. Coop.", "E.I.R.L.",
    "Ltda", "Lda", "ME", "EPP", "EIRELI", "MEI", "S/A",
    "GmbH", "AG", "KG", "OHG", "UG", "KGaA", "GmbH & Co. KG", "e.K.",
    "SARL", "SASU", "EURL", "SNC", "S.p.A.", "S.n.c.",
    "B.V.", "N.V.", "BVBA", "AB", "AS", "ASA", "A/S", "ApS", "Oy", "Oyj",
    "Sp. z o.o.", "s.r.o.", "a.s.", "A.Ş.", "Ltd. Şti.", "K.K.", "G.K.",
    "سهامی خاص", "سهامی عام", "با مسئولیت محدود", "ذ.م.م", "ش.م.م", "ش.م.ع",
)  # fmt: skip

_NUMBER = re.compile(r"\d+")


# --- folding ------------------------------------------------------------------------------------


def _is_latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN")


def _fold_char(ch: str) -> str:
    """One code point's folded text: lower-case letters and digits, " " for anything else."""
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    out = []
    for part in unicodedata.normalize("NFKD", ch):
        part = _READER_SAME.get(part, part)
        if not part or unicodedata.combining(part):
            continue
        if part.isascii():
            out.append(part.lower() if part.isalnum() else " ")
            continue
        category = unicodedata.category(part)
        if category == "Cf":  # zero-width (non-)joiners, direction marks: invisible
            continue
        if category[0] in "LM" and not _is_latin(part):
            out.append(part.casefold())
        elif category[0] in "LN":  # ł ø æ ß þ đ œ ı, Roman numerals ...
            ascii_ = anyascii(part).lower()
            out.append(ascii_ if ascii_.isalnum() else " ")
        else:  # symbols and punctuation
            out.append(" ")
    return "".join(out)


class _Table(dict):
    """str.translate table filled on first sight of each code point."""

    def __init__(self, fold_char) -> None:  # noqa: ANN001
        super().__init__()
        self._fold_char = fold_char

    def __missing__(self, code: int) -> str:
        value = self[code] = self._fold_char(chr(code))
        return value


def _ascii_char(ch: str) -> str:
    text = anyascii(ch).lower()
    return "".join(c if c.isalnum() else " " for c in text)


_FOLD = _Table(_fold_char)
_ASCII = _Table(_ascii_char)


# ASCII text, the common case, folds through one bytes.translate.
_ASCII_BYTES = bytes(c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 else 32 for c in range(256))


def _words(text: str) -> list[str]:
    if text.isascii():
        return text.encode().translate(_ASCII_BYTES).decode().split()
    return text.translate(_FOLD).split()


_FORMS = frozenset("".join(_words(f)) for f in LEGAL_FORMS)  # folded, without spaces
_ENDINGS = frozenset(f[i:] for f in _FORMS for i in range(len(f)))  # what a last word can be


def _strip_legal_form(words: list[str]) -> list[str]:
    """`words` without trailing legal forms (longest first, repeatedly); never all of them."""
    end = len(words)
    while end > 1:
        cut = 0
        joined = ""
        for k in range(1, end):
            joined = words[end - k] + joined
            if joined not in _ENDINGS:
                break
            if joined in _FORMS:
                cut = k
        if not cut:
            break
        end -= cut
    return words[:end]


def _split_form(folded: str) -> tuple[str, str]:
    """(without trailing legal forms, whole) of folded text whose words may be spaced unevenly."""
    words = folded.split()
    whole = " ".join(words)
    if len(words) > 1 and words[-1] in _ENDINGS:
        kept = _strip_legal_form(words)
        if len(kept) < len(words):
            return " ".join(kept), whole
    return whole, whole


def _forms(text: str) -> tuple[str, str]:
    """(folded without trailing legal forms, folded whole)."""
    if text.isascii():
        return _split_form(text.encode().translate(_ASCII_BYTES).decode())
    return _split_form(text.translate(_FOLD))


# Bulk folding: ASCII folded, newlines and UTF-8 bytes of other characters kept as they are.
_BULK_BYTES = bytes(10 if c == 10 else c if c >= 128 else _ASCII_BYTES[c] for c in range(256))


def _forms_many(texts: Sequence[str]) -> list[tuple[str, str]]:
    """`_forms` of each text; one bytes.translate for the ASCII of them all (an import folds ~400,000)."""
    buf = "\n".join(texts)
    lines = buf.encode().translate(_BULK_BYTES).decode().split("\n")
    if len(lines) != len(texts):  # a text with a line break of its own
        return [_forms(t) for t in texts]
    return [_split_form(line if line.isascii() else line.translate(_FOLD)) for line in lines]


def fold(text: str, *, legal_form: bool = True) -> str:
    """The folded key of a name: "Comercial Cádiz 6, S.L.U." -> "comercial cadiz 6".

    Lower case, accents and punctuation gone, reader-identical letters and digits made
    one (see the module doc), words separated by one space; with `legal_form`, trailing
    legal-form suffixes dropped (unless nothing else is left). "" for nothing to match.
    """
    key, whole = _forms(text)
    return key if legal_form else whole


def search_text(key: str) -> str:
    """What the trigram index holds for a folded key: its ASCII letters and digits, words by one space."""
    if key.isascii():
        return key
    return " ".join(key.translate(_ASCII).split())


def numbers(key: str) -> frozenset[str]:
    """The numbers written in a folded key, by value ("007" is "7")."""
    return frozenset(n.lstrip("0") or "0" for n in _NUMBER.findall(key))


# A customer_key row: (key, whole, search), how one ref, name or alias is found.
#   key: exact; a name or alias without its legal form, a ref's letters and digits without spaces;
#   whole: the whole folded name when that differs from `key` (the legal form kept), else None;
#   search: the whole name's ASCII letters and digits, for the trigram index; None for a ref.
Key = tuple[str, str | None, str | None]


def ref_key(ref: str) -> str:
    """A ref's key: folded, without separators ("CUST-0042" and "cust 0042" are "cust0042")."""
    return _forms(ref)[1].replace(" ", "")


def customer_keys(ref: str, name: str, aliases: str) -> list[Key]:
    """The keys (key, whole, search) of a customer's ref, name and each alias ("|"-separated), distinct.

    Names and aliases are found exactly by `key` or `whole`, leniently through `search`;
    the ref only exactly.
    """
    return [row[1:] for row in key_rows([(0, ref, name, aliases)])]


def _ref_keys(refs: Sequence[str]) -> list[str]:
    """`ref_key` of each ref, in bulk: one translate and one replace for the ASCII ones."""
    buf = "\n".join(refs).encode().translate(_BULK_BYTES).decode().replace(" ", "")
    lines = buf.split("\n")
    if len(lines) != len(refs):  # a ref with a line break of its own
        return [ref_key(r) for r in refs]
    return [line if line.isascii() else line.translate(_FOLD).replace(" ", "") for line in lines]


def key_rows(customers: Sequence[tuple[int, str, str, str]]) -> list[tuple[int, str, str | None, str | None]]:
    """(customer id, key, whole, search) for each (customer id, ref, name, aliases): `customer_keys`
    of them all, folded in bulk (an import of 200,000 customers folds ~400,000 texts)."""
    texts: list[str] = []
    for _, _, name, aliases in customers:
        texts.append(name)
        if aliases:
            texts.extend(aliases.split("|"))
    forms = _forms_many(texts)
    refs = _ref_keys([c[1] for c in customers])
    rows: list[tuple[int, str, str | None, str | None]] = []
    add = rows.append
    i = 0
    for (cid, _, _, aliases), compact in zip(customers, refs, strict=True):
        key, whole = forms[i]
        if not aliases:
            i += 1
            if key:
                add((cid, key, None if whole == key else whole, whole if whole.isascii() else search_text(whole)))
            if compact and (compact != key or whole != key):
                add((cid, compact, None, None))
            continue
        n = aliases.count("|") + 2  # name, aliases
        seen: set[tuple[str, str]] = set()
        for key, whole in forms[i : i + n]:
            if key and (key, whole) not in seen:
                seen.add((key, whole))
                add((cid, key, None if whole == key else whole, search_text(whole)))
        if compact and (compact, compact) not in seen:
            add((cid, compact, None, None))
        i += n
    return rows


@dataclass(frozen=True)
class Query:
    """A query folded the ways keys are: `key` (legal form dropped), `whole`, `ref` (no spaces)."""

    key: str
    whole: str
    ref: str

    @classmethod
    def of(cls, text: str) -> Query:
        """The query as typed, folded (DESIGN "Interfaces", CUSTOMER): its key without legal-form suffixes,
        the whole folded text, and that text without spaces (how a ref may be typed).
        """
        key, whole = _forms(text)
        return cls(key, whole, "".join(whole.split()))

    def keys(self) -> tuple[str, ...]:
        """The distinct keys that match it exactly."""
        return tuple(k for k in dict.fromkeys((self.key, self.whole, self.ref)) if k)


def query_keys(query: str) -> tuple[str, ...]:
    """The customer_key.key values that `query` matches exactly."""
    return Query.of(query).keys()


# --- the index probe ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """What to ask the trigram index for a query.

    `groups`: tuples of trigrams; a row is a candidate when it contains every trigram of
    at least `need` groups. `rank`: trigrams whose count in a row orders the candidates
    (most first), of which the index hands over CANDIDATE_LIMIT.
    """

    groups: tuple[tuple[str, ...], ...]
    need: int
    rank: tuple[str, ...]

    def clauses(self) -> list[tuple[str, ...]]:
        """The probe as OR-ed clauses, each an AND of trigrams."""
        if not self.groups:
            return []
        return [tuple(sorted(set().union(*combo))) for combo in combinations(self.groups, self.need)]


def _grams(search: str) -> list[str]:
    """Every trigram of letters and digits within a word, in order, distinct."""
    out: dict[str, None] = {}
    for word in search.split():
        for i in range(len(word) - 2):
            out.setdefault(word[i : i + 3])
    return list(out)


def probe(query: str, *, wide: bool = False) -> Probe:
    """The index probe for a query: every row within one typo of it, and few others.

    One edit (a letter changed, missing, extra) breaks at most one of the query's
    non-overlapping ("spaced") trigrams, two for a swap of neighbours. With three spaced
    trigrams or more, split in three groups, a row within one edit keeps two groups
    whole; `wide` asks for any one spaced trigram (a swap, more typos, suggestions). A
    shorter query asks for all but three of its overlapping trigrams (one edit breaks at
    most three), `wide` for any one of them (a swap breaks four). So a row one edit away
    is always found when the query has five trigrams or more; a shorter one is found
    when a trigram survives the typo, and a query with none (no word of three letters)
    finds nothing here.
    """
    search = search_text(fold(query))  # without its legal form: "corp", "ltda" are in every other name
    grams = _grams(search)
    rank = tuple(grams[:RANK_GRAMS])
    spaced: list[str] = []
    for word in search.split():
        spaced.extend(word[i : i + 3] for i in range(0, len(word) - 2, 3))
    spaced = list(dict.fromkeys(spaced))
    if not grams:
        return Probe((), 0, rank)
    if len(spaced) >= 3:
        if wide:
            return Probe(tuple((g,) for g in spaced), 1, rank)
        third = len(spaced) / 3
        groups = tuple(tuple(spaced[round(i * third) : round((i + 1) * third)]) for i in range(3))
        return Probe(groups, 2, rank)
    single = tuple((g,) for g in grams[:8])
    return Probe(single, 1 if wide else max(1, len(single) - 3), rank)


# --- deciding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """Exactly one of: `match` (one customer); `candidates` (ambiguous, best first); `suggestions` (unknown).

    `exact`: the match or the candidates share the query's folded key (DESIGN: an exact
    ref, name or alias); otherwise the match is lenient and is named to the user.
    """

    match: int | None = None
    candidates: tuple[int, ...] = ()
    suggestions: tuple[int, ...] = ()
    exact: bool = False


def _span(query: str, key: str) -> str:
    """The whole words of a longer `key` that `query` lines up with best ("cadiz 6" in "comercial cadiz 6")."""
    found = fuzz.partial_ratio_alignment(query, key)
    if found is None:
        return key
    start = key.rfind(" ", 0, found.dest_start) + 1
    end = key.find(" ", max(found.dest_end - 1, found.dest_start))
    return key[start : end if end >= 0 else len(key)]


def _fragment(query: str, key: str) -> tuple[float, str]:
    """(how well `query` matches whole words of a longer `key`, x FRAGMENT_WEIGHT; those words)."""
    if len(key) <= len(query):
        return 0.0, key
    span = _span(query, key)
    return fuzz.ratio(query, span) * FRAGMENT_WEIGHT, span


def decide(query: str, found: Iterable[tuple[int, str, str]]) -> Resolution:
    """Which customer `query` means among `found`: (customer id, key, whole) rows from the index
    (`whole` is the key when the row has none).

    1. Exact: rows whose whole folded name (or ref) is the query's whole folded text; else
       rows whose key is one of `Query.keys()` (the query without its legal form, whole,
       or without spaces). One customer: the match; several: ambiguous.
    2. Lenient: each row scores the best of its whole-string similarity to the query
       (rapidfuzz ratio, or token_sort_ratio for words in another order; keys without
       and names with their legal forms, each against the query the same way) and, for
       a longer key, the query's similarity to the whole words it matches (x
       FRAGMENT_WEIGHT). A row whose numbers differ from the query's (when the query has
       any) is no match: "cadiz 600" never answers for "cadiz 6". The best customer at
       FUZZY_ACCEPT or above is the lenient match unless another is within TIE_MARGIN.
       Such a tie goes to the one fewest edits away (Indel distance to the key, or to the
       words of it the query matched), then to the one with the legal form the query
       gives; then to the one closer as a whole by CLOSER_MARGIN (and at CLOSE_ENOUGH);
       else it is ambiguous.
    3. Nothing at FUZZY_ACCEPT: unknown, with up to MAX_SUGGESTIONS from SUGGEST_FLOOR up
       (numbers ignored there: "did you mean Cadiz 6?" helps).
    A query without a word of three letters or digits has exact matches only (it has no
    trigram for the index to find anything by).
    Equal scores are listed by customer id.
    """
    q = Query.of(query)
    if not q.whole:
        return Resolution()
    found = list(found)
    as_typed = sorted({cid for cid, _, name in found if name in (q.whole, q.ref)})
    exact = as_typed or sorted({cid for cid, key, _ in found if key in (q.key, q.whole, q.ref)})
    if len(exact) == 1:
        return Resolution(match=exact[0], exact=True)
    if exact:
        return Resolution(candidates=tuple(exact), exact=True)
    if not _grams(search_text(q.whole)):  # no word of three letters: too little to guess from
        return Resolution()
    wanted = numbers(q.key)
    best: dict[int, float] = {}
    whole_best: dict[int, float] = {}
    near: dict[int, float] = {}
    fewest: dict[int, tuple[int, int]] = {}
    suffix = q.whole[len(q.key) :].strip()  # the legal form the query gives, if any
    for cid, key, name in found:
        whole = max(fuzz.ratio(q.key, key), fuzz.token_sort_ratio(q.key, key))
        fragment, span = _fragment(q.key, key)
        if name != key and not suffix:  # "acme corpp" for "ACME Corp": a typo in the legal form
            whole = max(whole, fuzz.ratio(q.whole, name))
            fragment = max(fragment, _fragment(q.whole, name)[0])
        score = max(whole, fragment)
        near[cid] = max(near.get(cid, 0.0), score)
        if wanted and numbers(key) != wanted:
            continue
        best[cid] = max(best.get(cid, 0.0), score)
        whole_best[cid] = max(whole_best.get(cid, 0.0), whole)
        # Edits from the query (to the words it matched), then whether the legal form it gives is this one's.
        edits = (
            Indel.distance(q.key, span if fragment > whole else key),
            int(bool(suffix) and name[len(key) :].strip() != suffix),
        )
        fewest[cid] = min(fewest.get(cid, edits), edits)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked or ranked[0][1] < FUZZY_ACCEPT:
        close = sorted(((s, cid) for cid, s in near.items() if s >= SUGGEST_FLOOR), key=lambda t: (-t[0], t[1]))
        return Resolution(suggestions=tuple(cid for _, cid in close[:MAX_SUGGESTIONS]))
    top = ranked[0][1]
    tied = [cid for cid, score in ranked if score >= max(top - TIE_MARGIN, FUZZY_ACCEPT)]
    if len(tied) == 1:
        return Resolution(match=tied[0])
    least = min(fewest[cid] for cid in tied)
    closest = [cid for cid in tied if fewest[cid] == least]
    if len(closest) == 1:  # one typo against two: the nearer one is meant
        return Resolution(match=closest[0])
    by_whole = sorted(tied, key=lambda cid: (-whole_best[cid], cid))
    first, second = whole_best[by_whole[0]], whole_best[by_whole[1]]
    if first >= CLOSE_ENOUGH and first - second >= CLOSER_MARGIN:
        return Resolution(match=by_whole[0])
    return Resolution(candidates=tuple(tied))


def settled(resolution: Resolution) -> bool:
    """Whether a narrow probe's answer stands: a match or a tie. Unknown asks the wide probe."""
    return resolution.match is not None or bool(resolution.candidates)
