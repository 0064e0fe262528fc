"""Customer-name rules (DESIGN "Interfaces", CUSTOMER): folding, exact and lenient matches, the index probe.

`decide` is given every key of a small ledger here (what the database's index would hand
over at best); tests/storage/test_customer_keys.py checks that the index hands over the
rows that matter, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.names import (
    Resolution,
    customer_keys,
    decide,
    fold,
    key_rows,
    numbers,
    probe,
    query_keys,
    search_text,
)

# (ref, name, aliases): near neighbours, accents, shared words, legal forms, scripts.
CUSTOMERS = [
    ("ACMEUS", "ACME Corporation", "ACME Corp"),
    ("ACMEBR", "ACME Brasil Ltda", "ACME do Brasil"),
    ("CAFEZ", "Café Zürich Ltda", "Cafe Zurich"),
    ("ANDINO", "Café Andino S.A.S.", ""),
    ("SMITHJ", "Smith, Jones & Partners LLP", "Smith Jones"),
    ("PENALARA", "Distribuciones Peñalara S.L.", "Peñalara"),
    ("STARK", "Stark Industries", ""),
    ("GLOBE", "Globe Trotters", ""),
    ("GLOBEX", "Globex International Inc.", "Globex"),
    ("CADIZ6", "Comercial Cádiz 6 S.L.U.", ""),
    ("CADIZ7", "Comercial Cádiz 7 S.L.U.", ""),
    ("LODZ", "Łódź Ørsted Æble Straße GmbH", ""),
    ("KIAN", "شرکت بازرگانی کیان (سهامی خاص)", ""),
    ("TEHRAN12", "فروشگاه تهران ۱۲", ""),
    ("ARYA", "شركت آريا", ""),
]
ID = {ref: n for n, (ref, _, _) in enumerate(CUSTOMERS, start=1)}
REF = {n: ref for ref, n in ID.items()}


Rows = list[tuple[int, str, str | None, str | None]]


def rows_of(customers: list[tuple[str, str, str]]) -> Rows:
    """Every key of the ledger: (customer id, key, whole, search)."""
    return key_rows([(n, ref, name, aliases) for n, (ref, name, aliases) in enumerate(customers, start=1)])


ROWS = rows_of(CUSTOMERS)


def resolve(query: str, rows: Rows = ROWS) -> Resolution:
    """As bot.services.customers does it, with every row the index could give: the rows whose
    key is one of the query's exact keys, else every row the trigram index holds (not refs)."""
    keys = query_keys(query)
    exact = [(cid, key, whole or key) for cid, key, whole, _ in rows if key in keys]
    lenient = [(cid, key, whole or key) for cid, key, whole, search in rows if search is not None]
    return decide(query, exact or lenient)


def refs(ids: tuple[int, ...]) -> set[str]:
    return {REF[i] for i in ids}


# --- folding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Café-Zürich, Ltda.", "cafe zurich"),
        ("ÑANDÚ Logística", "nandu logistica"),
        ("  ACME   Corp.  ", "acme"),
        ("O'Connor", "o connor"),
        ("snake_case-name", "snake case name"),
        ("", ""),
        ("...", ""),
    ],
)
def test_fold_ignores_case_accents_punctuation_and_legal_forms(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("Łódź", "Lodz"),
        ("Ørsted", "Orsted"),
        ("Æble", "Aeble"),
        ("Straße", "Strasse"),
        ("ſtraße", "strasse"),
        ("Þór Œuvre Đukić", "Thor Oeuvre Dukic"),
        ("ﬁnanzas", "finanzas"),
        ("Ｆｕｌｌ ｗｉｄｔｈ", "full width"),
    ],
)
def test_fold_maps_latin_letters_that_read_the_same(text: str, same_as: str) -> None:
    assert fold(text) == fold(same_as)


@pytest.mark.parametrize(
    ("arabic", "persian"),
    [
        ("شركت كيان", "شرکت کیان"),  # Arabic kaf and yeh against Persian keheh and yeh
        ("علي", "علی"),
        ("مصطفى", "مصطفی"),  # alef maksura
        ("آريا", "آریا"),
        ("بانك ملي", "بانک ملی"),
        ("شـركت", "شرکت"),  # tatweel
        ("می\u200cگویند", "میگویند"),  # zero-width non-joiner
        ("مُحَمَّد", "محمد"),  # vowel marks
    ],
)
def test_fold_makes_arabic_and_persian_letters_one(arabic: str, persian: str) -> None:
    assert fold(arabic) == fold(persian)
    assert fold(persian) and not fold(persian).isascii()  # the script is kept in the key


def test_fold_keeps_distinct_persian_letters_apart() -> None:
    assert fold("صبا") != fold("سبا")  # sad and seen: two letters, not a typo
    assert fold("حسن") != fold("هسن")


@pytest.mark.parametrize(
    ("text", "digits"),
    [("۱۲۳۴۵۶۷۸۹۰", "1234567890"), ("١٢٣٤٥٦٧٨٩٠", "1234567890"), ("१२३", "123"), ("①②", "12")],
)
def test_fold_reads_every_scripts_digits_as_digits(text: str, digits: str) -> None:
    assert fold(text) == digits


@pytest.mark.parametrize(
    "name",
    [
        "Acme LLC", "Acme L.L.C.", "Acme, Inc.", "Acme Ltd", "Acme Limited", "Acme GmbH", "Acme S.A.",
        "Acme SA", "Acme S.L.U.", "Acme SLU", "Acme Ltda", "Acme Ltda.", "Acme ME", "Acme Corp.",
        "Acme Co., Ltd.", "Acme GmbH & Co. KG", "Acme S.A. de C.V.", "Acme S. de R.L. de C.V.",
        "Acme Sp. z o.o.", "Acme A/S", "Acme AB", "Acme Pty Ltd", "Acme S.p.A.", "Acme B.V.",
    ],
)  # fmt: skip
def test_fold_ignores_legal_form_suffixes(name: str) -> None:
    assert fold(name) == "acme"


def test_legal_forms_in_persian_are_ignored_too() -> None:
    assert fold("شرکت کیان (سهامی خاص)") == fold("شرکت کیان") == fold("شركت كيان سهامي خاص")


def test_a_name_that_is_only_a_legal_form_keeps_it() -> None:
    assert fold("S.A.") == "s a"
    assert fold("Inc") == "inc"
    assert fold("Inc Inc") == "inc"  # the first word stays


def test_a_legal_form_inside_a_name_stays() -> None:
    assert fold("Ltd Holdings") == "ltd holdings"
    assert fold("Banco SA Capital") == "banco sa capital"


def test_numbers_are_read_by_value() -> None:
    assert numbers(fold("Cádiz 6")) == {"6"}
    assert numbers(fold("Route 066 and ۷")) == {"66", "7"}
    assert numbers("no digits") == frozenset()


def test_search_text_is_the_ascii_of_the_key() -> None:
    assert search_text(fold("Łódź Ørsted")) == "lodz orsted"
    assert search_text(fold("شرکت کیان")) == search_text(fold("شركت كيان"))
    assert search_text(fold("شرکت کیان")).isascii()


# --- keys ----------------------------------------------------------------------------------------


def test_customer_keys() -> None:
    assert sorted(customer_keys("CUST-0042", "ACME Corp", "Acme|ACME Corporation"), key=str) == sorted(
        [
            ("acme", "acme corp", "acme corp"),  # the name: exact without its legal form, and as written
            ("acme", None, "acme"),  # an alias
            ("acme", "acme corporation", "acme corporation"),
            ("cust0042", None, None),  # the ref: exact only, without separators
        ],
        key=str,
    )


def test_key_rows_in_bulk_are_each_customers_keys() -> None:
    """key_rows folds every text at once: each row must still land on its own customer."""
    rng = random.Random(7)
    words = ["Acme", "Café", "Łódź", "شرکت", "كيان", "S.A.", "Ltda", "6", "۷", "Zürich", "Co.", "a\nb"]
    customers = []
    for n in range(1, 200):
        name = " ".join(rng.choices(words, k=rng.randint(1, 4)))
        aliases = "|".join(" ".join(rng.choices(words, k=2)) for _ in range(rng.choice([0, 0, 1, 3])))
        customers.append((n * 3, f"R-{n}" if n % 50 else f"R\n{n}ª", name, aliases))
    rows = key_rows(customers)
    expected = [(cid, *k) for cid, ref, name, aliases in customers for k in customer_keys(ref, name, aliases)]
    singles = [row for customer in customers for row in key_rows([customer])]
    assert sorted(rows, key=str) == sorted(expected, key=str) == sorted(singles, key=str)
    assert {cid for cid, *_ in rows} == {c[0] for c in customers}


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("Comercial Cádiz 6 S.L.U.", {"comercial cadiz 6", "comercial cadiz 6 s l u", "comercialcadiz6slu"}),
        ("C-1", {"c 1", "c1"}),
        ("acme", {"acme"}),
        ("--", set()),
    ],
)
def test_query_keys(query: str, keys: set[str]) -> None:
    assert set(query_keys(query)) == keys


# --- exact matches win ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "ref"),
    [
        ("ACMEUS", "ACMEUS"),  # ref
        ("acmebr", "ACMEBR"),  # ref, any case
        ("acme-br", "ACMEBR"),  # ref, separators ignored
        ("acme corporation", "ACMEUS"),  # name
        ("CAFÉ ZÜRICH LTDA.", "CAFEZ"),  # name, accents and punctuation folded
        ("Café Zürich", "CAFEZ"),  # name without its legal form
        ("Smith Jones", "SMITHJ"),  # alias
        ("penalara", "PENALARA"),  # alias without its tilde
        ("Globe Trotters", "GLOBE"),
        ("globex", "GLOBEX"),  # exact alias beats a fuzzy "globe"
        ("comercial cadiz 6", "CADIZ6"),  # S.L.U. ignored
        ("Comercial Cadiz 7 SLU", "CADIZ7"),
        ("lodz orsted aeble strasse", "LODZ"),
        ("شركت بازرگاني كيان", "KIAN"),  # Arabic letters for the Persian name, legal form left out
        ("فروشگاه تهران 12", "TEHRAN12"),  # ASCII digits for Persian ones
        ("فروشگاه تهران ١٢", "TEHRAN12"),  # Arabic-Indic digits
        ("شرکت آریا", "ARYA"),  # Persian letters for the Arabic name
    ],
)
def test_exact_ref_name_or_alias_wins(query: str, ref: str) -> None:
    res = resolve(query)
    assert res == Resolution(match=ID[ref], exact=True), res


def test_the_exact_faults_of_issue_11() -> None:
    """Issue 11: "comercial cadiz 6" was called ambiguous; "... 600 S.L.U." answered for Cádiz 6."""
    assert resolve("comercial cadiz 6") == Resolution(match=ID["CADIZ6"], exact=True)
    res = resolve("Comercial Cadiz 600 S.L.U.")
    assert res.match is None and res.candidates == ()
    assert {"CADIZ6", "CADIZ7"} <= refs(res.suggestions)


def test_a_key_shared_by_two_customers_is_ambiguous_even_when_exact() -> None:
    rows = rows_of([("A1", "Acme Inc", ""), ("A2", "Other", "ACME Ltd")])
    res = resolve("ACME", rows)
    assert (res.match, set(res.candidates), res.exact) == (None, {1, 2}, True)


def test_the_name_as_typed_beats_the_same_name_without_its_legal_form() -> None:
    rows = rows_of([("A1", "Acme Corp", ""), ("A2", "Acme", "")])
    assert resolve("Acme Corp", rows) == Resolution(match=1, exact=True)
    assert resolve("acme", rows) == Resolution(match=2, exact=True)
    assert resolve("Acme Inc", rows) == Resolution(candidates=(1, 2), exact=True)  # neither is written so


# --- numbers must agree --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["Comercial Cadiz 600", "comercial cadiz 8", "Comercial Cádiz 67 S.L.U.", "comercial cadis 60"]
)
def test_a_candidate_without_the_querys_number_is_no_match(query: str) -> None:
    res = resolve(query)
    assert res.match is None and res.candidates == (), res


@pytest.mark.parametrize(("query", "ref"), [("comercial cadis 6", "CADIZ6"), ("Comercal Cadiz 7 SLU", "CADIZ7")])
def test_a_typo_beside_the_number_finds_the_one_with_that_number(query: str, ref: str) -> None:
    assert resolve(query) == Resolution(match=ID[ref])


def test_a_query_without_a_number_leaves_both_numbered_names_tied() -> None:
    res = resolve("comercial cadiz")
    assert res.match is None and refs(res.candidates) == {"CADIZ6", "CADIZ7"}


def test_a_candidate_with_another_number_besides_is_no_match() -> None:
    rows = rows_of([("H1", "Hotel Sol 6 Anexo 2", "")])
    assert resolve("hotel sol 6", rows).match is None
    assert resolve("hotel sol 6 anexo 2", rows).match == 1


# --- typos: lenient, and said to be -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "ref"),
    [
        ("Cafe Zurik", "CAFEZ"),
        ("Cafe Andno", "ANDINO"),
        ("Distribuciones Penalra", "PENALARA"),
        ("Stark Industires", "STARK"),
        ("Acme Corporatoin", "ACMEUS"),
        ("acme corpp", "ACMEUS"),  # the typo in the legal form
        ("Industries Stark", "STARK"),  # words in another order
        ("شرکت بازرگانی کیانن", "KIAN"),
        ("Lodz Orsted Aeble Strase", "LODZ"),
    ],
)
def test_small_typos_resolve_leniently(query: str, ref: str) -> None:
    assert resolve(query) == Resolution(match=ID[ref]), resolve(query)


def test_a_fragment_must_be_whole_words() -> None:
    rows = rows_of([("B1", "Banana Republic", "")])
    assert resolve("ana", rows).match is None  # inside a word: not "Banana"
    assert resolve("banana", rows).match == 1


# --- ties -----------------------------------------------------------------------------------------


def test_a_close_tie_goes_to_the_name_fewer_edits_away() -> None:
    rows = rows_of([("P1", "Beacon Aço Pacific LLC", ""), ("P2", "Beacon Aço Pacífico LLC", "")])
    assert resolve("Beacon Aco Pacqfic LLC", rows) == Resolution(match=1)  # one edit against two
    assert resolve("Beacon Aco Pacifco", rows) == Resolution(match=2)


def test_a_tie_goes_to_the_legal_form_the_query_gives() -> None:
    rows = rows_of([("L1", "Lagoa Alimentos Holdings LLC", ""), ("L2", "Lagoa Alimentos Holdings S.A.", "")])
    assert resolve("Lagoa Alimentoz Holdings S.A.", rows) == Resolution(match=2)
    assert resolve("Lagoa Alimentoz Holdings", rows).candidates == (1, 2)  # no form given: a tie
    assert resolve("lagoa alimentos holdings", rows) == Resolution(candidates=(1, 2), exact=True)


def test_names_as_far_from_the_query_stay_tied() -> None:
    rows = rows_of([("O1", "Orion Pescados Patagonia S.L.", ""), ("R1", "Río Pescados Patagonia S.L.", "")])
    assert resolve("Oriok Pescados Patagonia", rows).candidates == (1, 2)


# --- ambiguity and unknowns ----------------------------------------------------------------------


def test_a_word_two_names_share_is_ambiguous() -> None:
    res = resolve("cafe")
    assert res.match is None and refs(res.candidates) == {"CAFEZ", "ANDINO"}


@pytest.mark.parametrize(
    "customers",
    [
        [("C1", "Acme Industries", ""), ("C2", "Acme Logistics", "")],
        [("C1", "Acme Industrial Supplies", ""), ("C2", "Acme Logistics", "")],
    ],
    ids=["same-length", "different-length"],
)
def test_a_shared_word_is_ambiguous_whatever_the_name_lengths(customers) -> None:  # noqa: ANN001
    res = resolve("acme", rows_of(customers))
    assert res.match is None and set(res.candidates) == {1, 2}


def test_unknown_name_suggests_near_customers() -> None:
    res = resolve("Stark Enterprises")
    assert res.match is None and res.candidates == ()
    assert "STARK" in refs(res.suggestions)


@pytest.mark.parametrize("query", ["Wayne Enterprises", "zzzz", "", "  ", "--"])
def test_unknown_name_matches_nothing(query: str) -> None:
    res = resolve(query)
    assert res.match is None and res.candidates == ()


def test_nothing_to_choose_from_resolves_nothing() -> None:
    assert decide("acme", []) == Resolution()


# --- the index probe -----------------------------------------------------------------------------


def satisfies(search: str, clauses: list[tuple[str, ...]]) -> bool:
    return any(all(gram in search for gram in clause) for clause in clauses)


NAME_WORDS = st.text(alphabet=string.ascii_lowercase + "0123456789", min_size=1, max_size=10)


@st.composite
def name_and_typo(draw) -> tuple[str, str]:  # noqa: ANN001
    name = " ".join(draw(st.lists(NAME_WORDS, min_size=1, max_size=5)))
    pos = draw(st.integers(0, len(name) - 1))
    letter = draw(st.sampled_from(string.ascii_lowercase))
    kind = draw(st.sampled_from(["change", "drop", "add", "swap"]))
    if kind == "change":
        typo = name[:pos] + letter + name[pos + 1 :]
    elif kind == "drop":
        typo = name[:pos] + name[pos + 1 :]
    elif kind == "add":
        typo = name[:pos] + letter + name[pos:]
    else:
        typo = name[:pos] + name[pos + 1 : pos + 2] + name[pos : pos + 1] + name[pos + 2 :]
    return name, typo


@settings(max_examples=400, deadline=None)
@given(name_and_typo())
def test_the_probes_find_every_name_one_typo_away_that_could_match(pair: tuple[str, str]) -> None:
    """The pigeonhole: one edit breaks at most one group of the query's spaced trigrams (the
    narrow probe), or one of its trigrams (the wide probe, for a swap across two groups).
    The promise holds for queries of five trigrams or more (see `probe`)."""
    name, typo = pair
    key = search_text(fold(name, legal_form=False))
    if decide(typo, [(1, key, key)]) != Resolution(match=1) or len(probe(typo).rank) < 5:
        return
    narrow, wide = probe(typo).clauses(), probe(typo, wide=True).clauses()
    assert satisfies(key, narrow) or satisfies(key, wide), (name, typo, narrow)


@settings(max_examples=200, deadline=None)
@given(name_and_typo())
def test_the_narrow_probe_alone_finds_a_changed_dropped_or_added_letter(pair: tuple[str, str]) -> None:
    name, typo = pair
    key = search_text(fold(name, legal_form=False))
    if len(typo) != len(name) or sum(a != b for a, b in zip(name, typo, strict=True)) != 2:  # not a swap
        if decide(typo, [(1, key, key)]) == Resolution(match=1) and len(probe(typo).rank) >= 5:
            assert satisfies(key, probe(typo).clauses()), (name, typo)


def test_the_narrow_probe_needs_two_of_three_groups() -> None:
    p = probe("orion pescados patagonia")
    assert p.need == 2 and len(p.groups) == 3
    assert satisfies("orion pescados patagonia", p.clauses())
    assert satisfies("orion pescadox patagonia", p.clauses())  # one group broken
    assert not satisfies("orion mariscos andina", p.clauses())


def test_the_probe_reads_the_query_as_the_index_does() -> None:
    assert probe("Łódź Ørsted") == probe("lodz orsted")
    assert probe("شركت كيان") == probe("شرکت کیان")
    assert probe("ab") .clauses() == []  # fmt: skip
