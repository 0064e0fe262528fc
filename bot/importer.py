"""`collectbot import`: read an ERP CSV, validate every line, write it all or nothing.

The file is read with Python's `csv` (the separator found by `csv.Sniffer` and confirmed
by the header), every line goes through the column rules of bot.domain.csv_rows, and
only a file without a single bad line is written, in one transaction; otherwise the first
20 bad lines are reported (`line N: reason`) and nothing changes. After the write, the
sweep's index is brought up to date for the customers whose ledger changed
(storage.arming.settle).
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import count, repeat
from operator import itemgetter
from pathlib import Path

from sqlalchemy import Connection, Engine

from bot.domain import csv_rows as rows_
from bot.domain.csv_rows import Batch, RowError, RowErrors
from bot.domain.ledger import ITEM_TYPES
from storage import arming, events, import_reads, ledger_writes, policy_state
from storage.import_reads import Changes

KINDS = {
    "customers": rows_.CUSTOMER_COLUMNS,
    "documents": rows_.DOCUMENT_COLUMNS,
    "payments": rows_.PAYMENT_COLUMNS,
}
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
_SNIFF_CHARS = 16_384  # the first lines are enough to tell the separator


class ImportFailed(Exception):
    """The whole file is refused. `lines`: what the operator reads, one reason per line (at most 20
    `line N: reason`, earliest first, then how many more there are)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, dry run, would do): rows = distinct refs read; new + changed + unchanged = rows."""

    kind: str
    rows: int
    dry_run: bool
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    separator: str = ","

    def summary(self, path: Path | str) -> str:
        """`imported 3 documents from FILE: 1 new, 1 changed, 1 unchanged` ("would import" in a dry run)."""
        verb = "would import" if self.dry_run else "imported"
        sep = "" if self.separator == "," else f" (read as {SEPARATORS[self.separator]}-separated)"
        counts = f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged"
        return f"{verb} {self.rows} {self.kind} from {path}{sep}: {counts}"


@dataclass(frozen=True)
class ImportContext:
    """What an import needs from the configuration: the policy's segments and the defaults of optional
    customer fields, the earliest any step or heads-up comes (days from the due date), and the time."""

    customer_defaults: rows_.CustomerDefaults
    earliest_action_offset: int  # policy: min(step offset - heads-up days) over all segments
    now: datetime
    # The policy's bot.domain.ladder.ladder_fingerprint: the items are armed under it (kept by
    # storage.policy_state when none is recorded yet, so a later policy change re-arms them).
    policy_fingerprint: str | None = None


def _decode(data: bytes) -> str:
    if not data.strip():
        raise RowError(1, "the file is empty: a header row is expected")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RowError(line, "not valid UTF-8 (save the file as UTF-8)") from None


def _separator(text: str, columns: tuple[str, ...]) -> tuple[str, list[int]]:
    """The file's separator (comma, semicolon or tab) and where each expected column is.

    csv.Sniffer guesses from the first lines; the header decides: the separator is the
    one that splits it into the expected columns. A header that no separator splits right
    is refused for its missing or unexpected columns, as the sniffed separator reads it.
    """
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    try:
        guess = csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        guess = ","
    first_error = None
    for sep in dict.fromkeys([guess, *SEPARATORS]):
        try:
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True))
        except (StopIteration, csv.Error) as exc:
            first_error = first_error or RowError(1, f"unreadable header: {exc}")
            continue
        try:
            return sep, rows_.check_header(header, columns)
        except RowError as exc:
            first_error = first_error or exc
    first_line = text.splitlines()[0] if text else ""
    for other in sorted({c for c in first_line if not (c.isalnum() or c in "_ ")} - set(SEPARATORS)):
        try:
            rows_.check_header(first_line.split(other), columns)
        except RowError:
            continue
        raise RowError(1, f"the columns are separated by {other!r}: use commas, semicolons or tabs")
    assert first_error is not None
    raise first_error


class _Lines:
    """The data records of a file: (physical line where the record starts, its fields in *_COLUMNS
    order). An unreadable record (a stray quote, a field over csv's size limit) ends the file:
    RowError on its line."""

    def __init__(self, text: str, sep: str) -> None:
        self.reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
        next(self.reader)
        self.quoted = '"' in text

    def __iter__(self) -> Iterator[rows_.Record]:
        if not self.quoted:  # no quoted field: each record is one physical line
            return zip(count(2), self.reader)
        return self._counted()

    def _counted(self) -> Iterator[rows_.Record]:
        """Records with the physical line each starts on: quoted fields may span lines."""
        reader = self.reader
        end = reader.line_num
        for fields in reader:
            start, end = end + 1, reader.line_num
            yield start, fields

    def failed(self, exc: csv.Error) -> RowError:
        return RowError(self.reader.line_num, f"unreadable CSV: {exc}")


def _records(text: str, sep: str, order: list[int]) -> tuple[_Lines, Iterator[rows_.Record]]:
    lines = _Lines(text, sep)
    records = iter(lines)
    if order != list(range(len(order))):
        reorder, width = itemgetter(*order), len(order)
        records = ((n, reorder(f) if len(f) == width else f) for n, f in records)
    return lines, records


def import_file(
    engine: Engine,
    kind: str,
    path: Path,
    ctx: ImportContext,
    *,
    dry_run: bool = False,
    progress: Callable[[Iterator], Iterator] | None = None,
) -> ImportResult:
    """Import one CSV file of `kind` (customers | documents | payments): an upsert by ref, all or nothing.

    Every line is validated before the first write; the file is written in one
    transaction (SQLite: under its write lock from BEGIN IMMEDIATE). `dry_run`: the same
    validation and counts, nothing written. Returns the counts of new, changed and
    unchanged rows. Raises ImportFailed (nothing written) for an unreadable file or any bad
    line, listing the first 20 bad lines. Implements DESIGN "Interfaces": CSV files.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed([f"cannot read {path}: {exc.strerror}"]) from None
    with _no_cycle_collection():
        return _import(engine, kind, path, data, ctx, dry_run, progress)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while an import runs, and set back as it was after.

    A million-row file keeps millions of tuples alive at once; each full collection walks them
    all, and there are a dozen while they pile up: a fifth of the settlement's time, for no
    cycle (the rows are plain tuples, freed by their reference counts). Garbage with cycles
    made meanwhile is collected once the import ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(
    engine: Engine,
    kind: str,
    path: Path,
    data: bytes,
    ctx: ImportContext,
    dry_run: bool,
    progress: Callable[[Iterator], Iterator] | None,
) -> ImportResult:
    try:
        text = _decode(data)
        sep, order = _separator(text, KINDS[kind])
        lines, records = _records(text, sep, order)
        if progress is not None:
            records = progress(records)
        with engine.connect() as conn, ledger_writes.import_session(conn):
            tx = conn.begin()
            try:
                changes = _IMPORTERS[kind](conn, _Source(lines, records), ctx, dry_run)
                if dry_run:
                    tx.rollback()
                else:
                    result = _result(kind, changes, dry_run, sep)
                    events.record(
                        conn,
                        at=ctx.now,
                        kind="import",
                        actor="cli",
                        text=result.summary(path.name),
                    )
                    if ctx.policy_fingerprint:
                        policy_state.remember_if_absent(conn, ctx.policy_fingerprint)
                    tx.commit()
            except BaseException:
                tx.rollback()
                raise
    except RowError as exc:
        raise ImportFailed([str(exc)]) from None
    except _Refused as exc:
        raise ImportFailed(exc.lines) from None
    return _result(kind, changes, dry_run, sep)


def _result(kind: str, changes: Changes, dry_run: bool, sep: str) -> ImportResult:
    n = len(changes.new) + len(changes.changed) + changes.unchanged
    return ImportResult(kind, n, dry_run, len(changes.new), len(changes.changed), changes.unchanged, sep)


class _Refused(Exception):
    def __init__(self, errors: RowErrors) -> None:
        lines = errors.lines()
        if errors.count > len(lines):
            lines.append(f"... and {errors.count - len(lines)} more bad lines (the first {len(lines)} are listed)")
        super().__init__("; ".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class _Source:
    lines: _Lines
    records: Iterator[rows_.Record]


def _read(source: _Source, rules: rows_.FileRules, errors: RowErrors) -> Batch:
    try:
        return rows_.read_rows(source.records, rules, errors)
    except csv.Error as exc:  # unreadable from that line on: reported with the bad lines before it
        failed = source.lines.failed(exc)
        errors.add(failed.line, failed.reason)
        raise _Refused(errors) from None


def _import_customers(conn: Connection, source: _Source, ctx: ImportContext, dry_run: bool) -> Changes:
    errors = RowErrors()
    batch = _read(source, rows_.customer_rules(ctx.customer_defaults), errors)
    if errors:
        raise _Refused(errors)
    return ledger_writes.write_customers(conn, batch.rows, dry_run=dry_run)


def _import_documents(conn: Connection, source: _Source, ctx: ImportContext, dry_run: bool) -> Changes:
    errors = RowErrors()
    customers = import_reads.customer_infos(conn)
    docs = _read(source, rows_.document_rules(customers, ctx.earliest_action_offset), errors)
    known = import_reads.doc_infos(conn, rows_.related_refs(docs))
    rows_.check_related_documents(docs, known, customers, errors)
    if errors:
        raise _Refused(errors)
    if dry_run:
        return ledger_writes.write_documents(conn, docs.rows, dry_run=True)
    with ledger_writes.bulk_cache(conn):
        changes = ledger_writes.write_documents(conn, docs.rows)
        _settle_documents(conn, docs, changes)
    return changes


def _settle_documents(conn: Connection, docs: Batch, changes: Changes) -> None:
    if changes.top or changes.added is None:
        arming.settle(conn, changes.customers)
    else:  # the table was empty: its rows are the file's, no need to read them back
        ids, items = changes.added, ITEM_TYPES
        item_rows = [(r[1], ids[r[0]], r[6], r[0], r[5], r[3], r[4], None, False) for r in docs.rows if r[2] in items]
        credit_rows = [(r[1], r[6], r[7], r[5], r[3]) for r in docs.rows if r[2] not in items]
        arming.settle(conn, changes.customers, documents=(item_rows, credit_rows))


def _import_payments(conn: Connection, source: _Source, ctx: ImportContext, dry_run: bool) -> Changes:
    errors = RowErrors()
    customers = import_reads.customer_infos(conn)
    payments = _read(source, rows_.payment_rules(customers), errors)
    targets = rows_.allocation_targets(payments)
    documents = None
    with ledger_writes.bulk_cache(conn):
        if arming.most_customers(conn, {r[1] for r in payments.rows}):
            # The settlement after the write reads every customer's documents: read them once,
            # now, and check what the applies_to name against them.
            documents = arming.ledger_documents(conn)
            suspects = rows_.unmatched_targets(targets, documents[0])
        else:
            suspects = import_reads.mismatched_targets(conn, targets)
        rows_.check_payment_targets(payments, import_reads.doc_infos(conn, suspects), customers, errors, suspects)
        if errors:
            raise _Refused(errors)
        if dry_run:
            return ledger_writes.write_payments(conn, payments.rows, dry_run=True)
        changes = ledger_writes.write_payments(conn, payments.rows)
        _settle_payments(conn, payments, changes, documents)
    return changes


def _settle_payments(
    conn: Connection, payments: Batch, changes: Changes, documents: tuple[list[tuple], list[tuple]] | None
) -> None:
    if changes.top or changes.added is None:
        arming.settle(conn, changes.customers, documents=documents)
    else:  # the table was empty: its rows are the file's, no need to read them back
        rows = payments.rows  # each allocates no more than itself: the row rule refused any other
        paid = list(zip(*(map(itemgetter(i), rows) for i in (1, 4, 3, 2)), repeat(True)))
        parts = [(r[1], r[4], ref, cents, r[2]) for r in rows for ref, cents in r[6]]
        arming.settle(conn, changes.customers, documents=documents, payments=(paid, parts))


_IMPORTERS = {
    "customers": _import_customers,
    "documents": _import_documents,
    "payments": _import_payments,
}
