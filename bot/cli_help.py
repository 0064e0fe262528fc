"""What `collectbot ... --help` shows below the options: examples, and the columns of each import file.

Typer renders a command's epilog with rich: single line breaks are kept, a blank line starts
a paragraph, and square brackets would be read as markup, so every epilog is built here and
escaped once. The import columns come from the import's own column lists
(bot.domain.csv_rows.*_COLUMNS), so the help can never list a column the importer does not
read; each column's meaning is below, and `columns_help` refuses a column without one.
"""

from __future__ import annotations

from rich.markup import escape

from bot.domain.csv_rows import CUSTOMER_COLUMNS, DOCUMENT_COLUMNS, PAYMENT_COLUMNS

IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": CUSTOMER_COLUMNS,
    "documents": DOCUMENT_COLUMNS,
    "payments": PAYMENT_COLUMNS,
}

# What each column holds. "required" = the field may not be empty (every column must be in the header).
COLUMN_MEANINGS: dict[str, dict[str, tuple[bool, str]]] = {
    "customers": {
        "customer_ref": (True, "the ERP's id, up to 64 characters (the upsert key)"),
        "name": (True, "up to 255 characters"),
        "segment": (False, "a policy segment (see policy check); empty: default"),
        "currency": (True, "ISO 4217 code such as EUR"),
        "credit_limit": (False, "an amount like 50000.00; empty: no limit"),
        "payment_terms_days": (False, "whole days, 0 to 3650; empty: 30"),
        "locale": (False, "en, es, pt or fa, a region allowed (pt-BR); empty: en"),
        "timezone": (False, "IANA zone; empty: COLLECTBOT_TIMEZONE"),
        "country": (False, "ISO 3166 alpha-2 like ES (weekend, public holidays)"),
        "sales_rep_slack_id": (False, "the sales rep's Slack user id (heads-ups, calls)"),
        "aliases": (False, "other names of the customer, separated by |"),
    },
    "documents": {
        "doc_ref": (True, "the document number, up to 64 characters (the upsert key)"),
        "customer_ref": (True, "a customer already imported"),
        "type": (True, "invoice, credit_note, debit_note or withholding"),
        "issue_date": (True, "YYYY-MM-DD"),
        "due_date": (False, "YYYY-MM-DD; empty: issue_date + the customer's terms"),
        "amount": (True, "positive, like 1234.50, at most 999999999999.99"),
        "currency": (True, "ISO 4217 code"),
        "related_doc_ref": (False, "what a credit note, withholding or debit note applies to"),
    },
    "payments": {
        "payment_ref": (True, "the payment's id, up to 64 characters (the upsert key)"),
        "customer_ref": (True, "a customer already imported"),
        "date": (True, "YYYY-MM-DD"),
        "amount": (True, "positive, like 1234.50"),
        "currency": (True, "ISO 4217 code"),
        "method": (False, "free text: wire, pix, card..."),
        "applies_to": (False, "like INV-1:100.00|INV-2:50; empty: oldest due first"),
    },
}
IMPORT_NOTES = {
    "customers": "Empty optional fields take the defaults shown.",
    "documents": "A credit note or withholding with no related_doc_ref reduces the oldest open items; "
    "its due_date is ignored.",
    "payments": "Import customers and documents first: a payment names both.",
}


def epilog(*examples: str, notes: tuple[str, ...] = ()) -> str:
    """The text under a command's options: 'Example(s):' then one command per line, then notes.

    Every piece is escaped for rich markup ("[--dry-run]" stays as written).
    """
    head = "Example:" if len(examples) == 1 else "Examples:"
    # "\n" first: click cleans the epilog like a docstring (the indent common to the lines after the
    # first is removed); with the heading on the second line, the examples keep theirs.
    parts = ["\n" + head + "\n" + "\n".join(f"  {escape(e)}" for e in examples)]
    parts += [escape(n) for n in notes]
    return "\n\n".join(parts)


def columns_help(kind: str) -> str:
    """The columns of an import file in their order: name (required or optional) and its meaning.

    Every column the importer reads is listed, even one this module does not describe yet
    (`undescribed` names those; a test keeps it empty).
    """
    meanings = COLUMN_MEANINGS[kind]
    width = max(len(c) for c in IMPORT_COLUMNS[kind])
    lines = []
    for c in IMPORT_COLUMNS[kind]:
        required, meaning = meanings.get(c, (False, ""))
        lines.append(f"  {c:<{width}} {'*' if required else ' '} {meaning}")
    return f"Columns of {kind}.csv (* = required: may not be empty):\n" + "\n".join(lines)


def undescribed() -> list[str]:
    """Import columns with no meaning in COLUMN_MEANINGS, as "kind.column"."""
    return [f"{kind}.{c}" for kind, cols in IMPORT_COLUMNS.items() for c in cols if c not in COLUMN_MEANINGS[kind]]


def import_epilog(kind: str, example: str) -> str:
    """`import <kind> --help`'s epilog: the example, the columns, and what a bad file does."""
    return "\n\n".join(
        (
            epilog(example, f"collectbot import {kind} {kind}.csv --dry-run"),
            escape(columns_help(kind)),
            escape(IMPORT_NOTES[kind]),
            escape(
                "UTF-8 with a header row naming every column, in any order and case; comma, ; or tab separated. "
                "A bad row fails the whole file: every bad line is listed (the first 20) and nothing is written. "
                "Importing the same file again changes nothing; the summary says how many rows were new, "
                "changed and unchanged."
            ),
        )
    )
