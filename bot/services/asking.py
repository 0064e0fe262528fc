"""Finding the customer a Slack user asks about, among the customers that user may see.

The core's name rules (bot.services.customers, DESIGN "Interfaces", CUSTOMER) decide,
but over the visible customers only (bot.services.visibility), so an answer never
names, lists or suggests a customer the asker may not see:

- someone who sees nothing is refused before any look-up (`NoAccess`);
- a name that exactly names only customers the asker may not see is refused
  (`NoAccess`: the asker typed the name, so nothing is learnt but "not yours");
- otherwise the exact/lenient/ambiguous decision runs on the index rows of visible
  customers only: a lenient match (`Found.exact` False) says which customer it chose,
  a tie lists only visible candidates (`Ambiguous`), and an unknown name suggests only
  visible ones (`NotFound`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from bot.domain.names import decide, probe, query_keys, settled
from bot.services.customers import CustomerRow, customers_by_id
from bot.services.visibility import Visibility
from storage import customer_keys
from storage.customer_keys import Candidate
from storage.tables import Customer

MAX_CHOICES = 10  # ambiguous candidates offered as buttons


@dataclass(frozen=True)
class Found:
    customer: CustomerRow
    exact: bool


@dataclass(frozen=True)
class Ambiguous:
    choices: tuple[CustomerRow, ...]  # visible candidates, best first, at most MAX_CHOICES
    more: int  # visible candidates left out


@dataclass(frozen=True)
class NotFound:
    suggestions: tuple[CustomerRow, ...]  # visible near names


@dataclass(frozen=True)
class NoAccess:
    """The asker may not see this customer (or any): say so, and nothing else."""


Lookup = Found | Ambiguous | NotFound | NoAccess


def may_see(vis: Visibility, customer: CustomerRow) -> bool:
    return vis.may_see(customer.sales_rep_slack_id or "")


def _visible(conn: Connection, vis: Visibility, rows: Sequence[Candidate]) -> list[Candidate]:
    if vis.credit_staff or not rows:
        return list(rows)
    found = customers_by_id(conn, sorted({r[0] for r in rows}))
    return [r for r in rows if r[0] in found and may_see(vis, found[r[0]])]


def find_visible(conn: Connection, query: str, vis: Visibility) -> Lookup:
    """The customer `query` names among those `vis` may see (see the module's rules)."""
    if vis.sees_nothing:
        return NoAccess()
    every_exact = customer_keys.exact(conn, query_keys(query))
    exact = _visible(conn, vis, every_exact)
    if every_exact and not exact:
        return NoAccess()
    if exact:
        res = decide(query, exact)
    else:
        narrow = _visible(conn, vis, customer_keys.candidates(conn, probe(query)))
        res = decide(query, narrow)
        if not settled(res):
            wide = _visible(conn, vis, customer_keys.candidates(conn, probe(query, wide=True)))
            res = decide(query, [*narrow, *wide])
    if res.match is not None:
        return Found(customers_by_id(conn, [res.match])[res.match], res.exact)
    if res.candidates:
        listed = list(res.candidates[:MAX_CHOICES])
        rows = customers_by_id(conn, listed)
        return Ambiguous(tuple(rows[i] for i in listed if i in rows), len(res.candidates) - len(listed))
    rows = customers_by_id(conn, list(res.suggestions))
    return NotFound(tuple(rows[i] for i in res.suggestions if i in rows))


def customer_for_click(conn: Connection, customer_ref: str, vis: Visibility) -> CustomerRow | None:
    """The customer a button names (by its ref), if the clicker may see it now; None otherwise.

    Button values are never trusted: access is checked again on every click."""
    t = Customer.__table__
    cid = conn.execute(select(t.c.id).where(t.c.ref == customer_ref)).scalar()
    if cid is None or vis.sees_nothing:
        return None
    c = customers_by_id(conn, [cid]).get(cid)
    return c if c is not None and may_see(vis, c) else None
