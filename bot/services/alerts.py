"""Staff alerts raised by a debtor's action or a decision about it: rendered, escaped, recorded once.

The text is Slack mrkdwn from `messages/en/staff/<template>.txt.j2`; every value reaches the
template escaped for mrkdwn (& < >), in every field, so a debtor's words can never become a
mention or a link (DESIGN "Chat behaviour"). The alert is recorded in the caller's transaction
(storage.outbox.add_alert) and posted after it commits by the delivery path; `payload` carries
what a Slack button or thread needs (e.g. {"decision": "payment", "id": 12}).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from bot.services.customers import CustomerRow
from messages import render
from messages.formatting import slack_escape
from storage.outbox import add_alert


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return slack_escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    return value


def staff_alert(
    conn: Connection,
    *,
    key: str,
    customer: CustomerRow,
    kind: str,
    now: datetime,
    doc_refs: Sequence[str] = (),
    payload: dict | None = None,
    **ctx: object,
) -> bool:
    """Record the alert `staff/<kind>` about `customer` once per `key`; True if this call recorded it."""
    text = render(
        f"staff/{kind}",
        "en",
        customer={"ref": slack_escape(customer.ref), "name": slack_escape(customer.name)},
        sales_rep=customer.sales_rep_slack_id,
        **{k: _escaped(v) for k, v in ctx.items()},
    )
    return add_alert(
        conn, key=key, customer_id=customer.id, kind=kind, text=text, at=now, doc_refs=doc_refs, payload=payload
    )
