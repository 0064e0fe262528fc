"""Claims die with their process or database session; the rate budget is shared by every process.

DESIGN "Reliability and security": claims on outbox rows die with their process or database
session, not on a timer; several `collectbot run`/`sweep` at once share one rate budget.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from bot.scheduler.claims import claim_holder, dead_holders, process_token
from bot.scheduler.ratelimit import SharedBudget
from storage.engine import make_engine, reading
from storage.migrate import ensure_schema
from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]


def _spawn(code: str, url: str) -> subprocess.Popen[str]:
    """A separate Python process running `code` with `url` as URL; its first stdout line is read by the caller."""
    env = dict(os.environ, URL=url, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


HOLD = """
    import os, sys, time
    from storage.engine import make_engine
    from bot.scheduler.claims import claim_holder
    engine = make_engine(os.environ["URL"])
    print(claim_holder(engine).token, flush=True)
    time.sleep(120)
"""


def _dead(engine: Engine, token: str) -> bool:
    with reading(engine) as conn:
        return token in dead_holders(conn, [token])


def _eventually_dead(engine: Engine, token: str, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _dead(engine, token):
            return True
        time.sleep(0.1)
    return False


def test_a_claim_lives_with_its_holder_and_dies_with_kill_9(engine: Engine) -> None:
    proc = _spawn(HOLD, engine.url.render_as_string(hide_password=False))
    try:
        token = proc.stdout.readline().strip()
        assert token.startswith("pg:" if engine.dialect.name == "postgresql" else "proc:")
        assert not _dead(engine, token)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _eventually_dead(engine, token)
    finally:
        proc.kill()
        proc.wait()


def test_this_process_holds_its_claims_and_unclaimed_or_foreign_tokens_are_dead(engine: Engine) -> None:
    holder = claim_holder(engine)
    assert claim_holder(engine) is holder
    mine = holder.token
    with reading(engine) as conn:
        dead = dead_holders(conn, [mine, "", "proc:notapid:1", "web-1:4242:999", process_token(1) + "0"])
    assert mine not in dead
    # unclaimed, malformed, the old host:pid:start form, and pid 1 with another start time
    assert dead == {"", "proc:notapid:1", "web-1:4242:999", process_token(1) + "0"}


@pytest.fixture
def pg_engine(tmp_path: Path) -> Iterator[Engine]:
    """A PostgreSQL database of its own (only defined when COLLECTBOT_TEST_POSTGRES_URL is set)."""
    schema = f"t_{uuid.uuid4().hex}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    ensure_schema(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def _claim_dies_with_its_database_session(engine: Engine) -> None:
    holder = claim_holder(engine)
    before = holder.token
    pid = int(before.split(":")[1])
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    admin.dispose()
    assert _eventually_dead(engine, before)
    after = holder.token  # the holder notices and opens a new session: old claims stay dead
    assert after != before
    assert not _dead(engine, after)
    assert _dead(engine, before)
    holder.close()
    assert _eventually_dead(engine, after)


if POSTGRES_URL:  # SQLite has no database session to lose: its claims are the process's (test above)

    def test_postgres_a_claim_dies_with_its_database_session(pg_engine: Engine) -> None:
        _claim_dies_with_its_database_session(pg_engine)


class FakeWall:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_slots_of_one_key_are_one_interval_apart(engine: Engine) -> None:
    wall = FakeWall()
    budget = SharedBudget(engine, wall=wall)
    slots = [budget.try_reserve([], [("bot", 0.5)]) for _ in range(4)]
    assert [ok for ok, _ in slots] == [True] * 4
    assert [round(at - wall.now, 3) for _, at in slots] == [0.0, 0.5, 1.0, 1.5]


def test_a_busy_chat_waits_without_taking_the_bots_slot(engine: Engine) -> None:
    wall = FakeWall()
    budget = SharedBudget(engine, wall=wall)
    assert budget.try_reserve([("chat:1", 1.0)], [("bot", 0.1)]) == (True, wall.now)
    ok, free_at = budget.try_reserve([("chat:1", 1.0)], [("bot", 0.1)])
    assert not ok and free_at == pytest.approx(wall.now + 1.0)
    # another chat is not held back by the first one
    assert budget.try_reserve([("chat:2", 1.0)], [("bot", 0.1)]) == (True, pytest.approx(wall.now + 0.1))
    wall.now += 1.0
    assert budget.try_reserve([("chat:1", 1.0)], [("bot", 0.1)]) == (True, pytest.approx(wall.now))


def test_a_429_pushes_the_key_back_for_everyone(engine: Engine) -> None:
    wall = FakeWall()
    budget = SharedBudget(engine, wall=wall)
    budget.push_back("bot", 7)
    assert budget.try_reserve([], [("bot", 0.1)]) == (True, pytest.approx(wall.now + 7))
    budget.push_back("bot", 1)  # never pulls a later instant earlier
    assert budget.try_reserve([], [("bot", 0.1)]) == (True, pytest.approx(wall.now + 7.1))


RESERVE = """
    import os, time
    from storage.engine import make_engine
    from bot.scheduler.ratelimit import SharedBudget
    budget = SharedBudget(make_engine(os.environ["URL"]))
    print("ready", flush=True)
    start = float(os.environ["START"])
    while time.time() < start:
        time.sleep(0.001)
    got = [budget.try_reserve([], [("bot", 0.01)])[1] for _ in range(60)]
    print(" ".join(repr(t) for t in got), flush=True)
"""


def test_two_processes_never_get_slots_closer_than_the_interval(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    start = time.time() + 3
    os.environ["START"] = repr(start)
    try:
        procs = [_spawn(RESERVE, url) for _ in range(2)]
    finally:
        del os.environ["START"]
    slots: list[float] = []
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        # read on through the text buffer that readline() filled (communicate() would skip what it
        # holds: on a loaded machine a process may print both lines before the first one is read)
        out = proc.stdout.read()
        err = proc.stderr.read()
        assert proc.wait(120) == 0, err
        slots += [float(t) for t in out.split()]
    assert len(slots) == 120
    slots.sort()
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= 0.01 - 1e-6
