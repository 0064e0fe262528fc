"""Spreadsheet-formula neutralising of CSV cells (customer-name rules: tests/domain/test_names.py)."""

from __future__ import annotations

import pytest

from bot.domain.csv_safety import neutralise

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
