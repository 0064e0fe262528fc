"""Finding a customer by ref, name or alias, the way a person types it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from bot.domain.names import NameIndex, fold
from storage.tables import Customer, CustomerKey


class CustomerNotFound(LookupError):
    def __init__(self, query: str, suggestions: list[str]) -> None:
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no customer matches {query!r}{hint}")
        self.suggestions = suggestions


class CustomerAmbiguous(LookupError):
    def __init__(self, query: str, candidates: list[str]) -> None:
        super().__init__(f"{query!r} matches several customers: {', '.join(candidates)}")
        self.candidates = candidates


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


_COLUMNS = [getattr(Customer.__table__.c, f) for f in CustomerRow.__dataclass_fields__]


def customers_by_id(conn: Connection, ids: list[int]) -> dict[int, CustomerRow]:
    out: dict[int, CustomerRow] = {}
    for i in range(0, len(ids), 900):
        q = select(*_COLUMNS).where(Customer.__table__.c.id.in_(ids[i : i + 900]))
        out.update({r[0]: CustomerRow(*r) for r in conn.execute(q)})
    return out


def _label(c: CustomerRow) -> str:
    return f"{c.ref} ({c.name})"


def resolve(conn: Connection, query: str) -> CustomerRow:
    """Exact folded match by index first; fuzzy over every key only when that fails."""
    k = CustomerKey.__table__
    ids = sorted(set(conn.execute(select(k.c.customer_id).where(k.c.key == fold(query))).scalars()))
    if len(ids) == 1:
        return customers_by_id(conn, ids)[ids[0]]
    if not ids:
        index = NameIndex(conn.execute(select(k.c.customer_id, k.c.key)).tuples())
        res = index.resolve(query)
        if res.match is not None:
            return customers_by_id(conn, [res.match])[res.match]
        if not res.candidates:
            found = customers_by_id(conn, list(res.suggestions))
            raise CustomerNotFound(query, [_label(found[i]) for i in res.suggestions if i in found])
        ids = list(res.candidates)
    found = customers_by_id(conn, ids)
    raise CustomerAmbiguous(query, [_label(found[i]) for i in ids if i in found])
