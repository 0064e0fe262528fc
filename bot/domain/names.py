"""Lenient customer-name resolution: "acme", "ACME Corp.", "Açaí" typed as "acai".

Rules (DESIGN "balance CUSTOMER"): an exact match on a ref, name or alias after
folding case, accents and punctuation wins; otherwise fuzzy matching (rapidfuzz)
decides, and a tie between customers is ambiguous rather than a guess.

Fuzzy matching scores the query against the keys with `fuzz.ratio` (the RATIO_LIMIT
best at or above SUGGEST_FLOOR) and `fuzz.partial_ratio` (the PARTIAL_LIMIT best at
or above FUZZY_ACCEPT), then `_decide`s. Among 200,000 customers (~430,000 keys)
doing that naively takes seconds; there are three ways in:

* `NameIndex.resolve` scores every key and gives exactly the naive answer, ~5x
  faster: partial_ratio, the costly scorer, only gets the keys whose longest common
  subsequence with the query can reach FUZZY_ACCEPT at all (`_partial_floor`), which
  one bit-parallel LCS pass finds.
* `NameIndex.resolve_near` scores only the keys that begin like the first half of the
  query or end like its last half, up to one typo (or two dropped characters) there
  (`near_positions`, walking the keys sorted forwards and backwards): a few hundred.
* `resolve_near` (module level) scores the keys that a database finds through its
  B-tree on the key: those beginning like the query's first PROBE_PREFIX - 1
  characters, up to one typo (or two dropped characters) there (`probe_prefixes`).

The near ways answer only when the keys they did not score could not change the
answer, assuming that none of those has a whole-string score within TIE_MARGIN of
the best (`_decide`'s "settled"); otherwise they return None and the caller uses
`resolve`. A key they do not score differs from the query in two places at least in
each half of it (in memory), or within its first characters (database; so there a
lone winner is settled only if it begins exactly like the query, its typo further
on). The assumption fails only for two customers whose names are already that close
to each other, e.g. "Orion Pescados" and "Río Pescados" (the database way); see
tests/domain/test_name_index.py, which checks the three against the naive algorithm.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
FUZZY_ACCEPT = 85.0  # a lone candidate at or above this is taken as meant
TIE_MARGIN = 4.0  # candidates this close to the best are a tie
SUGGEST_FLOOR = 55.0
CLOSER_MARGIN = 10.0
CLOSE_ENOUGH = 75.0  # a tie is only broken by a candidate that is close as a whole
FRAGMENT_WEIGHT = 0.95
RATIO_LIMIT = 20  # keys taken from the whole-string scores
PARTIAL_LIMIT = 20  # keys taken from the fragment scores (before those shorter than the query are dropped)

# The database way looks at the keys whose first PROBE_PREFIX - 1 characters are the
# query's, up to one typo (or two dropped characters): ~700 key ranges.
PROBE_PREFIX = 10
PROBE_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_PROBE_ALPHABET_SPACE = PROBE_ALPHABET + " "  # folded keys never start with a space

# partial_ratio >= FUZZY_ACCEPT needs LCS >= this share of the shorter string's length.
_PARTIAL_SHARE = Fraction(FUZZY_ACCEPT) / (200 - Fraction(FUZZY_ACCEPT))

Hits = tuple[list[tuple[str, float]], list[tuple[str, float]]]
IdsOf = Callable[[list[str]], Mapping[str, Sequence[int]]]  # keys -> the customers having each


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


# --- keys that begin like the query: the database way ----------------------------------------


def probe_prefixes(key: str) -> list[str]:
    """The leading strings of the keys that begin like the folded query `key`.

    Its first PROBE_PREFIX - 1 characters, and for each one-typo variant of the query
    whose typo lies among them (a character changed, missing, extra, or two swapped;
    or two extra ones) the variant's first PROBE_PREFIX characters. Sorted; a prefix
    of another one stands for both. A query shorter than three characters probes only
    itself.
    """
    if len(key) < 3:
        return [key]
    n = PROBE_PREFIX
    window = key[: n + 1]  # all that any variant's first n characters come from
    found = {window[: n - 1]}
    add = found.add
    for i in range(min(n - 1, len(window))):
        head, rest = window[:i], window[i:]
        after = rest[1:]
        for j in range(i + 1, n - 1):  # two characters too many in the query, or only one
            add((head + window[i + 1 : j] + window[j + 1 :])[:n])
        add((head + after)[:n])
        if after:
            add((head + after[0] + rest[0] + after[1:])[:n])  # two swapped
        for ch in PROBE_ALPHABET if i == 0 else _PROBE_ALPHABET_SPACE:
            add((head + ch + after)[:n])  # one changed
            add((head + ch + rest)[:n])  # one missing
    kept: list[str] = []
    for prefix in sorted(found):
        if prefix and prefix[0] != " " and not (kept and prefix.startswith(kept[-1])):
            kept.append(prefix)
    return kept


def prefix_end(prefix: str) -> str:
    """The least string after every string that starts with `prefix`, in code-point order."""
    last = ord(prefix[-1]) + 1
    if last > 0x10FFFF or 0xD800 <= last <= 0xDFFF:
        return prefix + "\U0010ffff"
    return prefix[:-1] + chr(last)


def resolve_near(query: str, keys: Sequence[str], ids_of: IdsOf) -> Resolution | None:
    """Resolve `query` among `keys`: those starting with probe_prefixes(fold(query)), in position order.

    `ids_of(keys)` gives the customers of the few keys that scored (a key it leaves
    out has none). None: keys not among `keys` could change the answer, use
    `NameIndex.resolve`. Without the keys that end like the query, a lone winner is
    settled only when it begins like the query too: a typo among the first characters
    hides the keys that share the rest of the name (another customer with a similar
    first word), and one of those can tie.
    """
    key = fold(query)
    if not key:
        return Resolution()
    exact = _exact(key, key in keys, ids_of)
    if exact is not None:
        return exact
    resolution, settled, winner_key = _answer(key, _hits(key, list(keys)), ids_of)
    if not settled or (resolution.match is not None and not winner_key.startswith(key[: PROBE_PREFIX - 1])):
        return None
    return resolution


# --- every key ------------------------------------------------------------------------------


class NameIndex:
    """Folded keys of every customer (ref, name, aliases) -> customer ids."""

    def __init__(self, entries: Iterable[tuple[int, str]]) -> None:
        # An int per key, not a set: 200,000 customers make ~430,000 keys, and the
        # garbage collector walks every container object at each full collection.
        first: dict[str, int | None] = {}  # None: customers unknown (`of_keys`)
        shared: dict[str, set[int]] = {}  # keys of more than one customer
        for customer_id, key in entries:
            if key:
                seen = first.setdefault(key, customer_id)
                if seen != customer_id:
                    shared.setdefault(key, {seen}).add(customer_id)  # type: ignore[arg-type]
        self._first = first
        self._shared = {key: tuple(sorted(ids)) for key, ids in shared.items()}
        self.keys = list(first)  # first-seen order: equal scores are listed in it
        self._by_length: list[tuple[int, list[str], list[int]]] | None = None
        self._sorted: dict[bool, tuple[list[str], list[int]]] = {}
        self._children: dict[bool, dict[str, list[tuple[str, int, int]]]] = {}  # see _next_characters

    @classmethod
    def of_keys(cls, keys: Iterable[str]) -> NameIndex:
        """Keys only (distinct, in position order); their customers come from `ids_of` when resolving."""
        index = cls(())
        index._first = dict.fromkeys(keys)
        index._first.pop("", None)
        index.keys = list(index._first)
        return index

    def __len__(self) -> int:
        return len(self.keys)

    def ids(self, key: str) -> tuple[int, ...]:
        """The customers with this folded key, ascending; () for none (or for an index of keys only)."""
        shared = self._shared.get(key)
        if shared is not None:
            return shared
        cid = self._first.get(key)
        return () if cid is None else (cid,)

    def resolve(self, query: str, ids_of: IdsOf | None = None) -> Resolution:
        """Exact folded match, else fuzzy over every key: the answer of scoring them all."""
        ids_of = ids_of or self._ids_of
        key = fold(query)
        if not key:
            return Resolution()
        exact = _exact(key, key in self._first, ids_of)
        if exact is not None:
            return exact
        return _answer(key, _hits(key, self.keys, self._groups()), ids_of)[0]

    def resolve_near(self, query: str, ids_of: IdsOf | None = None) -> Resolution | None:
        """Resolve among the keys that begin or end like the query; None when that is not settled."""
        ids_of = ids_of or self._ids_of
        key = fold(query)
        if not key:
            return Resolution()
        exact = _exact(key, key in self._first, ids_of)
        if exact is not None:
            return exact
        near = [self.keys[p] for p in self.near_positions(key)]
        resolution, settled, _ = _answer(key, _hits(key, near), ids_of)
        return resolution if settled else None

    def near_positions(self, key: str) -> list[int]:
        """Positions (in self.keys) of the keys that begin or end like the folded `key`, ascending.

        Like the first half of the query (or like its last half), up to one typo there:
        a key that is neither has two typos or more in each half, four edits at least.
        """
        width = max(len(key) // 2, min(len(key), 3))
        found: set[int] = set()
        for reverse in (False, True):
            keys, positions = self._ordered(reverse)
            children = self._children.setdefault(reverse, {})
            for lo, hi in _ranges_like(keys, key[::-1] if reverse else key, width, children):
                found.update(positions[lo:hi])
        return sorted(found)

    def prepare_near(self) -> None:
        """Sort the keys both ways for `near_positions` (about a second per 400,000 keys; else done on first use)."""
        self._ordered(False)
        self._ordered(True)

    def near_ready(self) -> bool:
        """Whether `prepare_near` has been done: `resolve_near` is then a matter of milliseconds."""
        return len(self._sorted) == 2

    def _ordered(self, reverse: bool) -> tuple[list[str], list[int]]:
        """The keys (reversed ones if `reverse`) in code-point order, with their positions."""
        if reverse not in self._sorted:
            keys = [k[::-1] for k in self.keys] if reverse else self.keys
            order = sorted(range(len(keys)), key=keys.__getitem__)
            self._sorted[reverse] = ([keys[p] for p in order], order)
        return self._sorted[reverse]

    def _ids_of(self, keys: list[str]) -> dict[str, tuple[int, ...]]:
        return {k: self.ids(k) for k in keys}

    def _groups(self) -> list[tuple[int, list[str], list[int]]]:
        """Every key by length: (length, keys, their positions), each with its own `_partial_floor`."""
        if self._by_length is None:
            by_length: dict[int, tuple[list[str], list[int]]] = {}
            for position, key in enumerate(self.keys):
                group = by_length.get(len(key))
                if group is None:
                    by_length[len(key)] = group = ([], [])
                group[0].append(key)
                group[1].append(position)
            self._by_length = [(length, *group) for length, group in sorted(by_length.items())]
        return self._by_length


def _next_characters(
    keys: list[str], head: str, lo: int, hi: int, cache: dict[str, list[tuple[str, int, int]]] | None = None
) -> list[tuple[str, int, int]]:
    """(character, lo, hi) for each character that the sorted keys[lo:hi], all starting with `head`, have next.

    Kept in `cache` for heads of up to one character: those have the most, and recur.
    """
    if cache is not None and len(head) <= 1 and head in cache:
        return cache[head]
    out = []
    i = len(head)
    j = lo
    while j < hi and len(keys[j]) == i:  # the key `head` itself sorts first
        j += 1
    while j < hi:
        ch = keys[j][i]
        end = bisect_left(keys, prefix_end(head + ch), j, hi)
        out.append((ch, j, end))
        j = end
    if cache is not None and len(head) <= 1:
        cache[head] = out
    return out


def _ranges_like(
    keys: list[str], query: str, width: int, children: dict[str, list[tuple[str, int, int]]] | None = None
) -> list[tuple[int, int]]:
    """Ranges of the sorted `keys` that start like query[:width], up to one typo (or two dropped) there.

    The variants of `probe_prefixes` (each one's first width + 1 characters), found by
    walking the sorted keys: a changed or missing character is only tried with the
    characters that keys continuing query[:i] actually have at i (`children`: a cache
    of `_next_characters` for these keys).
    """
    out: list[tuple[int, int]] = []
    n = width + 1

    def add(prefix: str, lo: int, hi: int) -> None:
        if not prefix:  # a one-character query without its character: every key is "like" it
            return
        lo = bisect_left(keys, prefix, lo, hi)
        if lo < hi and keys[lo].startswith(prefix):
            out.append((lo, bisect_left(keys, prefix_end(prefix), lo, hi)))

    lo, hi = 0, len(keys)  # the keys starting with query[:i]
    for i in range(min(width, len(query))):
        head, here = query[:i], query[i]
        if i + 1 == len(query):
            add(head, lo, hi)  # the last character too many
        else:
            # The query's i-th character too many (and another one after it, or the two swapped):
            # all start with head + query[i + 1]; often no key does.
            start = head + query[i + 1]
            dlo = bisect_left(keys, start, lo, hi)
            dhi = bisect_left(keys, prefix_end(start), dlo, hi)
            if dlo < dhi:
                add((head + query[i + 1 :])[:n], dlo, dhi)
                add((start + here + query[i + 2 :])[:n], dlo, dhi)
                for j in range(i + 2, width):
                    add((head + query[i + 1 : j] + query[j + 1 :])[:n], dlo, dhi)
            add((head + query[i + 2 :])[:n], lo, hi)  # two in a row too many
        add((head + here + query[i:])[:n], lo, hi)  # a character doubled
        for ch, j, end in _next_characters(keys, head, lo, hi, children):
            if ch != here:
                add((head + ch + query[i + 1 :])[:n], j, end)  # one changed
                add((head + ch + query[i:])[:n], j, end)  # one missing
        lo = bisect_left(keys, head + here, lo, hi)
        hi = bisect_left(keys, prefix_end(head + here), lo, hi)
        if lo == hi:
            return out
    out.append((lo, hi))  # the keys starting with query[:width]
    return out


# --- scoring --------------------------------------------------------------------------------


def _partial_floor(query_len: int, key_len: int) -> int:
    """The least LCS(query, key) with which fuzz.partial_ratio(query, key) can reach FUZZY_ACCEPT.

    partial_ratio aligns the shorter string (length m) with windows of the longer one
    no longer than m, scoring 200 * LCS_w / (m + w) with LCS_w <= w and LCS_w <= LCS.
    >= R needs LCS_w >= R / 200 * (m + w) >= R / 200 * (m + LCS_w), so
    LCS >= R / (200 - R) * m. Exact arithmetic: the scorer's float cannot land on the
    other side of R (85 and 200 * LCS_w / n are multiples of 5 / n: equal, or that far
    apart). The floor only spares keys that cannot pass; partial_ratio still decides.
    """
    m = min(query_len, key_len)
    return -(-_PARTIAL_SHARE.numerator * m // _PARTIAL_SHARE.denominator)


def _hits(key: str, keys: list[str], groups: list[tuple[int, list[str], list[int]]] | None = None) -> Hits:
    """What process.extract over `keys` (in position order) returns, without partial_ratio on each.

    The whole-string scores: the RATIO_LIMIT best at or above SUGGEST_FLOOR; the
    fragment scores: the PARTIAL_LIMIT best at or above FUZZY_ACCEPT; each best first,
    equal scores in position order. `groups`: the same keys by length (for one LCS
    floor per length); without them, one pass at the floor of the shortest key.
    """
    whole = [
        (found, score)
        for found, score, _ in process.extract(
            key, keys, scorer=fuzz.ratio, score_cutoff=SUGGEST_FLOOR, limit=RATIO_LIMIT
        )
    ]
    lq = len(key)
    chosen: list[int] = []
    if groups is not None:
        for length, group, positions in groups:
            floor = _partial_floor(lq, length)
            lcs_hits = process.extract_iter(key, group, scorer=LCSseq.similarity, score_cutoff=floor)
            chosen.extend(positions[i] for _, _, i in lcs_hits)
        chosen.sort()
    elif keys:
        shortest = min(map(len, keys))
        lcs_hits = process.extract_iter(key, keys, scorer=LCSseq.similarity, score_cutoff=_partial_floor(lq, shortest))
        if shortest >= lq:  # the same floor for every key
            chosen = [i for _, _, i in lcs_hits]
        else:
            floors = [_partial_floor(lq, n) for n in range(lq + 1)]
            chosen = [i for found, lcs, i in lcs_hits if lcs >= floors[min(lq, len(found))]]
    fragment = [
        (found, score)
        for found, score, _ in process.extract(
            key, [keys[i] for i in chosen], scorer=fuzz.partial_ratio, score_cutoff=FUZZY_ACCEPT, limit=PARTIAL_LIMIT
        )
    ]
    return whole, fragment


def _exact(key: str, known: bool, ids_of: IdsOf) -> Resolution | None:
    """The answer for a key that exists (`known`) and has customers; None otherwise."""
    ids = tuple(sorted(ids_of([key]).get(key, ()))) if known else ()
    if not ids:
        return None
    if len(ids) == 1:
        return Resolution(match=ids[0])
    return Resolution(candidates=ids)


def _answer(key: str, hits: Hits, ids_of: IdsOf) -> tuple[Resolution, bool, str]:
    """`_decide`, with the customers of the keys that scored looked up at once."""
    scored = sorted({found for found, _ in hits[0]} | {found for found, _ in hits[1]})
    customers = ids_of(scored) if scored else {}
    return _decide(key, hits, lambda found: customers.get(found, ()))


def _decide(key: str, hits: Hits, ids: Callable[[str], Sequence[int]]) -> tuple[Resolution, bool, str]:
    """The answer from the scored keys; whether keys not scored could not change it; the winning key.

    "Settled" assumes that keys not scored have no whole-string score within TIE_MARGIN
    of the best (the near ways do not score keys that differ from the query in two
    places at least). Then settled are: a lone winner by a whole-string score
    (`winner_key`; a key not scored that merely contains the query could tie a
    fragment's score); a tie that the naive tie-break could not break either. Not
    settled: nothing at FUZZY_ACCEPT among the keys scored; a broken tie.
    """
    ratio_hits, partial_hits = hits
    best: dict[int, float] = {}
    closeness: dict[int, float] = {}  # whole-string similarity, to break ties
    whole_key: dict[int, str] = {}
    for found, score in ratio_hits:
        for cid in ids(found):
            if score > best.get(cid, 0.0):
                whole_key[cid] = found
            best[cid] = max(best.get(cid, 0.0), score)
            closeness[cid] = max(closeness.get(cid, 0.0), score)
    whole = dict(best)
    # A fragment of a longer name ("acme" -> "acme corporation") scores a little
    # below an exact whole; a key that is only a fragment of the query does not count.
    for found, score in partial_hits:
        if len(found) >= len(key):
            for cid in ids(found):
                best[cid] = max(best.get(cid, 0.0), score * FRAGMENT_WEIGHT)
                closeness.setdefault(cid, fuzz.ratio(key, found))
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked or ranked[0][1] < FUZZY_ACCEPT:
        return Resolution(suggestions=tuple(cid for cid, _ in ranked[:5])), False, ""
    top = ranked[0][1]
    tied = [cid for cid, score in ranked if score >= top - TIE_MARGIN and score >= FUZZY_ACCEPT]
    if len(tied) > 1:
        # Several fragments match equally; one much closer as a whole is what was meant.
        tied.sort(key=lambda cid: -closeness[cid])
        if closeness[tied[0]] >= CLOSE_ENOUGH and closeness[tied[0]] - closeness[tied[1]] >= CLOSER_MARGIN:
            return Resolution(match=tied[0]), False, ""
        # Not broken here. Below CLOSE_ENOUGH nobody can break it. Otherwise the naive
        # tie-break sees the same two closest only if they are tied by whole-string scores:
        # lower ones, and fragment scores, compete with keys not scored for the 20 places.
        floor = top - TIE_MARGIN
        unbreakable = closeness[tied[0]] < CLOSE_ENOUGH or min(whole.get(c, 0.0) for c in tied[:2]) >= floor
        return Resolution(candidates=tuple(tied)), unbreakable, ""
    winner = tied[0]
    by_whole = best[winner] == whole.get(winner)
    return Resolution(match=winner), by_whole, whole_key.get(winner, "") if by_whole else ""
