"""Validation of the ERP's CSV rows into plain records, line by line.

Pure: the caller reads the file and looks up what already exists in the ledger;
this module decides what each physical line means or which `line N: reason`
refuses the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import available_timezones

from bot.domain.ledger import CREDIT_TYPES, DOCUMENT_TYPES, ITEM_TYPES
from bot.domain.money import AmountError, parse_csv_amount

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


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    id: int
    currency: str
    payment_terms_days: int


@dataclass(frozen=True, slots=True)
class DocInfo:
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
