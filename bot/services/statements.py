"""The debtor's statement as data for the chat, and as a CSV file beside it.

The lines come from bot.domain.statement (the balance rules, traced), at the debtor's local
date. The CSV follows DESIGN's CSV rules: UTF-8 with a header, "." decimals, ISO dates, and
every cell that is not a plain number and starts with = + - @ tab or CR neutralised.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import Connection

from bot.domain.csv_safety import neutralise
from bot.domain.money import cents_str
from bot.domain.statement import Statement, build_statement
from bot.services.customers import CustomerRow
from storage.ledger_reads import ledgers

CSV_COLUMNS = ("doc_ref", "type", "issue_date", "due_date", "currency", "amount", "applied_ref", "applied_type",
               "applied_date", "applied_amount", "open_amount")


def customer_statement(conn: Connection, customer: CustomerRow, as_of: date) -> Statement:
    """The customer's statement at `as_of` (bot.domain.statement): every open item and what reduced it."""
    docs, pays = ledgers(conn, [customer.id])[customer.id]
    return build_statement(docs, pays, as_of)


def statement_csv(statement: Statement) -> str:
    """One row per open item (its amount and open amount), then one per credit or payment that reduced it."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in statement.lines:
        due = line.due_date.isoformat()
        writer.writerow(
            neutralise(v)
            for v in (line.ref, line.type, line.issue_date.isoformat(), due, line.currency,
                      cents_str(line.amount_cents), "", "", "", "", cents_str(line.open_cents))
        )
        for t in line.touches:
            writer.writerow(
                neutralise(v)
                for v in (line.ref, line.type, line.issue_date.isoformat(), due, line.currency, "",
                          t.source_ref, t.source_type, t.day.isoformat(), cents_str(t.cents), "")
            )
    return buf.getvalue()
