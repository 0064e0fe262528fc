"""The database cut off in the middle of `collectbot sweep`'s delivery (a real fault, PostgreSQL).

DESIGN "Interfaces": a command that cannot reach its database exits non-zero with one line naming
the database, never its password, and no traceback. "Reliability": not lost, not duplicated:
what had not left stays pending and a later pass sends it; what may have left is `unknown`,
never resent, told to staff.

The sweep connects as a role of its own; the fault is that role refused at login
(ALTER ROLE ... NOLOGIN) and its sessions terminated (pg_terminate_backend), while three of
its sends are out (their answers held by the fake): every later claim, budget reservation and
result write meets a database that refuses it.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from tests.conftest import COLLECTBOT, POSTGRES_URL
from tests.fakes.telegram_api import FakeTelegram
from tests.faults.rig import (
    CHAT0,
    SWEEP_AT,
    alerts,
    env,
    ledger,
    message_statuses,
    messages,
    per_chat,
    sweep_args,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason="needs COLLECTBOT_TEST_POSTGRES_URL")]


@pytest.fixture
def sweeper_role(pg_url: tuple[str, Engine]) -> Iterator[tuple[str, str, Engine]]:
    """(the schema's URL as the admin, the same URL as a new login role with every right on it, admin engine)."""
    url, admin = pg_url
    role = f"cb_sweeper_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT pg_read_all_stats TO "{role}"'))  # claims: other sessions' start times
    as_role = make_url(url).set(username=role, password="s3cret-never-shown")
    try:
        yield url, as_role.render_as_string(hide_password=False), admin
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                         {"r": role})
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


def _grant(admin: Engine, role_url: str, admin_url: str) -> None:
    role = make_url(role_url).username
    schema = make_url(admin_url).query["options"].removeprefix("-csearch_path=")
    with admin.connect() as conn:
        conn.execute(text(f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{role}"'))
        conn.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
        conn.execute(text(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"'))


def _cut(admin: Engine, role: str) -> int:
    """The role may no longer log in, and its sessions are gone: the database is out of reach for it."""
    with admin.connect() as conn:
        conn.execute(text(f'ALTER ROLE "{role}" NOLOGIN'))
        return len(conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"), {"r": role}).all())


def _restore(admin: Engine, role: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'ALTER ROLE "{role}" LOGIN'))


def test_database_cut_mid_delivery_ends_the_sweep_in_one_line_and_a_later_pass_sends_the_rest(
    sweeper_role: tuple[str, str, Engine], tmp_path: Path, fake_telegram_thread: FakeTelegram
) -> None:
    admin_url, role_url, admin = sweeper_role
    role = make_url(role_url).username
    tg = fake_telegram_thread
    n = 40
    w = ledger(admin_url, tmp_path, tg, n)
    _grant(admin, role_url, admin_url)
    e = env(role_url, tg)
    tg.hang_next(3, method="sendMessage", times=3)  # the first three sends: delivered, answered 3 s later
    proc = subprocess.Popen([COLLECTBOT, *sweep_args(SWEEP_AT)], env=e, cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: tg.stats()["messages"] >= 3, 120, "three sends out", (proc,))
        assert _cut(admin, role) >= 1
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=120)
        print("after the cut", time.monotonic() - t0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = err.strip().splitlines()
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err and "Task exception" not in err, err
    assert lines[-1].startswith("error: database postgresql+psycopg://"), err  # the last word is the database's
    assert role in lines[-1] and "***" in lines[-1] and "s3cret" not in err
    assert out == ""  # no report pretending the sweep went through

    out_at_cut = {chat for chat, count in per_chat(tg, n).items() if count}
    assert len(out_at_cut) >= 3  # the held sends (and any that left before the role was refused)
    statuses = message_statuses(w.engine)
    assert statuses["sending"] <= len(out_at_cut)  # only what may be out is `sending`
    assert statuses["sent"] + statuses["unknown"] == 0  # nothing could be recorded as done after the cut

    # A later pass (the database back): every message that had not left is sent, once; the ones
    # that were out when the database went away are `unknown` (they did arrive, but nobody could
    # record it), never resent, each told to staff.
    _restore(admin, role)
    t0 = time.monotonic()
    later = subprocess.run([COLLECTBOT, *sweep_args(SWEEP_AT)], env=e, cwd=tmp_path, text=True,
                           capture_output=True, timeout=180)
    assert later.returncode == 0, later.stderr[-3000:]
    print("later pass", time.monotonic() - t0)
    received = per_chat(tg, n)
    assert max(received.values()) == 1 and sum(received.values()) == n
    unknown = {ref for _mid, status, _chat, docs in messages(w.engine) if status == "unknown" for ref in docs}
    assert unknown == {f"INV-{chat - CHAT0:04d}-0" for chat in out_at_cut}  # exactly what was out
    assert message_statuses(w.engine) == {"sent": n - len(unknown), "unknown": len(unknown)}
    assert len(alerts(w.engine, "send_unknown")) == len(unknown)
