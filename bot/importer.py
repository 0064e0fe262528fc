"""`collectbot import`: read an ERP CSV, validate every line, write it all or nothing.

The file is validated completely before the first write, and written in one
transaction, so a bad row (`line N: reason`) leaves the database untouched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
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


def _records(text: str, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(physical line where the record starts, {column: stripped value}) for each data row."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise RowError(1, "the file is empty: a header row is expected") from None
    except csv.Error as exc:
        raise RowError(1, f"unreadable CSV: {exc}") from None
    names = rows_.check_header(header, columns)
    end = reader.line_num
    while True:
        start = end + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RowError(start, f"unreadable CSV: {exc}") from None
        end = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(names):
            raise RowError(start, f"expected {len(names)} fields, found {len(fields)}")
        yield start, dict(zip(names, (f.strip() for f in fields), strict=True))


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
    seen: dict[str, tuple[int, dict]] = {}
    out = []
    for line, row in records:
        rec = rows_.parse_customer(line, row, ctx.customer_defaults)
        if rows_.dedupe(line, rec["ref"], rec, seen):
            out.append(rec)
    if not dry_run:
        ledger_writes.upsert_customers(conn, out)
    return len(out)


def _import_documents(conn, records, ctx: ImportContext, dry_run: bool) -> int:  # noqa: ANN001
    customers = ledger_writes.customer_infos(conn)
    seen: dict[str, tuple[int, dict]] = {}
    out: list[tuple[int, dict]] = []
    for line, row in records:
        rec = rows_.parse_document(line, row, customers)
        if rows_.dedupe(line, rec["ref"], rec, seen):
            out.append((line, rec))
    in_file = {rec["ref"]: rows_.DocInfo(rec["customer_ref"], rec["type"], rec["currency"]) for _, rec in out}
    related = {rec["related_ref"] for _, rec in out if rec["related_ref"]} - in_file.keys()
    known = ledger_writes.doc_infos(conn, related) | in_file
    offset = timedelta(days=ctx.earliest_action_offset)
    payload = []
    for line, rec in out:
        rows_.check_related(line, rec, known.get(rec["related_ref"]) if rec["related_ref"] else None)
        due = rec["due_date"]
        payload.append(rec | {"next_action_on": due + offset if due else None})
    if not dry_run:
        ledger_writes.upsert_documents(conn, payload)
        ledger_writes.rearm_customers(conn, {r["customer_id"] for r in payload})
    return len(payload)


def _import_payments(conn, records, ctx: ImportContext, dry_run: bool) -> int:  # noqa: ANN001
    customers = ledger_writes.customer_infos(conn)
    seen: dict[str, tuple[int, dict]] = {}
    out: list[tuple[int, dict]] = []
    for line, row in records:
        rec = rows_.parse_payment(line, row, customers)
        if rows_.dedupe(line, rec["ref"], rec, seen):
            out.append((line, rec))
    targets = ledger_writes.doc_infos(conn, {ref for _, r in out for ref, _ in r["allocations"]})
    for line, rec in out:
        rows_.check_allocation_targets(line, rec, targets)
    payload = [rec for _, rec in out]
    if not dry_run:
        ledger_writes.upsert_payments(conn, payload)
        ledger_writes.rearm_customers(conn, {r["customer_id"] for r in payload})
    return len(payload)


_IMPORTERS = {
    "customers": _import_customers,
    "documents": _import_documents,
    "payments": _import_payments,
}
