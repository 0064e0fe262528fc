"""A payment the debtor claimed in Telegram and credit staff confirmed, and the ERP's own record of it.

The ERP is the book of record: sooner or later its payments file brings the same payment.
Counting both would halve what the customer seems to owe. The rule (README "I paid"):

- a confirmed claim counts in balances from its confirmation on, like an imported payment;
- it stops counting once an imported payment of the same customer and currency is "the same
  payment": one whose ref equals the claim's bank reference as the debtor typed it (case and
  spaces aside), or else one of exactly the same amount dated from MATCH_DAYS_BEFORE days
  before to MATCH_DAYS_AFTER days after the date the debtor gave;
- each imported payment stands in for at most one claim: claims are matched oldest first, a
  reference match before an amount match, the nearest date first, then the imported ref.

(An ERP export that carries the claim's own ref, `CLAIM-<id>`, simply updates the claim's row
on import: one row, counted once.) Matching happens when a balance is computed, from the whole
ledger, so the order of imports and confirmations never changes an answer. Pure: plain data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

MATCH_DAYS_BEFORE = 7  # the ERP may book the bank's value date, a little before the date the debtor gave
MATCH_DAYS_AFTER = 30  # or books it weeks later


@dataclass(frozen=True)
class PaymentFact:
    """What matching needs of a payment: `reference` is the debtor's bank reference ("" for imported ones)."""

    ref: str
    day: date
    cents: int
    currency: str
    reference: str = ""


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def superseded_claims(claims: Sequence[PaymentFact], imported: Sequence[PaymentFact]) -> set[str]:
    """Refs of the confirmed `claims` that an imported payment stands in for (they must not count again)."""
    taken: set[str] = set()
    out: set[str] = set()
    for claim in sorted(claims, key=lambda c: (c.day, c.ref)):
        wanted = _norm(claim.reference)
        best: tuple | None = None
        for pay in imported:
            if pay.ref in taken or pay.currency != claim.currency:
                continue
            if wanted and _norm(pay.ref) == wanted:
                rank = 0
            elif pay.cents == claim.cents and -MATCH_DAYS_BEFORE <= (pay.day - claim.day).days <= MATCH_DAYS_AFTER:
                rank = 1
            else:
                continue
            key = (rank, abs((pay.day - claim.day).days), pay.ref)
            if best is None or key < best[0]:
                best = (key, pay.ref)
        if best is not None:
            taken.add(best[1])
            out.add(claim.ref)
    return out


def allocate_claim(items: Sequence[tuple[str, int]], amount_cents: int) -> list[tuple[str, int]]:
    """Spread a claimed payment over the invoices the debtor chose, in their order (oldest first), each up
    to its open amount: `items` is [(doc ref, open cents)]; what is left over stays on the payment, where
    the balance rules apply it to the oldest open items (DESIGN "Balance rules", step 3)."""
    out: list[tuple[str, int]] = []
    left = amount_cents
    for ref, open_cents in items:
        used = min(left, max(open_cents, 0))
        if used > 0:
            out.append((ref, used))
            left -= used
    return out
