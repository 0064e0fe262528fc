"""NameIndex against the naive algorithm it replaced, kept below verbatim as the reference model.

The naive algorithm scores every key with fuzz.ratio and fuzz.partial_ratio (process.extract,
20 best of each), at 200,000 customers in seconds. Three ways answer now (bot/domain/names.py):

* NameIndex.resolve scores every key too, but gives partial_ratio only the keys whose longest
  common subsequence with the query can reach its cut-off. Its answers must be *identical* to
  the reference's, always: checked on random ledgers below (and _partial_floor on its own).
* NameIndex.resolve_near (a process that keeps the keys) scores only the keys that begin like
  the first half of the query or end like its last half, up to one typo there; the module-level
  resolve_near (the database way) only the keys that begin like its first nine characters,
  which the B-tree on customer_key.key can find. Each answers only when the keys it did not
  score cannot change the answer, under one assumption: none of them has a whole-string score
  within TIE_MARGIN of the best; otherwise it returns None and the caller uses resolve.

Deliberate differences, each checked below to come only from keys the near way did not score
(scoring exactly the keys it saw, in the same order, gives its answer):

1. An ambiguous answer may list other candidates: the naive list holds the first 20 tied keys
   in table order, the near one the tied keys among those it looked at.
2. The assumption can fail for two customers whose names differ by two edits or more within
   the part a near way looks at, e.g. "Orion Pescados Patagonia S.L." and "Río Pescados
   Patagonia S.L.": for the query "orion pesados patagonia s l" the naive answer is a tie
   (98.2 and 94.3), while the database way, which cannot see keys that do not begin like
   "orion pes", picks Orion. In memory, keys ending like the query are seen too, and such a
   competitor would need two edits in each half. On the benchmark ledger (200,000 customers,
   every combination of 60 x 60 x 60 words, "Orion" and "Río" among the first words) this
   happened to 2 of 600 one-typo queries by the database way and to none in memory. The
   database way also calls a lone winner settled only when it begins exactly like the query
   (test_database_way_defers_when_the_typo_is_in_the_first_characters).
3. Where the naive code breaks a tie by whole-string closeness using a key it kept among its
   first 20 (in table order), a near way may list the tie instead; it settles a tie only when
   the naive tie-break could not break it either, or leaves it to resolve.

Keys shorter than the query still take, as in the reference, a place among the 20 fragment
scores before they are dropped.
"""

from __future__ import annotations

import random
from bisect import bisect_left

import pytest
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from bot.domain.names import (
    CLOSE_ENOUGH,
    CLOSER_MARGIN,
    FRAGMENT_WEIGHT,
    FUZZY_ACCEPT,
    PROBE_PREFIX,
    SUGGEST_FLOOR,
    TIE_MARGIN,
    NameIndex,
    Resolution,
    _partial_floor,
    _ranges_like,
    fold,
    prefix_end,
    probe_prefixes,
    resolve_near,
)

# --- the reference: bot/domain/names.py NameIndex before this change, verbatim ------------------


class NaiveNameIndex:
    """Folded keys of every customer (ref, name, aliases) -> customer ids."""

    def __init__(self, entries) -> None:  # noqa: ANN001
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


# --- random ledgers and queries -------------------------------------------------------------------

# Small lists, so that names share words, tails and near-identical words, as the
# benchmark ledger's do (every combination of three lists of 60 words exists there).
FIRST = (
    "Acme Alpha Alfa Atlas Aurora Baltic Beacon Falcon Café Cedro Cobalt Coral Delta Éclair Fénix "
    "Galícia Harbor Íbis Jade Lince Lótus Málaga Maple Nova Olmo Orion Río Peñalara Zürich Ñandú"
).split()
MIDDLE = (
    "Alimentos Analytics Aço Bebidas Cargo Comércio Consulting Digital Energia Farma Foods Gráfica "
    "Hidráulica Logística Media Medical Mecânica Óptica Química Retail Seguros Software Têxtil"
).split()
LAST = (
    "Norte Norteña Sul Pacific Pacífico Atlantic Central Global Brasil México Ibérica Andina "
    "Europa Express Premium Group Partners Sertão Escocia Ontario"
).split()
SUFFIX = ("Inc.", "LLC", "Corp.", "Ltda", "S.A.", "S.A.S.", "S.A. de C.V.", "GmbH", "Ltd", "")
PEOPLE = "Ana João María José Lucía O'Brien Smith Müller Núñez Conceição Jones".split()


def ledger(rng: random.Random, size: int) -> list[tuple[int, str, str, list[str]]]:
    """(id, ref, name, aliases); names unique, refs C00001..."""
    seen: set[str] = set()
    out = []
    while len(out) < size:
        if rng.random() < 0.1:
            name = f"{rng.choice(PEOPLE)} {rng.choice(PEOPLE)}, {rng.choice(PEOPLE)}"
        else:
            words = [rng.choice(FIRST), rng.choice(MIDDLE)] + [rng.choice(LAST)] * rng.choice((0, 1, 1))
            name = " ".join(words + [rng.choice(SUFFIX)]).strip()
        if fold(name) in seen:
            continue
        seen.add(fold(name))
        n = len(out) + 1
        aliases = []
        if rng.random() < 0.2:
            aliases.append(" ".join(name.split()[:2]))
        if rng.random() < 0.05:
            aliases.append("".join(w[0] for w in name.split()[:3]) + " " + name.split()[-1])
        out.append((n, f"C{n:05d}", name, aliases))
    return out


def entries_of(customers: list[tuple[int, str, str, list[str]]]) -> list[tuple[int, str]]:
    """As the importer stores them: folded ref, name and aliases, in id order."""
    out = []
    for cid, ref, name, aliases in customers:
        out.extend((cid, key) for key in dict.fromkeys([fold(ref), fold(name), *map(fold, aliases)]) if key)
    return out


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def typo(rng: random.Random, text: str) -> str:
    """One letter changed, dropped, swapped with the next, or doubled."""
    at = rng.choice([i for i, ch in enumerate(text) if ch.isalpha()] or [0])
    kind = rng.choice(("change", "change", "drop", "swap", "double"))
    if kind == "change":
        return text[:at] + rng.choice(LETTERS.replace(text[at : at + 1].lower(), "")) + text[at + 1 :]
    if kind == "drop":
        return text[:at] + text[at + 1 :]
    if kind == "swap":
        return text[:at] + text[at + 1 : at + 2] + text[at : at + 1] + text[at + 2 :]
    return text[:at] + text[at] + text[at:]


def queries(rng: random.Random, customers: list[tuple[int, str, str, list[str]]], n: int) -> list[tuple[str, str]]:
    out = []
    for _ in range(n):
        _, ref, name, aliases = rng.choice(customers)
        kind = rng.choices(("exact", "typo", "typo twice", "fragment", "garbage"), (2, 8, 1, 2, 1))[0]
        text = rng.choice([ref, name, *aliases])
        if kind == "exact":
            out.append((kind, rng.choice((text, text.upper(), text.lower()))))
        elif kind == "typo":
            out.append((kind, typo(rng, text)))
        elif kind == "typo twice":
            out.append((kind, typo(rng, typo(rng, name))))
        elif kind == "fragment":
            words = name.split()
            start = rng.randrange(len(words))
            out.append((kind, " ".join(words[start : start + rng.choice((1, 1, 2))])))
        else:
            out.append((kind, "".join(rng.choice(LETTERS + "  ") for _ in range(rng.randint(2, 18)))))
    return out


SEEDS = range(8)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def case(request: pytest.FixtureRequest):  # noqa: ANN201
    rng = random.Random(request.param)
    customers = ledger(rng, rng.choice((150, 400, 900)))
    entries = entries_of(customers)
    naive = NaiveNameIndex(entries)
    qs = queries(rng, customers, 250)
    return entries, naive, qs, [naive.resolve(q) for _, q in qs]


# --- 1. every key: the same answers -----------------------------------------------------------


def test_resolve_gives_the_naive_answer(case) -> None:  # noqa: ANN001
    entries, _, qs, expected = case
    index = NameIndex(entries)
    for (kind, q), want in zip(qs, expected, strict=True):
        assert index.resolve(q) == want, (kind, q)


def test_resolve_over_keys_only_gives_the_naive_answer(case) -> None:  # noqa: ANN001
    """The service keeps keys only and looks the customers of the scored ones up."""
    entries, naive, qs, expected = case
    index = NameIndex.of_keys(key for _, key in entries)

    def ids_of(keys: list[str]) -> dict[str, list[int]]:
        return {k: sorted(naive.exact[k]) for k in keys if k in naive.exact}

    for (kind, q), want in zip(qs, expected, strict=True):
        assert index.resolve(q, ids_of) == want, (kind, q)


# --- 2. the near ways: the same answers, or None, or differences from keys not looked at --------


def explained(naive: NaiveNameIndex, q: str, got: Resolution, seen: set[str]) -> bool:
    """Whether `got` is the naive answer over the keys in `seen`, in their order.

    Then the near way computed right, and differs from the naive answer only because of
    keys it did not look at: the inputs differ in nothing else.
    """
    sub = NaiveNameIndex((cid, key) for key in naive.keys if key in seen for cid in sorted(naive.exact[key]))
    return sub.resolve(q) == got


def check_near(naive: NaiveNameIndex, q: str, got: Resolution | None, want: Resolution, seen: set[str]) -> str:
    if got is None:
        return "fell back"
    if got == want:
        return "same"
    assert got.match is None or want.match is not None or want.candidates, (q, got, want)
    assert got.candidates or got.match is not None, f"a near way never settles 'unknown': {q!r}"
    assert explained(naive, q, got, seen), (q, got, want)
    return "ambiguous, other candidates" if got.candidates and want.candidates else "differs (unseen keys)"


def test_near_in_memory_answers_as_naive_or_falls_back(case) -> None:  # noqa: ANN001
    entries, naive, qs, expected = case
    index = NameIndex(entries)
    tally: dict[str, int] = {}
    for (_, q), want in zip(qs, expected, strict=True):
        seen = {index.keys[p] for p in index.near_positions(fold(q))} if fold(q) else set()
        outcome = check_near(naive, q, index.resolve_near(q), want, seen)
        tally[outcome] = tally.get(outcome, 0) + 1
    assert tally.get("same", 0) >= 0.5 * len(qs), tally  # mostly settled, and settled right


def test_near_in_database_answers_as_naive_or_falls_back(case) -> None:  # noqa: ANN001
    """The database way, emulated: the keys in the probe_prefixes ranges, in id order."""
    entries, naive, qs, expected = case
    ordered = sorted(naive.keys)
    tally: dict[str, int] = {}
    for (_, q), want in zip(qs, expected, strict=True):
        key = fold(q)
        seen: set[str] = set()
        for prefix in probe_prefixes(key) if key else []:
            lo = bisect_left(ordered, prefix)
            seen.update(ordered[lo : bisect_left(ordered, prefix_end(prefix), lo)])
        near = [k for k in naive.keys if k in seen]
        got = resolve_near(q, near, lambda keys: {k: sorted(naive.exact[k]) for k in keys})
        outcome = check_near(naive, q, got, want, seen)
        tally[outcome] = tally.get(outcome, 0) + 1
    assert tally.get("same", 0) >= 0.25 * len(qs), tally


# --- 3. the pieces ------------------------------------------------------------------------------


def test_partial_floor_is_a_floor() -> None:
    """partial_ratio >= FUZZY_ACCEPT never happens below the LCS floor (the pruning is exact)."""
    rng = random.Random(5)
    alphabet = "abcde "
    for _ in range(20_000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        if rng.random() < 0.5:  # make containment likely
            at = rng.randint(0, len(b))
            b = b[:at] + typo(rng, a) + b[at:]
        for x, y in ((a, b), (b, a)):
            if fuzz.partial_ratio(x, y) >= FUZZY_ACCEPT:
                assert LCSseq.similarity(x, y) >= _partial_floor(len(x), len(y)), (x, y)


def test_long_strings_respect_the_partial_floor_too() -> None:
    """rapidfuzz aligns needles over 64 characters differently: the floor still holds."""
    rng = random.Random(6)
    for _ in range(300):
        a = "".join(rng.choice("abc ") for _ in range(rng.randint(60, 90)))
        b = "".join(rng.choice("abc ") for _ in range(rng.randint(10, 40))) + typo(rng, a)
        if fuzz.partial_ratio(a, b) >= FUZZY_ACCEPT:
            assert LCSseq.similarity(a, b) >= _partial_floor(len(a), len(b))


@pytest.mark.parametrize("query", ["cobalt media iberica inc", "acme corp", "c012345", "abc", "río hidráulica s a"])
def test_walk_finds_what_the_prefixes_find(query: str) -> None:
    """The in-memory walk finds every key that the database way's explicit prefixes find, at the same width."""
    rng = random.Random(1)
    key = fold(query)
    variants = {fold(typo(rng, query)) for _ in range(300)} | {fold(typo(rng, typo(rng, query))) for _ in range(300)}
    keys = sorted(variants | {key, "zzz", "a", "cobalt", "orion hidraulica s a", "rio hidraulica"})
    walked = {keys[i] for lo, hi in _ranges_like(keys, key, PROBE_PREFIX - 1) for i in range(lo, hi)}
    explicit = {k for k in keys if k.startswith(tuple(probe_prefixes(key)))}
    assert explicit <= walked, sorted(explicit - walked)
    assert len(walked) > len(keys) // 4


def test_two_dropped_letters_in_each_half_are_still_seen() -> None:
    """In memory, keys two letters short in each half of the query are near: this tie is seen."""
    entries = [(1, "beacon medical pacifico s a s"), (2, "beacon media pacifico s a")]
    query = "beacon medcial pacifico s a s"
    naive = NaiveNameIndex(entries).resolve(query)
    assert naive.candidates == (1, 2)  # 96.6 and 92.6: within TIE_MARGIN
    index = NameIndex(entries)
    assert index.near_positions(fold(query)) == [0, 1]
    assert index.resolve_near(query) in (naive, None)


def test_database_way_cannot_see_a_first_word_two_edits_away() -> None:
    """Difference 2 of the module docstring, as it stands: the database way picks a winner the naive code ties."""
    entries = [(1, "orion pescados patagonia s l"), (2, "rio pescados patagonia s l")]
    query = "Orion Pesados Patagonia S.L."
    naive = NaiveNameIndex(entries).resolve(query)
    assert naive.candidates == (1, 2)  # 98.2 and 94.3
    near = [k for _, k in entries if k.startswith(tuple(probe_prefixes(fold(query))))]
    assert near == ["orion pescados patagonia s l"]
    assert resolve_near(query, near, lambda keys: {k: [1] for k in keys}) == Resolution(match=1)
    # In memory the other key ends like the query, is seen, and the tie stands (or is left to resolve).
    index = NameIndex(entries)
    assert index.resolve_near(query) in (naive, None)
    assert index.resolve(query) == naive


def test_database_way_defers_when_the_typo_is_in_the_first_characters() -> None:
    """Keys sharing the rest of the name but not its beginning are invisible to the key index."""
    entries = [(1, "falcon alimentos sertao s a"), (2, "beacon alimentos sertao s a")]
    query = "balcon alimentos sertao s a"
    assert NaiveNameIndex(entries).resolve(query).candidates == (1, 2)
    near = [k for _, k in entries if any(k.startswith(p) for p in probe_prefixes(fold(query)))]
    assert near == ["falcon alimentos sertao s a"]  # "beacon" is two typos from "balcon"
    assert resolve_near(query, near, lambda keys: {k: [1] for k in keys}) is None  # not settled: resolve decides
    assert NameIndex(entries).resolve(query).candidates == (1, 2)
