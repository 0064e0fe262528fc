"""The outbox: intent before a send, result after; unique keys make duplicates impossible."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Connection, select, update

from bot.domain.ladder import StepRecord
from storage.rawsql import as_date, fetch_in
from storage.sql import dialect_insert as _insert
from storage.tables import Contact, Document, ReminderSend, StaffAlert

KEY_LENGTH = 128  # reminder_send.key and staff_alert.key


def fit_key(key: str) -> str:
    """`key` itself when it fits its column; else its first 80 characters and a digest of the whole,
    so a key built from many refs can never overflow (and two long keys still differ)."""
    if len(key) <= KEY_LENGTH:
        return key
    return f"{key[:80]}#{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def doc_key(document_id: int, step: str) -> str:
    """The reminder outbox key of one document's step: "doc:<document id>:<step>" (once per item and
    step, ever: DESIGN "Reliability and security").
    """
    return f"doc:{document_id}:{step}"


def claim(conn: Connection, rows: Sequence[dict]) -> set[str]:
    """Insert outbox rows; returns the keys this caller won (a duplicate key is someone else's)."""
    if not rows:
        return set()
    t = ReminderSend.__table__
    stmt = _insert(conn, t).on_conflict_do_nothing(index_elements=["key"]).returning(t.c.key)
    won: set[str] = set()
    for row in rows:  # one by one: RETURNING with executemany is not portable
        won.update(conn.execute(stmt, row).scalars())
    return won


def add_alert(
    conn: Connection,
    *,
    key: str,
    customer_id: int | None,
    kind: str,
    text: str,
    at: datetime,
    doc_refs: Sequence[str] = (),
    payload: dict | None = None,
) -> bool:
    """Record a staff alert (status pending) once per key, in the caller's transaction; True if this call created it.

    A key longer than its column is shortened with a digest of the whole (`fit_key`).

    `text` is Slack mrkdwn with every user value already escaped; `payload` is plain JSON for the
    adapter that posts it (e.g. {"decision": "plan", "id": 3} for Approve / Reject buttons). It is
    posted after the caller commits (DESIGN "Reliability": no network call inside a transaction).
    """
    t = StaffAlert.__table__
    stmt = _insert(conn, t).on_conflict_do_nothing(index_elements=["key"]).returning(t.c.id)
    row = {
        "key": fit_key(key),
        "customer_id": customer_id,
        "kind": kind,
        "text": text,
        "status": "pending",
        "doc_refs": list(doc_refs),
        "payload": payload or {},
        "attempts": 0,
        "claimed_by": "",
        "slack_channel": "",
        "slack_ts": "",
        "error": "",
        "created_at": at,
    }
    return conn.execute(stmt, row).first() is not None


_HISTORY = (
    "SELECT t.customer_id, d.ref, t.step, t.status, t.local_date FROM reminder_send t "
    "JOIN document d ON d.id = t.document_id WHERE t.document_id IN ({ids})"
)


def history(conn: Connection, document_ids: Sequence[int]) -> dict[int, dict[str, dict[str, StepRecord]]]:
    """customer id -> document ref -> step -> record, for these documents (the sweep's hot path: raw rows)."""
    out: dict[int, dict[str, dict[str, StepRecord]]] = defaultdict(lambda: defaultdict(dict))
    for cid, ref, step, status, day in fetch_in(conn, _HISTORY, sorted(document_ids)):
        out[cid][ref][step] = StepRecord(status, as_date(day))
    return out


def alert_keys(conn: Connection, customer_ids: Sequence[int], kind: str) -> set[str]:
    """Keys of the staff alerts of `kind` already recorded about these customers."""
    sql = "SELECT key FROM staff_alert WHERE customer_id IN ({ids}) AND kind = {p}"
    return {key for (key,) in fetch_in(conn, sql, customer_ids, kind)}


def reachable_contacts(conn: Connection, customer_ids: Sequence[int]) -> dict[int, list[tuple[int, int, str | None]]]:
    """customer id -> [(contact id, chat id, locale)] of linked chats that have not blocked the bot."""
    c = Contact.__table__
    out: dict[int, list[tuple[int, int, str | None]]] = defaultdict(list)
    for i in range(0, len(customer_ids), 900):
        q = (
            select(c.c.customer_id, c.c.id, c.c.telegram_chat_id, c.c.locale)
            .where(
                c.c.customer_id.in_(customer_ids[i : i + 900]),
                c.c.telegram_chat_id.is_not(None),
                c.c.reachable.is_(True),
            )
            .order_by(c.c.customer_id, c.c.id)
        )
        for cid, contact_id, chat, loc in conn.execute(q):
            out[cid].append((contact_id, chat, loc))
    return out


def set_next_actions(conn: Connection, values: Iterable[tuple[int, date | None]]) -> None:
    """Record each document's next action date (`document.next_action_on`; None: nothing more to do),
    the local date the sweep next needs it; the sweep's candidates are the documents due by then.
    """
    d = Document.__table__
    rows = [{"doc_id": doc_id, "next_on": day} for doc_id, day in values]
    if rows:
        from sqlalchemy import bindparam

        conn.execute(
            update(d).where(d.c.id == bindparam("doc_id")).values(next_action_on=bindparam("next_on")),
            rows,
        )


def finish(
    conn: Connection, keys: Iterable[str], *, status: str, message_id: str, at: datetime, error: str = ""
) -> None:
    """Record what became of reminders whose intent is `sending`: their final `status`, the channel's
    message id and any error; rows already finished are left alone (a second sweeper lost the race).
    """
    t = ReminderSend.__table__
    conn.execute(
        update(t)
        .where(t.c.key.in_(list(keys)), t.c.status == "sending")
        .values(status=status, channel_message_id=message_id, updated_at=at, error=error, attempts=t.c.attempts + 1)
    )
