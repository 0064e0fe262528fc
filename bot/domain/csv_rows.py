"""The ERP's CSV files as plain rows: one table of column rules per file kind, and the rows' own rules.

Pure: the importer reads the file into records (physical line, fields) and looks up what
the ledger already has; this module decides what each line means, or why it is refused.
Every column has exactly one rule (bot.domain.csv_columns), and every line goes through
the same loop (`read_rows`): a column with few distinct values (dates, currencies, types,
customers...) reads each distinct text once per file and remembers the answer, which is
what makes a million lines fast without a second way of reading them.

A bad line is `line N: reason` (N the physical line, the header is line 1), every bad
field of the line in its reason; `RowErrors` keeps the first `ERROR_LIMIT` of them,
earliest first, and counts the rest (DESIGN "Interfaces": every bad row is listed).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import compress, count
from operator import call, itemgetter
from typing import Any, NamedTuple

from bot.domain import csv_columns as col
from bot.domain.csv_columns import Refused, shown
from bot.domain.ledger import CREDIT_TYPES, DOCUMENT_TYPES, ITEM_TYPES

CUSTOMER_COLUMNS = (
    "customer_ref",
    "name",
    "segment",
    "currency",
    "credit_limit",
    "payment_terms_days",
    "locale",
    "timezone",
    "country",
    "sales_rep_slack_id",
    "aliases",
)
DOCUMENT_COLUMNS = (
    "doc_ref",
    "customer_ref",
    "type",
    "issue_date",
    "due_date",
    "amount",
    "currency",
    "related_doc_ref",
)
PAYMENT_COLUMNS = ("payment_ref", "customer_ref", "date", "amount", "currency", "method", "applies_to")

# The rows handed to storage, ref first, dates as ISO text ("2026-01-31"). A payment row
# carries its applies_to as one more element after PAYMENT_FIELDS: ((doc ref, cents), ...).
CUSTOMER_FIELDS = (
    "ref",
    "name",
    "segment",
    "currency",
    "credit_limit_cents",
    "payment_terms_days",
    "locale",
    "timezone",
    "country",
    "sales_rep_slack_id",
    "aliases",
)
DOCUMENT_FIELDS = (
    "ref",
    "customer_id",
    "type",
    "issue_date",
    "due_date",
    "amount_cents",
    "currency",
    "related_ref",
    "next_action_on",
)
PAYMENT_FIELDS = ("ref", "customer_id", "date", "amount_cents", "currency", "method")

ERROR_LIMIT = 20
Record = tuple[int, Sequence[str]]  # (physical line, its fields as read, in *_COLUMNS order)


class RowError(ValueError):
    """One refusal that ends the file at once (the header, an unreadable file): `line N: reason`."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class RowErrors:
    """The bad lines of a file: the first ERROR_LIMIT by line number, and how many there are in all."""

    def __init__(self) -> None:
        self.first: list[tuple[int, str]] = []
        self.count = 0

    def add(self, line: int, reason: str) -> None:
        """Count one bad line (1-based `line`, its one-line `reason`); keep the ERROR_LIMIT first by line
        number, whatever order the lines arrive in.
        """
        self.count += 1
        if len(self.first) < ERROR_LIMIT or line < self.first[-1][0]:
            bisect.insort(self.first, (line, reason))
            del self.first[ERROR_LIMIT:]

    def __bool__(self) -> bool:
        return self.count > 0

    def lines(self) -> list[str]:
        """`line N: reason` for each kept error, earliest first."""
        return [f"line {n}: {reason}" for n, reason in self.first]


@dataclass(frozen=True)
class CustomerDefaults:
    """What an empty optional customer field means: the policy's segments, the company's zone, ..."""

    segments: frozenset[str]
    timezone: str = "UTC"
    payment_terms_days: int = 30
    locale: str = "en"


class CustomerInfo(NamedTuple):
    id: int
    currency: str
    payment_terms_days: int


class DocInfo(NamedTuple):
    """What a file may name of a document already in the ledger."""

    customer_id: int
    type: str
    currency: str


@dataclass(frozen=True)
class Column:
    """A column's name and rule; `few`: few distinct values in a file, so each is read once."""

    name: str
    read: Callable[[str], Any]
    few: bool = False


@dataclass(frozen=True)
class FileRules:
    """The columns of a file kind in order, and the row's own rule over the columns' values
    (None: the values are the row): returns the row to store, or raises Refused."""

    columns: tuple[Column, ...]
    row: Callable[..., tuple] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The file's column names, in the order the rows hold them."""
        return tuple(c.name for c in self.columns)


def customer_rules(defaults: CustomerDefaults) -> FileRules:
    """customers.csv: rows in CUSTOMER_FIELDS order."""
    return FileRules(
        (
            Column("customer_ref", col.ref("customer_ref")),
            Column("name", col.text("name", col.MAX_NAME, required=True)),
            Column("segment", col.segment(defaults.segments), few=True),
            Column("currency", col.currency, few=True),
            Column("credit_limit", col.amount("credit_limit", optional=True, allow_zero=True), few=True),
            Column("payment_terms_days", col.payment_terms(defaults.payment_terms_days), few=True),
            Column("locale", col.locale(defaults.locale), few=True),
            Column("timezone", col.timezone(defaults.timezone), few=True),
            Column("country", col.country, few=True),
            Column("sales_rep_slack_id", col.text("sales_rep_slack_id", col.MAX_SLACK_ID), few=True),
            Column("aliases", col.aliases),
        )
    )


def document_rules(customers: Mapping[str, CustomerInfo], action_offset_days: int) -> FileRules:
    """documents.csv: rows in DOCUMENT_FIELDS order.

    An item's (invoice, debit note) empty due date is the issue date + the customer's
    payment terms, and a due date before the issue date is refused; a credit note's or
    withholding's due date is ignored (DESIGN). `next_action_on`, the sweep's index, is
    the due date + `action_offset_days` (the earliest any step or heads-up can come).
    """
    offset = timedelta(days=action_offset_days)
    plus = _Memo(lambda key: (date.fromisoformat(key[0]) + timedelta(days=key[1])).isoformat())  # (day, days)
    acts = _Memo(lambda due: (date.fromisoformat(due) + offset).isoformat())
    due_of, next_of, items = plus.__getitem__, acts.__getitem__, ITEM_TYPES

    def row(ref: str, customer: CustomerInfo, kind: str, issue: str, due: Any, cents: int, cur: str, rel: Any) -> tuple:
        if kind not in items:
            return (ref, customer.id, kind, issue, None, cents, cur, rel, None)
        if due is None:
            due = due_of((issue, customer.payment_terms_days))
        elif due.__class__ is Refused:
            raise due
        elif due < issue:  # ISO dates compare as the days they are
            raise Refused(f"due_date {due} is before issue_date {issue}")
        return (ref, customer.id, kind, issue, due, cents, cur, rel, next_of(due))

    return FileRules(
        (
            Column("doc_ref", col.ref("doc_ref")),
            Column("customer_ref", _customer(customers), few=True),
            Column("type", col.one_of("type", DOCUMENT_TYPES), few=True),
            Column("issue_date", col.day("issue_date"), few=True),
            Column("due_date", col.deferred(col.day("due_date", optional=True)), few=True),
            Column("amount", col.amount("amount")),
            Column("currency", col.currency, few=True),
            Column("related_doc_ref", col.optional_ref("related_doc_ref"), few=True),
        ),
        row,
    )


def payment_rules(customers: Mapping[str, CustomerInfo]) -> FileRules:
    """payments.csv: rows in PAYMENT_FIELDS order, then the applies_to allocations."""

    def row(ref: str, customer: CustomerInfo, day: str, cents: int, cur: str, method: str, parts: tuple) -> tuple:
        if parts and sum(c for _, c in parts) > cents:
            raise Refused("applies_to amounts add up to more than the payment")
        return (ref, customer.id, day, cents, cur, method, parts)

    return FileRules(
        (
            Column("payment_ref", col.ref("payment_ref")),
            Column("customer_ref", _customer(customers), few=True),
            Column("date", col.day("date"), few=True),
            Column("amount", col.amount("amount")),
            Column("currency", col.currency, few=True),
            Column("method", col.text("method", col.MAX_TEXT), few=True),
            Column("applies_to", col.allocations),
        ),
        row,
    )


def _customer(customers: Mapping[str, CustomerInfo]) -> Callable[[str], CustomerInfo]:
    return col.known(col.ref("customer_ref"), customers, "unknown customer", " (import customers first)")


def check_header(header: Sequence[str], expected: Sequence[str]) -> list[int]:
    """Where each expected column is in the file (header names in any case, spaces ignored).

    Refuses missing, unexpected or repeated columns (RowError on line 1).
    """
    names = [h.strip().casefold() for h in header]
    missing = [c for c in expected if c not in names]
    extra = [h.strip() for h, n in zip(header, names, strict=True) if n not in expected]
    if missing:
        more = f"; unexpected: {', '.join(shown(e) for e in extra)}" if extra else ""
        raise RowError(1, f"missing column(s): {', '.join(missing)}{more}")
    if extra:
        raise RowError(1, f"unexpected column(s): {', '.join(shown(e) for e in extra)}")
    if len(names) != len(set(names)):
        raise RowError(1, "a column appears twice")
    return [names.index(c) for c in expected]


class _Memo(dict):
    """key -> compute(key), computed once per distinct key; a refusal is not remembered (it raises again)."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._compute(key)
        return value


@dataclass
class Batch:
    """A file's rows, one per distinct ref in file order (a ref repeated identically is dropped)."""

    rows: list[tuple] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the physical line of each row
    index: dict[str, int] = field(default_factory=dict)  # ref -> position in rows

    def __len__(self) -> int:
        return len(self.rows)


def read_rows(records: Iterable[Record], rules: FileRules, errors: RowErrors) -> Batch:
    """Every record through its columns' rules and the row's rule, in one loop.

    Blank lines (nothing but spaces and separators) are skipped. A bad line goes to
    `errors` (every bad field named) and is left out; the caller refuses the file if
    `errors` has any. A ref that comes again with different content is a bad line.
    """
    readers = [_Memo(c.read).__getitem__ if c.few else c.read for c in rules.columns]
    make = rules.row or (lambda *values: values)
    width = len(readers)
    batch = Batch()
    rows, lines, index = batch.rows, batch.lines, batch.index
    first = index.setdefault
    for line, fields in records:
        try:
            if len(fields) != width:
                raise Refused
            row = make(*map(call, readers, fields))
        except Refused:
            row = _refusal(line, fields, readers, make, errors)
            if row is None:
                continue
        n = len(rows)
        at = first(row[0], n)
        if at == n:
            rows.append(row)
            lines.append(line)
        elif rows[at] != row:
            errors.add(line, f"{shown(row[0])} appears again with different content (first on line {lines[at]})")
    return batch


def _refusal(line: int, fields: Sequence[str], readers: list, make: Callable[..., tuple], errors: RowErrors) -> Any:
    """A line the loop could not take as it is: blank (None), or each of its faults in one error."""
    if not any(f.strip() for f in fields):
        return None
    if len(fields) != len(readers):
        errors.add(line, f"expected {len(readers)} fields, found {len(fields)}")
        return None
    values, reasons = [], []
    for read, text in zip(readers, fields, strict=True):
        try:
            values.append(read(text))
        except Refused as exc:
            reasons.append(str(exc))
    if not reasons:
        try:
            return make(*values)
        except Refused as exc:
            reasons.append(str(exc))
    errors.add(line, "; ".join(reasons))
    return None


# --- what a file names elsewhere -----------------------------------------------------------------


def related_refs(docs: Batch) -> set[str]:
    """Documents named as related that are not in the file itself (the ledger must have them)."""
    return {ref for ref in map(itemgetter(7), docs.rows) if ref is not None} - docs.index.keys()


def check_related_documents(
    docs: Batch, ledger: Mapping[str, DocInfo], customers: Mapping[str, CustomerInfo], errors: RowErrors
) -> None:
    """A related document must exist (in the file or the ledger) and not be the document itself;
    a credit note's or withholding's must be an invoice or debit note of the same customer and currency."""
    rows, index = docs.rows, docs.index
    ref_of: dict[int, str] = {}
    for pos in compress(count(), map(itemgetter(7), rows)):
        ref, cid, kind, _, _, _, cur, rel, _ = rows[pos]
        at = index.get(rel)
        related = ledger.get(rel) if at is None else DocInfo(rows[at][1], rows[at][2], rows[at][6])
        reason = None
        if related is None:
            reason = f"unknown related document {shown(rel)}"
        elif rel == ref:
            reason = "a document cannot relate to itself"
        elif kind in CREDIT_TYPES:
            if related.type not in ITEM_TYPES:
                reason = f"related document {shown(rel)} is a {related.type}, not an invoice or debit note"
            elif related.customer_id != cid:
                ref_of = ref_of or {c.id: cref for cref, c in customers.items()}
                reason = f"related document {shown(rel)} belongs to customer {shown(ref_of[related.customer_id])}"
            elif related.currency != cur:
                reason = f"currency {cur} does not match {shown(rel)} in {related.currency}"
        if reason:
            errors.add(docs.lines[pos], reason)


def allocation_targets(payments: Batch) -> set[tuple[str, int, str]]:
    """(document ref, customer id, currency) of every document a payment's applies_to names:
    each must be an invoice or debit note of that customer in that currency."""
    return {(ref, row[1], row[4]) for row in payments.rows for ref, _ in row[6]}


def check_payment_targets(
    payments: Batch,
    ledger: Mapping[str, DocInfo],
    customers: Mapping[str, CustomerInfo],
    errors: RowErrors,
    suspects: Collection[str] | None = None,
) -> None:
    """Each document an applies_to names must be an invoice or debit note of the payment's customer and
    currency. `ledger` holds what the ledger has of them; `suspects`, if given, the only refs that may
    be wrong (the others were found right where they are, e.g. by storage.mismatched_targets)."""
    ref_of: dict[int, str] = {}
    items, get = ITEM_TYPES, ledger.get
    for pos in compress(count(), map(itemgetter(6), payments.rows)):
        _, cid, _, _, cur, _, parts = payments.rows[pos]
        reasons = []
        for ref, _ in parts:
            if suspects is not None and ref not in suspects:
                continue
            info = get(ref)
            if info is not None and info.customer_id == cid and info.type in items and info.currency == cur:
                continue
            if info is None:
                reasons.append(f"applies_to names unknown document {shown(ref)}")
            elif info.customer_id != cid:
                ref_of = ref_of or {c.id: cref for cref, c in customers.items()}
                owner = ref_of[info.customer_id]
                reasons.append(f"applies_to document {shown(ref)} belongs to customer {shown(owner)}")
            elif info.type not in items:
                reasons.append(f"applies_to document {shown(ref)} is a {info.type}, not an invoice or debit note")
            else:
                reasons.append(f"currency {cur} does not match {shown(ref)} in {info.currency}")
        if reasons:
            errors.add(payments.lines[pos], "; ".join(reasons))
