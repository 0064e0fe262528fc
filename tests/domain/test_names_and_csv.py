"""Customer-name folding and resolution, and spreadsheet-formula neutralising of CSV cells."""

from __future__ import annotations

import pytest

from bot.domain.csv_safety import neutralise
from bot.domain.names import NameIndex, fold

# (ref, name, aliases): a small ledger with near neighbours, accents and shared words.
CUSTOMERS = [
    ("ACMEUS", "ACME Corporation", ["ACME Corp"]),
    ("ACMEBR", "ACME Brasil Ltda", ["ACME do Brasil"]),
    ("CAFEZ", "Café Zürich Ltda", ["Cafe Zurich"]),
    ("ANDINO", "Café Andino S.A.S.", []),
    ("SMITHJ", "Smith, Jones & Partners LLP", ["Smith Jones"]),
    ("PENALARA", "Distribuciones Peñalara S.L.", ["Peñalara"]),
    ("STARK", "Stark Industries", []),
    ("GLOBE", "Globe Trotters", []),
    ("GLOBEX", "Globex International Inc.", ["Globex"]),
]
ID = {ref: n for n, (ref, _, _) in enumerate(CUSTOMERS, start=1)}


def index_of(customers: list[tuple[str, str, list[str]]]) -> NameIndex:
    """Built the way the importer stores keys: folded ref, name and aliases."""
    entries = []
    for n, (ref, name, aliases) in enumerate(customers, start=1):
        entries.extend((n, key) for key in {fold(ref), fold(name), *map(fold, aliases)})
    return NameIndex(entries)


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return index_of(CUSTOMERS)


# --- fold ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Café-Zürich, Ltda.", "cafe zurich ltda"),
        ("ÑANDÚ Logística S.R.L.", "nandu logistica s r l"),
        ("Smith, Jones & Partners LLP", "smith jones partners llp"),
        ("  ACME   Corp.  ", "acme corp"),
        ("O'Connor", "o connor"),
        ("Straße", "strasse"),
        ("Açaí Comércio", "acai comercio"),
        ("snake_case-name", "snake case name"),
        ("", ""),
        ("...", ""),
    ],
)
def test_fold_ignores_case_accents_and_punctuation(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_keeps_non_latin_letters() -> None:
    assert fold("شرکت پارس") == "شرکت پارس"


# --- exact matches win ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "ref"),
    [
        ("ACMEUS", "ACMEUS"),  # ref
        ("acmebr", "ACMEBR"),  # ref, any case
        ("acme corporation", "ACMEUS"),  # name
        ("CAFÉ ZÜRICH LTDA.", "CAFEZ"),  # name, accents and punctuation folded
        ("Smith Jones", "SMITHJ"),  # alias
        ("penalara", "PENALARA"),  # alias without its tilde
        ("Globe Trotters", "GLOBE"),
        ("globex", "GLOBEX"),  # exact alias beats a fuzzy "globe"
        ("STARK", "STARK"),
    ],
)
def test_exact_ref_name_or_alias_wins(index: NameIndex, query: str, ref: str) -> None:
    assert index.resolve(query).match == ID[ref]


def test_key_shared_by_two_customers_is_ambiguous() -> None:
    idx = index_of([("A1", "Acme", []), ("A2", "Other", ["acme"])])
    res = idx.resolve("ACME")
    assert res.match is None
    assert set(res.candidates) == {1, 2}


# --- typos ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "ref"),
    [
        ("Cafe Zurik", "CAFEZ"),
        ("Cafe Andno", "ANDINO"),
        ("Distribuciones Penalara", "PENALARA"),
        ("Stark Industires", "STARK"),
        ("Acme Corporatoin", "ACMEUS"),
    ],
)
def test_small_typos_resolve(index: NameIndex, query: str, ref: str) -> None:
    res = index.resolve(query)
    assert res.match == ID[ref], res


# --- ambiguity ------------------------------------------------------------------------------


def test_word_shared_by_two_names_is_ambiguous(index: NameIndex) -> None:
    # Neither ACME is called just "acme": the word alone does not pick one.
    res = index.resolve("acme")
    assert res.match is None
    assert set(res.candidates) == {ID["ACMEUS"], ID["ACMEBR"]}


@pytest.mark.parametrize(
    "customers",
    [
        [("C1", "ACME Corporation", []), ("C2", "ACME Brasil Ltda", [])],
        [("C1", "ACME Corp", []), ("C2", "ACME Brasil Ltda", [])],
        [("C1", "Acme Industries", []), ("C2", "Acme Logistics", [])],
    ],
    ids=["same-length", "different-length", "two-words"],
)
def test_shared_word_is_ambiguous_whatever_the_name_lengths(customers) -> None:
    res = index_of(customers).resolve("acme")
    assert res.match is None, "a word both names contain must not pick one of them"
    assert set(res.candidates) == {1, 2}


# --- unknown --------------------------------------------------------------------------------


def test_unknown_name_suggests_near_customers(index: NameIndex) -> None:
    res = index.resolve("Stark Enterprises")
    assert res.match is None
    assert res.candidates == ()
    assert ID["STARK"] in res.suggestions


@pytest.mark.parametrize("query", ["Wayne Enterprises", "zzzz", "", "  ", "--"])
def test_unknown_name_matches_nothing(index: NameIndex, query: str) -> None:
    res = index.resolve(query)
    assert res.match is None
    assert res.candidates == ()


def test_empty_index_resolves_nothing() -> None:
    res = NameIndex([]).resolve("acme")
    assert (res.match, res.candidates, res.suggestions) == (None, (), ())


# --- neutralise -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://x","ACME")',
        "=1+1",
        "+1",
        "+cmd|' /C calc'!A0",
        "-x",
        "-1+1",
        "@a",
        "@SUM(A1:A2)",
        "\tx",
        "\rx",
    ],
)
def test_neutralise_prefixes_cells_a_spreadsheet_would_evaluate(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell",
    ["-12.50", "12", "0.00", "-100.00", "1234.56", "ACME Corporation", "Smith, Jones",
     "a=b", "O'Connor", ""],
)
def test_neutralise_leaves_numbers_and_plain_text_alone(cell: str) -> None:
    assert neutralise(cell) == cell


def test_neutralise_stringifies_values() -> None:
    assert neutralise(None) == ""
    assert neutralise(12) == "12"
    assert neutralise(-3) == "-3"
