"""Spreadsheet formula injection: a customer named `=HYPERLINK(...)` must stay text."""

from __future__ import annotations

import re

_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # as we write numbers: no "+"
_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> str:
    """Prefix `'` to a cell that a spreadsheet would run as a formula (plain numbers pass)."""
    text = "" if cell is None else str(cell)
    if text.startswith(_DANGEROUS_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text
