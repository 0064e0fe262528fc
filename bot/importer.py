"""`collectbot import`: read an ERP CSV, validate every line, write it all or nothing.

The file is validated completely before the first write, and written in one
transaction, so a bad row (`line N: reason`) leaves the database untouched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path

from sqlalchemy import Engine

from bot.domain import csv_rows as rows_
from bot.domain.csv_rows import RowError
from storage import events, ledger_writes

KINDS = {
    "customers": rows_.CUSTOMER_COLUMNS,
    "documents": rows_.DOCUMENT_COLUMNS,
    "payments": rows_.PAYMENT_COLUMNS,
}


class ImportFailed(Exception):
    """The whole file is refused; the message is the one line the operator sees."""


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    dry_run: bool


@dataclass(frozen=True)
class ImportContext:
    customer_defaults: rows_.CustomerDefaults
    earliest_action_offset: int  # policy: min(step offset - heads-up days) over all segments
    now: datetime


def _decode(data: bytes) -> str:
    if not data.strip():
        raise RowError(1, "the file is empty: a header row is expected")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RowError(line, "not valid UTF-8 (save the file as UTF-8)") from None


def _records(text: str, columns: tuple[str, ...]) -> Iterator[rows_.Record]:
    """(physical line where the record starts, its fields as read in `columns` order) per data row.

    csv_rows strips the fields, skips blank lines and counts the fields of each record.
    """
    lines = _plain_lines(text)
    if lines is None:
        return _csv_records(text, columns)
    names = rows_.check_header(lines[0].split(","), columns)
    records = map(str.split, islice(lines, 1, None), repeat(","))
    order = [names.index(c) for c in columns]
    if order != list(range(len(names))):
        reorder, width = itemgetter(*order), len(names)
        records = (reorder(fields) if len(fields) == width else fields for fields in records)
    return enumerate(records, 2)


def _plain_lines(text: str) -> list[str] | None:
    """The file's lines, if splitting them at commas reads it exactly as csv.reader does: no
    quote, no line end but \\n and \\r\\n, no line over csv's field size limit. The usual ERP export."""
    if not text or '"' in text or text.count("\r") != text.count("\r\n"):
        return None
    lines = text.replace("\r\n", "\n").split("\n") if "\r" in text else text.split("\n")
    if lines[-1] == "":  # the end of the last line
        lines.pop()
    return lines if max(map(len, lines)) <= csv.field_size_limit() else None


def _csv_records(text: str, columns: tuple[str, ...]) -> Iterator[rows_.Record]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise RowError(1, "the file is empty: a header row is expected") from None
    except csv.Error as exc:
        raise RowError(1, f"unreadable CSV: {exc}") from None
    names = rows_.check_header(header, columns)
    order = [names.index(c) for c in columns]
    reorder = None if order == list(range(len(names))) else itemgetter(*order)
    end = reader.line_num
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            yield start, fields if reorder is None or len(fields) != len(names) else reorder(fields)
    except csv.Error as exc:
        raise RowError(end + 1, f"unreadable CSV: {exc}") from None


def import_file(
    engine: Engine,
    kind: str,
    path: Path,
    ctx: ImportContext,
    *,
    dry_run: bool = False,
    progress: Callable[[Iterator], Iterator] | None = None,
) -> ImportResult:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror}") from None
    try:
        with engine.connect() as conn:
            tx = conn.begin()
            try:
                records = _records(_decode(data), KINDS[kind])
                if progress is not None:
                    records = progress(records)
                count = _IMPORTERS[kind](conn, records, ctx, dry_run)
                if dry_run:
                    tx.rollback()
                else:
                    events.record(
                        conn,
                        at=ctx.now,
                        kind="import",
                        actor="cli",
                        text=f"imported {count} {kind} from {path.name}",
                    )
                    tx.commit()
            except BaseException:
                tx.rollback()
                raise
    except RowError as exc:
        raise ImportFailed(str(exc)) from None
    return ImportResult(kind, count, dry_run)


def _import_customers(conn, records, ctx: ImportContext, dry_run: bool) -> int:  # noqa: ANN001
    customers = rows_.parse_customers(records, ctx.customer_defaults)
    if not dry_run:
        ledger_writes.write_customers(conn, customers.rows)
    return len(customers)


def _import_documents(conn, records, ctx: ImportContext, dry_run: bool) -> int:  # noqa: ANN001
    customers = ledger_writes.customer_infos(conn)
    docs = rows_.parse_documents(records, customers, ctx.earliest_action_offset)
    rows_.check_related_documents(docs, ledger_writes.doc_infos(conn, rows_.related_refs(docs)), customers)
    if not dry_run:
        ledger_writes.write_documents(conn, docs.rows)
        ledger_writes.rearm_customers(conn, set(map(itemgetter(1), docs.rows)))
    return len(docs)


def _import_payments(conn, records, ctx: ImportContext, dry_run: bool) -> int:  # noqa: ANN001
    customers = ledger_writes.customer_infos(conn)
    payments = rows_.parse_payments(records, customers)
    targets = ledger_writes.doc_infos(conn, rows_.allocation_refs(payments))
    rows_.check_payment_targets(payments, targets, customers)
    if not dry_run:
        ledger_writes.write_payments(conn, payments.rows, payments.allocations)
        ledger_writes.rearm_customers(conn, set(map(itemgetter(1), payments.rows)))
    return len(payments)


_IMPORTERS = {
    "customers": _import_customers,
    "documents": _import_documents,
    "payments": _import_payments,
}
