"""storage.engine: SQLite writers lock at BEGIN; readers (`reading`) never wait for them."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from storage.engine import make_engine, reading
from storage.migrate import ensure_schema

INSERT = (
    "INSERT INTO customer (ref, name, aliases, segment, currency, payment_terms_days, locale, timezone, country,"
    " sales_rep_slack_id, credit_hold) VALUES ('A', 'A', '', 'default', 'USD', 30, 'en', 'UTC', '', '', false)"
)


def test_a_sqlite_reader_does_not_wait_for_an_open_write_transaction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/r.db")
    ensure_schema(engine)
    other = make_engine(f"sqlite:///{tmp_path}/r.db")
    with engine.begin() as writer:
        writer.execute(text(INSERT))  # holds the write lock until the block ends
        started = time.monotonic()
        with reading(other) as reader:
            seen = reader.execute(text("SELECT count(*) FROM customer")).scalar()
        waited = time.monotonic() - started
    assert seen == 0  # the snapshot before the writer commits
    assert waited < 1.0  # BEGIN IMMEDIATE would have waited for the busy timeout (60 s)
    with reading(other) as reader:
        assert reader.execute(text("SELECT count(*) FROM customer")).scalar() == 1
    engine.dispose()
    other.dispose()


def test_an_outbound_message_is_recorded_once_per_key(engine) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    from storage.outbound import enqueue
    from storage.tables import OutboundMessage

    now = datetime(2026, 11, 30, 10, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text(INSERT))
        cid = conn.execute(text("SELECT id FROM customer")).scalar()
        cand = [{"contact_id": 1, "chat_id": 42, "locale": "pt", "text": "<b>Olá</b>", "buttons": None}]
        first = enqueue(conn, key="notice:plan:1", customer_id=cid, kind="notice", candidates=cand, now=now)
        again = enqueue(conn, key="notice:plan:1", customer_id=cid, kind="notice", candidates=cand, now=now)
    assert first is not None and again is None
    with reading(engine) as conn:
        rows = conn.execute(OutboundMessage.__table__.select()).all()
    seen = [(r.status, r.candidates[0]["chat_id"], r.candidates[0]["text"]) for r in rows]
    assert seen == [("pending", 42, "<b>Olá</b>")]
