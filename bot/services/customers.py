"""Finding a customer by ref, name or alias, the way a person types it (DESIGN "Interfaces", CUSTOMER).

One path: the rows come from the database's indexes (storage.customer_keys: the B-tree
on the folded key for an exact match, else the trigram index), the decision from
bot.domain.names.decide. `find` says whether the match was exact; `resolve_exact` is for
commands that change something, which need an exact ref, name or alias.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from bot.domain.names import Resolution, decide, probe, query_keys, settled
from storage import customer_keys
from storage.engine import reading
from storage.rawsql import fetch_in

MAX_LISTED = 10  # candidates named in an ambiguity message


class CustomerNotFound(LookupError):
    """No customer matches; `suggestions` are labels of near ones ("REF (Name)")."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no customer matches {query!r}{hint}")
        self.suggestions = suggestions


class CustomerAmbiguous(LookupError):
    """Several customers match equally well; `candidates` are their labels, best first."""

    def __init__(self, query: str, candidates: list[str], more: int = 0, note: str = "") -> None:
        rest = f" and {more} more" if more else ""
        super().__init__(f"{query!r} matches several customers: {', '.join(candidates)}{rest}{note}")
        self.candidates = candidates
        self.more = more


class CustomerNotExact(LookupError):
    """A command that changes something got a lenient match: it needs an exact ref, name or alias."""

    def __init__(self, query: str, closest: str) -> None:
        super().__init__(
            f"{query!r} is not an exact ref, name or alias, which this command needs; the closest is {closest}"
        )
        self.closest = closest


@dataclass(frozen=True)
class CustomerRow:
    id: int
    ref: str
    name: str
    segment: str
    currency: str
    credit_limit_cents: int | None
    payment_terms_days: int
    locale: str
    timezone: str
    country: str
    sales_rep_slack_id: str
    credit_hold: bool


_BY_ID = f"SELECT {', '.join(CustomerRow.__dataclass_fields__)} FROM customer WHERE id IN ({{ids}})"


def customers_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, CustomerRow]:
    """Through the driver (the sweep reads thousands per run); SQLite gives credit_hold back as 0/1."""
    out: dict[int, CustomerRow] = {}
    for row in fetch_in(conn, _BY_ID, ids):
        out[row[0]] = CustomerRow(*row[:-1], bool(row[-1]))
    return out


def _label(c: CustomerRow) -> str:
    return f"{c.ref} ({c.name})"


@dataclass(frozen=True)
class Found:
    """The customer a query names, and whether by an exact (folded) ref, name or alias."""

    customer: CustomerRow
    exact: bool

    @property
    def label(self) -> str:
        """How messages name the customer: "REF (Name)"."""
        return _label(self.customer)


def resolution(conn: Connection, query: str) -> Resolution:
    """bot.domain.names.decide over the rows the indexes give: exact keys, else the narrow
    trigram probe, else (nothing close enough) the wide one."""
    exact = customer_keys.exact(conn, query_keys(query))
    if exact:
        return decide(query, exact)
    narrow = customer_keys.candidates(conn, probe(query))
    res = decide(query, narrow)
    if settled(res):
        return res
    wide = customer_keys.candidates(conn, probe(query, wide=True))
    return decide(query, [*narrow, *wide])


def find(conn: Connection, query: str) -> Found:
    """The customer `query` means, matched leniently (DESIGN "Interfaces", CUSTOMER).

    Raises CustomerAmbiguous (a tie, candidates best first; the CLI exits 2) or
    CustomerNotFound (with suggestions; exit 1).
    """
    res = resolution(conn, query)
    if res.match is not None:
        return Found(customers_by_id(conn, [res.match])[res.match], res.exact)
    if res.candidates:
        listed = list(res.candidates[:MAX_LISTED])
        found = customers_by_id(conn, listed)
        raise CustomerAmbiguous(
            query, [_label(found[i]) for i in listed if i in found], len(res.candidates) - len(listed)
        )
    found = customers_by_id(conn, list(res.suggestions))
    raise CustomerNotFound(query, [_label(found[i]) for i in res.suggestions if i in found])


def resolve(conn: Connection, query: str) -> CustomerRow:
    """`find`'s customer (for callers that do not tell the user about a lenient match)."""
    return find(conn, query).customer


def resolve_exact(conn: Connection, query: str) -> CustomerRow:
    """The customer whose ref, name or alias is `query` after folding: for commands that change
    something (hold, credit-hold, step approve). Raises CustomerNotExact naming the lenient
    match, CustomerAmbiguous (two customers share the key, or a tie) or CustomerNotFound."""
    try:
        found = find(conn, query)
    except CustomerAmbiguous as exc:
        raise CustomerAmbiguous(query, exc.candidates, exc.more, "; this command needs the exact ref") from None
    if not found.exact:
        raise CustomerNotExact(query, found.label)
    return found.customer


def lookup(engine: Engine, query: str) -> Found:
    """`find` in its own read-only transaction (storage.engine.reading). Raises like `find`."""
    with reading(engine) as conn:
        return find(conn, query)
