"""The daily digest for credit staff (DESIGN "Chat behaviour": a daily digest posted to the channel).

"Today" is the company's calendar date (COLLECTBOT_TIMEZONE): from its local midnight
to the next. What the digest holds, and where each fact is read from:

- `reminders`: the outbox rows recorded today (storage.tables.ReminderSend, the record
  of what was sent), skipped steps left out: messages (one per customer and sweep,
  counted by message key) and items per status (`sent`, `no_channel`, `unknown`,
  `failed`, `sending`), and messages per tone (the step of the message).
- `escalations`: staff alerts raised today that escalate to credit staff: formal
  notices (`formal_notice`), broken payment plans (`plan_broken`) and any other
  `escalated` alert (storage.tables.StaffAlert, recorded once per key).
- `promises_due`: promises to pay whose promised date is today, with their status.
- `promises_broken`: promises found broken today (timeline events `promise_broken`).
- `disputes_open`: every dispute still open, oldest first, with its age in days.
- `claims_waiting`: every payment a debtor claimed that credit staff have not yet
  confirmed or rejected, oldest first, with its age in days.

Ages count company dates: opened yesterday is 1 day old.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from bot.domain.money import cents_str
from storage import report_reads

ESCALATION_KINDS = ("formal_notice", "plan_broken", "escalated")
OUTBOX_STATUSES = ("sent", "no_channel", "unknown", "failed", "sending")


def day_window(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the company's calendar date `day` (23 or 25 hours on a DST change)."""
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end


def _customer(row) -> dict:  # noqa: ANN001
    return {"customer_ref": row.customer_ref, "name": row.name, "sales_rep_slack_id": row.sales_rep_slack_id or None}


def _age(day: date, at: datetime, tz: ZoneInfo) -> int:
    return (day - at.astimezone(tz).date()).days


def digest_document(conn: Connection, day: date, tz: ZoneInfo, *, rep_slack_id: str | None = None) -> dict:
    """The digest for the company date `day` (see the module's definitions).

    Shape: {"date", "timezone", "rep_slack_id", "counts": {"reminders_sent", "escalations",
    "promises_due", "promises_broken", "disputes_open", "claims_waiting"}, "reminders":
    {"messages": {status: n}, "items": {status: n}, "by_step": {step: n}}, "escalations":
    [{customer, "kind", "at"}], "promises_due": [{customer, "promise_id", "doc_ref",
    "promised_date", "amount", "currency", "status"}], "promises_broken": [{customer,
    "doc_refs", "at"}], "disputes_open": [{customer, "dispute_id", "doc_refs", "reason",
    "text", "opened_by", "opened_at", "age_days"}], "claims_waiting": [{customer,
    "payment_id", "payment_ref", "doc_refs", "date", "amount", "currency", "reference",
    "method", "claimed_at", "age_days"}]}, where customer is "customer_ref", "name",
    "sales_rep_slack_id"; `at` values are ISO 8601 with offset, in the company's zone.
    """
    start, end = day_window(day, tz)

    def local(at: datetime) -> str:
        return at.astimezone(tz).isoformat()

    messages = {s: set() for s in OUTBOX_STATUSES}
    items = dict.fromkeys(OUTBOX_STATUSES, 0)
    by_step: dict[str, set[tuple]] = {}
    for status, step, tone, message in report_reads.outbox_rows(conn, start, end, rep_slack_id):
        messages.setdefault(status, set()).add(message)
        items[status] = items.get(status, 0) + 1
        if status in ("sent", "no_channel"):
            by_step.setdefault(tone or step, set()).add(message)
    escalations = [
        _customer(r) | {"kind": r.kind, "at": local(r.created_at)}
        for r in report_reads.staff_alerts(conn, start, end, ESCALATION_KINDS, rep_slack_id)
    ]
    promises_due = [
        _customer(r)
        | {
            "promise_id": r.id,
            "doc_ref": r.doc_ref,
            "promised_date": r.promised_date.isoformat(),
            "amount": cents_str(r.amount_cents),
            "currency": r.currency,
            "status": r.status,
        }
        for r in report_reads.promises_due(conn, day, rep_slack_id)
    ]
    promises_broken = [
        _customer(r) | {"doc_refs": list(r.doc_refs or []), "at": local(r.at)}
        for r in report_reads.events_of_kind(conn, start, end, "promise_broken", rep_slack_id)
    ]
    disputes = [
        _customer(r)
        | {
            "dispute_id": r.id,
            "doc_refs": refs,
            "reason": r.reason,
            "text": r.text,
            "opened_by": r.opened_by,
            "opened_at": local(r.opened_at),
            "age_days": _age(day, r.opened_at, tz),
        }
        for r, refs in report_reads.open_disputes(conn, rep_slack_id)
    ]
    claims = [
        _customer(r)
        | {
            "payment_id": r.id,
            "payment_ref": r.ref,
            "doc_refs": refs,
            "date": r.date.isoformat(),
            "amount": cents_str(r.amount_cents),
            "currency": r.currency,
            "reference": r.reference,
            "method": r.method,
            "claimed_at": None if r.created_at is None else local(r.created_at),
            "age_days": None if r.created_at is None else _age(day, r.created_at, tz),
        }
        for r, refs in report_reads.claimed_payments(conn, rep_slack_id)
    ]
    message_counts = {s: len(keys) for s, keys in messages.items()}
    return {
        "date": day.isoformat(),
        "timezone": tz.key,
        "rep_slack_id": rep_slack_id,
        "counts": {
            "reminders_sent": message_counts.get("sent", 0),
            "escalations": len(escalations),
            "promises_due": len(promises_due),
            "promises_broken": len(promises_broken),
            "disputes_open": len(disputes),
            "claims_waiting": len(claims),
        },
        "reminders": {
            "messages": message_counts,
            "items": items,
            "by_step": {step: len(keys) for step, keys in sorted(by_step.items())},
        },
        "escalations": escalations,
        "promises_due": promises_due,
        "promises_broken": promises_broken,
        "disputes_open": disputes,
        "claims_waiting": claims,
    }
