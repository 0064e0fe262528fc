"""The date from which an open item is settled by the credit its customer's ledger holds.

The sweep need not look at an item on a day it is settled (storage/arming.py). "Settled
on day t" means: bot.domain.balances.compute_balance at as_of t gives it no open amount.
This module computes, from each customer's whole ledger, a day S per item such that the
item is settled on every day t >= S, by DESIGN "Balance rules", per currency:

- Steps 1 and 2 (credit notes and withholdings naming an item, payments' applies_to)
  reduce the item by the sum of what names it, capped at its amount; exactly so when
  every payment of that currency allocates at most its own amount (the importer refuses
  any other). An item they settle is settled from the latest of its issue date and the
  dates of what names it: from then on all of that counts, and none of it can go to
  another item first.
- Step 3 pours the rest of all credit into the items, oldest first (due date, issue
  date, ref): an item is settled when the items up to it take no more than that rest.
  It is then settled from the latest of its issue date and the latest credit or payment
  of that currency: on any later day every credit counts, and a document not issued yet
  only leaves more credit to the others (what names it goes to the pool instead).
For a currency where a payment allocates more than its amount, nothing is claimed. None
means "not known to be settled": the item stays armed, which costs a look, never a
reminder. Dates are compared as given (date objects or ISO text, one kind per call).

Bulk and plain: rows are tuples as the storage layer reads them, many customers at once.
"""

from __future__ import annotations

from collections.abc import Iterable

# Row layouts (items may carry further fields after these):
#   item:       (customer, id, currency, ref, amount_cents, issue_date, due_date)  invoices and debit notes
#   credit:     (customer, currency, related_ref or None, amount_cents, issue_date)  credit notes, withholdings
#   payment:    (customer, currency, amount_cents, date, exact)  confirmed payments; exact: its applies_to
#               allocates no more than its amount (the importer refuses any other)
#   allocation: (customer, currency, document ref, amount_cents, date)  the payments' applies_to parts


def settled_days(
    items: Iterable[tuple],
    credits: Iterable[tuple],
    payments: Iterable[tuple],
    allocations: Iterable[tuple],
) -> dict[int, object]:
    """item id -> the day from which it is settled, for the items (rows) that are; an item not in the
    answer is not known to be settled. Given the customers' whole ledgers: every credit, payment and
    allocation of each customer whose items are given."""
    pools: dict[tuple, list] = {}  # (customer, currency) -> [all credit, latest day, every payment exact, ...]
    named: dict[str, list] = {}  # item ref -> [cents naming it, latest day, customer, currency]
    for cid, cur, related, cents, day in credits:
        _add(pools, (cid, cur), cents, day)
        if related is not None:
            _name(named, related, cid, cur, cents, day)
    get = named.get
    for cid, cur, ref, cents, day in allocations:  # _name inlined: as many as there are payments
        hit = get(ref)
        if hit is None:
            named[ref] = [cents, day, cid, cur]
        elif hit[2] == cid and hit[3] == cur:
            hit[0] += cents
            if day > hit[1]:
                hit[1] = day
        else:
            _name(named, ref, cid, cur, cents, day)
    get = pools.get
    for cid, cur, cents, day, exact in payments:
        key = (cid, cur)
        pool = get(key)
        if pool is None:
            pool = pools[key] = [cents, day, True, 0, 0, []]
        else:
            pool[0] += cents
            if day > pool[1]:
                pool[1] = day
        if not exact:
            pool[2] = False

    # Steps 1 and 2 per item; an item they settle is settled from the day the last of what names it
    # came. The others wait in their pool (customer, currency) for step 3: pool[3] is what steps 1-2
    # used of its credit, pool[4] what the waiting items still lack, pool[5] those items with it.
    out: dict[int, object] = {}
    nget = named.get
    for row in items:
        pool = get((row[0], row[2]))
        if pool is None or not pool[2]:  # no credit in that currency, or not exactly known
            continue
        amount = row[4]
        hit = nget(row[3])
        if hit is not None and not (hit[2] == row[0] and hit[3] == row[2]):
            hit = _named(named, row[3], row[0], row[2])
        if hit is None:
            if amount:
                pool[4] += amount
                pool[5].append((row, amount))
            else:
                out[row[1]] = row[5]
        elif amount > hit[0]:
            pool[3] += hit[0]
            pool[4] += amount - hit[0]
            pool[5].append((row, amount - hit[0]))
        else:
            pool[3] += amount
            issue = row[5]
            out[row[1]] = issue if hit[1] < issue else hit[1]
    # Step 3: the rest of all credit, oldest item first.
    for total, latest, _, used, rests, rows in pools.values():
        left = total - used
        if not rows or left <= 0:
            continue
        if left >= rests:  # enough for all of them: order does not matter
            for row, _ in rows:
                out[row[1]] = row[5] if latest < row[5] else latest
            continue
        rows.sort(key=lambda entry: (entry[0][6], entry[0][5], entry[0][3]))
        for row, rest in rows:
            left -= rest
            if left < 0:
                break
            out[row[1]] = row[5] if latest < row[5] else latest
    return out


def _named(named: dict[str, list], ref: str, cid: object, cur: str) -> list | None:
    """[cents, latest day] of what names this customer's item `ref` in currency `cur`, if anything."""
    hit = named.get(ref)
    if hit is None or (hit[2] == cid and hit[3] == cur):
        return hit
    return hit[4].get((cid, cur)) if len(hit) > 4 else None


def _name(named: dict[str, list], ref: str, cid: object, cur: str, cents: int, day: object) -> None:
    """Add what names `ref` for customer `cid` in `cur`. A ref is one document, so it comes with one
    customer and currency; others (a document moved to another customer) are kept beside."""
    hit = named.get(ref)
    if hit is None:
        named[ref] = [cents, day, cid, cur]
        return
    if not (hit[2] == cid and hit[3] == cur):
        if len(hit) == 4:
            hit.append({})
        other = hit[4].get((cid, cur))
        if other is None:
            hit[4][(cid, cur)] = [cents, day]
            return
        hit = other
    hit[0] += cents
    if day > hit[1]:
        hit[1] = day


def _add(into: dict[tuple, list], key: tuple, cents: int, day: object) -> list:
    """into[key] = [cents so far, latest day, True, 0, 0, []] (settled_days' pool): add `cents` on `day`."""
    hit = into.get(key)
    if hit is None:
        hit = into[key] = [cents, day, True, 0, 0, []]
    else:
        hit[0] += cents
        if day > hit[1]:
            hit[1] = day
    return hit
