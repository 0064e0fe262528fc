"""Validation of the ERP's CSV rows into plain records, line by line.

Pure: the caller reads the file and looks up what already exists in the ledger;
this module decides what each physical line means or which `line N: reason`
refuses the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import compress, count
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import available_timezones

from bot.domain.ledger import CREDIT_TYPES, DOCUMENT_TYPES, ITEM_TYPES
from bot.domain.money import AmountError, parse_csv_amount, plain_cents

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

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LOCALE = re.compile(r"^([a-z]{2})([_-][A-Za-z]{2})?$")
_ZONES: frozenset[str] | None = None
SUPPORTED_LANGUAGES = frozenset({"en", "es", "pt", "fa"})


class RowError(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def check_header(header: list[str], expected: tuple[str, ...]) -> list[str]:
    """Column names in file order; refuses missing, extra or repeated columns (line 1)."""
    names = [h.strip() for h in header]
    missing = [c for c in expected if c not in names]
    extra = [c for c in names if c not in expected]
    if missing:
        raise RowError(1, f"missing column(s): {', '.join(missing)}")
    if extra:
        raise RowError(1, f"unexpected column(s): {', '.join(repr(e) for e in extra)}")
    if len(names) != len(set(names)):
        raise RowError(1, "a column appears twice")
    return names


def _date(line: int, field: str, text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(line, f"{field} {text!r} is not a date like 2026-01-31") from None


def _amount(line: int, field: str, text: str, *, allow_zero: bool = False) -> int:
    try:
        return parse_csv_amount(text, allow_zero=allow_zero)
    except AmountError as exc:
        raise RowError(line, f"{field}: {exc}") from None


def _currency(line: int, text: str) -> str:
    code = text.strip().upper()
    if not _CURRENCY.match(code):
        raise RowError(line, f"currency {text!r} is not a 3-letter ISO code")
    return code


def _required(line: int, field: str, text: str) -> str:
    if not text:
        raise RowError(line, f"{field} is empty")
    return text


@dataclass(frozen=True)
class CustomerDefaults:
    segments: frozenset[str]
    timezone: str = "UTC"
    payment_terms_days: int = 30
    locale: str = "en"


def parse_customer(line: int, row: Mapping[str, str], defaults: CustomerDefaults) -> dict:
    global _ZONES
    ref = _required(line, "customer_ref", row["customer_ref"])
    name = _required(line, "name", row["name"])
    segment = row["segment"] or "default"
    if segment not in defaults.segments:
        known = ", ".join(sorted(defaults.segments))
        raise RowError(line, f"segment {segment!r} is not in the dunning policy ({known})")
    currency = _currency(line, row["currency"])
    limit = _amount(line, "credit_limit", row["credit_limit"], allow_zero=True) if row["credit_limit"] else None
    terms_text = row["payment_terms_days"]
    if terms_text:
        if not terms_text.isdigit() or int(terms_text) > 3650:
            raise RowError(line, f"payment_terms_days {terms_text!r} is not a whole number of days")
        terms = int(terms_text)
    else:
        terms = defaults.payment_terms_days
    locale = row["locale"] or defaults.locale
    m = _LOCALE.match(locale)
    if not m or m.group(1) not in SUPPORTED_LANGUAGES:
        raise RowError(line, f"locale {locale!r} is not supported (en, es, pt, fa)")
    tz = row["timezone"] or defaults.timezone
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    if tz not in _ZONES:
        raise RowError(line, f"timezone {tz!r} is not an IANA time zone like Europe/Madrid")
    country = row["country"].upper()
    if country and not _COUNTRY.match(country):
        raise RowError(line, f"country {row['country']!r} is not an ISO 3166 alpha-2 code")
    aliases = [a.strip() for a in row["aliases"].split("|") if a.strip()]
    return {
        "ref": ref,
        "name": name,
        "segment": segment,
        "currency": currency,
        "credit_limit_cents": limit,
        "payment_terms_days": terms,
        "locale": locale,
        "timezone": tz,
        "country": country,
        "sales_rep_slack_id": row["sales_rep_slack_id"],
        "aliases": "|".join(aliases),
    }


class CustomerInfo(NamedTuple):
    id: int
    currency: str
    payment_terms_days: int


class DocInfo(NamedTuple):
    customer_ref: str
    type: str
    currency: str


def parse_document(line: int, row: Mapping[str, str], customers: Mapping[str, CustomerInfo]) -> dict:
    ref = _required(line, "doc_ref", row["doc_ref"])
    cref = _required(line, "customer_ref", row["customer_ref"])
    customer = customers.get(cref)
    if customer is None:
        raise RowError(line, f"unknown customer {cref!r} (import customers first)")
    kind = row["type"].lower()
    if kind not in DOCUMENT_TYPES:
        raise RowError(line, f"type {row['type']!r} is not one of {', '.join(DOCUMENT_TYPES)}")
    issue = _date(line, "issue_date", _required(line, "issue_date", row["issue_date"]))
    due: date | None = None
    if kind in ITEM_TYPES:
        if row["due_date"]:
            due = _date(line, "due_date", row["due_date"])
            if due < issue:
                raise RowError(line, f"due_date {due} is before issue_date {issue}")
        else:
            due = issue + timedelta(days=customer.payment_terms_days)
    return {
        "ref": ref,
        "customer_ref": cref,
        "customer_id": customer.id,
        "type": kind,
        "issue_date": issue,
        "due_date": due,
        "amount_cents": _amount(line, "amount", row["amount"]),
        "currency": _currency(line, row["currency"]),
        "related_ref": row["related_doc_ref"] or None,
    }


def check_related(line: int, doc: dict, related: DocInfo | None) -> None:
    """A related document must exist; a credit's must be an item of the same customer and currency."""
    rel = doc["related_ref"]
    if rel is None:
        return
    if related is None:
        raise RowError(line, f"unknown related document {rel!r}")
    if rel == doc["ref"]:
        raise RowError(line, "a document cannot relate to itself")
    if doc["type"] in CREDIT_TYPES:
        if related.type not in ITEM_TYPES:
            raise RowError(line, f"related document {rel!r} is a {related.type}, not an invoice or debit note")
        if related.customer_ref != doc["customer_ref"]:
            raise RowError(line, f"related document {rel!r} belongs to customer {related.customer_ref!r}")
        if related.currency != doc["currency"]:
            raise RowError(line, f"currency {doc['currency']} does not match {rel!r} in {related.currency}")


def parse_allocations(line: int, text: str) -> list[tuple[str, int]]:
    """`INV-1:100.00|INV-2:50` -> [("INV-1", 10000), ("INV-2", 5000)]."""
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    for part in (p.strip() for p in text.split("|")):
        if not part:
            continue
        ref, sep, amount = part.rpartition(":")
        if not sep or not ref.strip():
            raise RowError(line, f"applies_to part {part!r} is not like INV-1:100.00")
        ref = ref.strip()
        if ref in seen:
            raise RowError(line, f"applies_to names {ref!r} twice")
        seen.add(ref)
        out.append((ref, _amount(line, f"applies_to amount for {ref!r}", amount)))
    return out


def parse_payment(line: int, row: Mapping[str, str], customers: Mapping[str, CustomerInfo]) -> dict:
    ref = _required(line, "payment_ref", row["payment_ref"])
    cref = _required(line, "customer_ref", row["customer_ref"])
    customer = customers.get(cref)
    if customer is None:
        raise RowError(line, f"unknown customer {cref!r} (import customers first)")
    amount = _amount(line, "amount", row["amount"])
    allocations = parse_allocations(line, row["applies_to"])
    if sum(c for _, c in allocations) > amount:
        raise RowError(line, "applies_to amounts add up to more than the payment")
    return {
        "ref": ref,
        "customer_ref": cref,
        "customer_id": customer.id,
        "date": _date(line, "date", _required(line, "date", row["date"])),
        "amount_cents": amount,
        "currency": _currency(line, row["currency"]),
        "method": row["method"],
        "allocations": allocations,
    }


def check_allocation_targets(line: int, pay: dict, docs: Mapping[str, DocInfo]) -> None:
    for ref, _ in pay["allocations"]:
        info = docs.get(ref)
        if info is None:
            raise RowError(line, f"applies_to names unknown document {ref!r}")
        if info.customer_ref != pay["customer_ref"]:
            raise RowError(line, f"applies_to document {ref!r} belongs to customer {info.customer_ref!r}")
        if info.type not in ITEM_TYPES:
            raise RowError(line, f"applies_to document {ref!r} is a {info.type}, not an invoice or debit note")
        if info.currency != pay["currency"]:
            raise RowError(line, f"currency {pay['currency']} does not match {ref!r} in {info.currency}")


def dedupe(line: int, ref: str, record: dict, seen: dict[str, tuple[int, dict]]) -> bool:
    """True if `ref` is new in this file; an identical repeat is dropped, a different one refused."""
    if ref in seen:
        first_line, first = seen[ref]
        if first != record:
            raise RowError(line, f"{ref!r} appears again with different content (first on line {first_line})")
        return False
    seen[ref] = (line, record)
    return True


def refs(rows: Iterable[dict], key: str) -> set[str]:
    return {r[key] for r in rows if r.get(key)}


# --- whole files --------------------------------------------------------------------------------
#
# The importer reads up to millions of lines, so each kind has a batch parser with a fast
# path: plain tuples, one loop, the few distinct values of a column (dates, currencies,
# types...) validated once and memoised, no exception and no dict per line. Any line the
# fast path does not take as it is (odd spacing, an amount to round, an error) goes through
# the parse_* function above, which decides what it means or which `line N: reason`
# refuses the file; so both paths always agree (tests/domain/test_csv_batches.py).

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

Record = tuple[int, Sequence[str]]  # (physical line, its fields as read, in *_COLUMNS order)


@dataclass
class Batch:
    """A file's records: one row per distinct ref, in file order, each a tuple in *_FIELDS
    order with its dates as ISO text ("2026-01-31"), as the storage layer writes them."""

    rows: list[tuple] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the physical line of each row
    index: dict[str, int] = field(default_factory=dict)  # ref -> position in rows
    allocations: list[tuple[tuple[str, int], ...]] = field(default_factory=list)  # payments: applies_to per row

    def __len__(self) -> int:
        return len(self.rows)

    def keep(self, line: int, row: tuple, allocations: tuple[tuple[str, int], ...] | None = None) -> None:
        """Add a row, unless its ref came before: an identical repeat is dropped, a different one refused."""
        n = len(self.rows)
        pos = self.index.setdefault(row[0], n)
        if pos == n:
            self.rows.append(row)
            self.lines.append(line)
            if allocations is not None:
                self.allocations.append(allocations)
        else:
            self.check_repeat(line, pos, row, allocations)

    def check_repeat(self, line: int, pos: int, row: tuple, allocations: tuple | None = None) -> None:
        if self.rows[pos] != row or (allocations is not None and self.allocations[pos] != allocations):
            raise RowError(line, f"{row[0]!r} appears again with different content (first on line {self.lines[pos]})")


class _Memo(dict):
    """key -> compute(key), computed once: for columns with few distinct values."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._compute(key)
        return value


def _field(check: Callable[[str], Any]) -> _Memo:
    """Raw field text -> what the (stripped) text stands for; None where the column refuses it."""
    return _Memo(lambda raw: check(raw.strip()))


def _iso_day(text: str) -> str | None:
    if len(text) != 10:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _code(text: str) -> str | None:
    code = text.upper()
    return code if _CURRENCY.match(code) else None


def _stripped(line: int, fields: Sequence[str], columns: tuple[str, ...]) -> dict[str, str] | None:
    """The record as parse_* take it; None for a line of nothing but separators and spaces."""
    values = [f.strip() for f in fields]
    if not any(values):
        return None
    if len(values) != len(columns):
        raise RowError(line, f"expected {len(columns)} fields, found {len(values)}")
    return dict(zip(columns, values, strict=True))


def parse_customers(records: Iterable[Record], defaults: CustomerDefaults) -> Batch:
    """Every customer line of a file, as parse_customer reads it (rows in CUSTOMER_FIELDS order)."""
    segments = _field(lambda t: (t or "default") if (t or "default") in defaults.segments else None)
    currencies = _field(_code)
    terms_of = _field(lambda t: (int(t) if t.isascii() and t.isdigit() and int(t) <= 3650 else None) if t else -1)
    locales = _field(lambda t: _check_locale(t or defaults.locale))
    zones = _field(lambda t: (t or defaults.timezone) if (t or defaults.timezone) in _zones() else None)
    countries = _field(lambda t: t.upper() if not t or _COUNTRY.match(t.upper()) else None)
    width = len(CUSTOMER_COLUMNS)
    batch = Batch()
    for line, fields in records:
        row = None
        if len(fields) == width:
            ref, name, segment, currency, limit, terms, locale, tz, country, rep, aliases = fields
            ref, name, segment, currency = ref.strip(), name.strip(), segments[segment], currencies[currency]
            terms, locale, tz, country = terms_of[terms], locales[locale], zones[tz], countries[country]
            cents = plain_cents(limit) if limit else None
            if (
                ref
                and name
                and segment
                and currency
                and (cents is not None or not limit)
                and terms is not None
                and locale
                and tz
                and country is not None
            ):
                if aliases:
                    aliases = "|".join(a for a in (a.strip() for a in aliases.split("|")) if a)
                terms = defaults.payment_terms_days if terms < 0 else terms
                row = (ref, name, segment, currency, cents, terms, locale, tz, country, rep.strip(), aliases)
        if row is None:
            rec = _stripped(line, fields, CUSTOMER_COLUMNS)
            if rec is None:
                continue
            parsed = parse_customer(line, rec, defaults)
            row = tuple(parsed[f] for f in CUSTOMER_FIELDS)
        batch.keep(line, row)
    return batch


def _check_locale(locale: str) -> str | None:
    m = _LOCALE.match(locale)
    return locale if m and m.group(1) in SUPPORTED_LANGUAGES else None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def parse_documents(records: Iterable[Record], customers: Mapping[str, CustomerInfo], action_offset_days: int) -> Batch:
    """Every document line of a file, as parse_document reads it (rows in DOCUMENT_FIELDS order).

    `next_action_on` is the due date + `action_offset_days`, None without a due date.
    Related documents are checked afterwards (check_related_documents), once the file is known.
    """
    offset = timedelta(days=action_offset_days)
    kinds = _field(lambda t: t.lower() if t.lower() in DOCUMENT_TYPES else None)
    days = _field(_iso_day)
    currencies = _field(_code)
    dues = _Memo(lambda key: (date.fromisoformat(key[0]) + timedelta(days=key[1])).isoformat())  # (issue, terms)
    nexts = _Memo(lambda due: (date.fromisoformat(due) + offset).isoformat())
    kind_of, day_of, code_of, due_of, next_of = kinds.get, days.get, currencies.get, dues.get, nexts.get
    customer_of = customers.get
    items = ITEM_TYPES
    width = len(DOCUMENT_COLUMNS)
    batch = Batch()
    index = batch.index
    first, keep_row, keep_line, n = index.setdefault, batch.rows.append, batch.lines.append, 0
    for line, fields in records:
        row = None
        if len(fields) == width:
            ref, cref, kind, issue, due, amount, currency, related = fields
            ref = ref.strip()
            customer = customer_of(cref)
            kind = kind_of(kind) or kinds[kind]
            issue = day_of(issue) or days[issue]
            currency = code_of(currency) or currencies[currency]
            digits = amount.replace(".", "", 1)  # isdecimal(): what int(), like Decimal, reads as digits
            cents = (
                int(digits) if amount[-3:-2] == "." and len(digits) > 2 and digits.isdecimal() else plain_cents(amount)
            )
            if ref and customer and kind and issue and currency and cents:
                related = related.strip() or None
                if kind not in items:
                    row = (ref, customer[0], kind, issue, None, cents, currency, related, None)
                elif not due:
                    due = due_of((issue, customer[2])) or dues[issue, customer[2]]
                    row = (ref, customer[0], kind, issue, due, cents, currency, related, next_of(due) or nexts[due])
                else:
                    due = day_of(due) or days[due]
                    if due and due >= issue:  # ISO dates compare as the days they are
                        row = (ref, customer[0], kind, issue, due, cents, currency, related, next_of(due) or nexts[due])
        if row is None:
            rec = _stripped(line, fields, DOCUMENT_COLUMNS)
            if rec is None:
                continue
            d = parse_document(line, rec, customers)
            due = d["due_date"]
            after = None if due is None else due + offset
            row = (*(d[f] for f in DOCUMENT_FIELDS[:3]), _iso(d["issue_date"]), _iso(due))
            row = (*row, d["amount_cents"], d["currency"], d["related_ref"], _iso(after))
            ref = row[0]
        if first(ref, n) == n:
            keep_row(row)
            keep_line(line)
            n += 1
        else:
            batch.check_repeat(line, index[ref], row)
    return batch


def related_refs(docs: Batch) -> set[str]:
    """Documents named as related that are not in the file itself (the ledger must have them)."""
    return {ref for ref in map(itemgetter(7), docs.rows) if ref is not None} - docs.index.keys()


def check_related_documents(docs: Batch, ledger: Mapping[str, DocInfo], customers: Mapping[str, CustomerInfo]) -> None:
    """check_related for every line naming a related document, in the file or else in `ledger`."""
    rows, index = docs.rows, docs.index
    ref_of: dict[int, str] = {}
    for pos in compress(count(), map(itemgetter(7), rows)):
        ref, cid, kind, _, _, _, currency, rel, _ = rows[pos]
        if not ref_of:
            ref_of = {info.id: cref for cref, info in customers.items()}
        at = index.get(rel)
        if at is None:
            related = ledger.get(rel)
        else:
            target = rows[at]
            related = DocInfo(ref_of[target[1]], target[2], target[6])
        doc = {"ref": ref, "customer_ref": ref_of[cid], "type": kind, "currency": currency, "related_ref": rel}
        check_related(docs.lines[pos], doc, related)


def parse_payments(records: Iterable[Record], customers: Mapping[str, CustomerInfo]) -> Batch:
    """Every payment line of a file, as parse_payment reads it: rows in PAYMENT_FIELDS order,
    each one's applies_to in `allocations`. check_payment_targets then checks what they name."""
    days = _field(_iso_day)
    currencies = _field(_code)
    day_of, code_of, customer_of = days.get, currencies.get, customers.get
    width = len(PAYMENT_COLUMNS)
    batch = Batch()
    for line, fields in records:
        row = None
        if len(fields) == width:
            ref, cref, day, amount, currency, method, applies_to = fields
            ref = ref.strip()
            customer = customer_of(cref)
            day = day_of(day) or days[day]
            currency = code_of(currency) or currencies[currency]
            cents = plain_cents(amount)
            if ref and customer and day and currency and cents:
                allocations = _plain_allocations(applies_to) if applies_to else ()
                if allocations is not None and sum(c for _, c in allocations) <= cents:
                    row = (ref, customer[0], day, cents, currency, method.strip())
        if row is None:
            rec = _stripped(line, fields, PAYMENT_COLUMNS)
            if rec is None:
                continue
            p = parse_payment(line, rec, customers)
            row = (p["ref"], p["customer_id"], _iso(p["date"]), p["amount_cents"], p["currency"], p["method"])
            allocations = tuple(p["allocations"])
        batch.keep(line, row, allocations)
    return batch


def _plain_allocations(text: str) -> tuple[tuple[str, int], ...] | None:
    """applies_to as parse_allocations reads it, when plainly written; None for anything else."""
    out = []
    for part in text.split("|"):
        ref, sep, amount = part.rpartition(":")
        ref = ref.strip()
        cents = plain_cents(amount)
        if not (sep and ref and cents):
            return None
        out.append((ref, cents))
    if len(out) > 1 and len({ref for ref, _ in out}) != len(out):
        return None
    return tuple(out)


def allocation_refs(payments: Batch) -> set[str]:
    return {ref for allocations in payments.allocations for ref, _ in allocations}


def check_payment_targets(
    payments: Batch, ledger: Mapping[str, DocInfo], customers: Mapping[str, CustomerInfo]
) -> None:
    """check_allocation_targets for every payment with an applies_to."""
    ref_of: dict[int, str] = {}
    for pos in compress(count(), payments.allocations):
        if not ref_of:
            ref_of = {info.id: cref for cref, info in customers.items()}
        allocations = payments.allocations[pos]
        _, cid, _, _, currency, _ = payments.rows[pos]
        cref = ref_of[cid]
        for ref, _ in allocations:
            info = ledger.get(ref)
            if info is None or info.customer_ref != cref or info.type not in ITEM_TYPES or info.currency != currency:
                pay = {"customer_ref": cref, "currency": currency, "allocations": allocations}
                check_allocation_targets(payments.lines[pos], pay, ledger)
