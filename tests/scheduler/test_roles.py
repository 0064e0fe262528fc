"""A sole role (the Telegram poller) is held by one process on the database and freed when it dies.

Two processes sharing the database: the second cannot take the role while the first holds it, takes it
once the first is killed with SIGKILL (its PostgreSQL session or its flock goes with it), and a holder
whose PostgreSQL session was cut sees the role lost.
"""

from __future__ import annotations

import os
import signal
import time

from sqlalchemy import Engine, create_engine

from bot.scheduler.claims import claim_holder
from bot.scheduler.roles import SoleRole
from storage.engine import make_engine
from tests.conftest import POSTGRES_URL
from tests.scheduler.test_claims_and_budget import _spawn, pg_engine  # noqa: F401  (a fixture)

HOLD_ROLE = """
    import os, time
    from storage.engine import make_engine
    from bot.scheduler.roles import SoleRole
    role = SoleRole(make_engine(os.environ["URL"]), "telegram-poller:42")
    print(role.try_take(), flush=True)
    time.sleep(120)
"""


def _eventually(condition, seconds: float = 10) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_one_process_holds_the_role_and_another_takes_it_when_the_first_is_killed(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    proc = _spawn(HOLD_ROLE, url)
    other = make_engine(url)
    try:
        assert proc.stdout.readline().strip() == "True"
        mine = SoleRole(other, "telegram-poller:42")
        assert not mine.try_take() and not mine.held
        assert SoleRole(other, "telegram-poller:43").try_take()  # another bot's poller is another role
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _eventually(mine.try_take)
        assert mine.held and mine.still_held()
        mine.release()
        assert not mine.held
        assert SoleRole(other, "telegram-poller:42").try_take()  # released: free for anyone
    finally:
        proc.kill()
        proc.wait()
        if other.dialect.name == "postgresql":
            claim_holder(other).close()
        other.dispose()


if POSTGRES_URL:  # SQLite has no database session to lose: its role is the process's (test above)

    def test_postgres_a_holder_whose_session_was_cut_loses_the_role(pg_engine: Engine) -> None:
        url = pg_engine.url.render_as_string(hide_password=False)
        second = make_engine(url)
        try:
            role, rival = SoleRole(pg_engine, "telegram-poller:42"), SoleRole(second, "telegram-poller:42")
            assert role.try_take() and not rival.try_take()
            pid = int(claim_holder(pg_engine).token.split(":")[1])
            admin = create_engine(pg_engine.url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            admin.dispose()
            assert _eventually(rival.try_take)
            assert not role.still_held() and not role.held  # it must stop polling: the rival polls now
            assert not role.try_take()
        finally:
            for e in (pg_engine, second):
                claim_holder(e).close()
            second.dispose()


def test_an_in_memory_database_has_no_rival() -> None:
    engine = create_engine("sqlite://")
    assert SoleRole(engine, "telegram-poller:42").try_take()
