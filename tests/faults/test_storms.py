"""429 storms, SQLite busy under a concurrent import, PostgreSQL sessions cut under a running bot (issue 14 §2).

DESIGN "Reliability and security": a 429 waits retry_after and sends again; at most one send per
(invoice, step); no sweep half-recorded; claims die with their database session.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import text

from bot.app import build_sweeper
from bot.handlers.telegram.delivery import TelegramDebtorChannel
from bot.scheduler.channels import ConsoleAlertChannel
from tests.conftest import POSTGRES_URL
from tests.fakes.telegram_api import FakeTelegram, _error
from tests.faults.rig import (
    CHAT0,
    SWEEP_AT,
    alerts,
    env,
    ledger,
    message_statuses,
    messages,
    per_chat,
    start,
    statuses,
    stop,
    sweep_args,
    wait_until,
)
from tests.scheduler.test_delivery import tg_bot


class StormyTelegram(FakeTelegram):
    """The fake Bot API answering every `every`-th sendMessage with 429 retry_after=`retry_after` (a storm on
    a share of requests), and keeping the time of every sendMessage request and of every 429 per chat."""

    def __init__(self, every: int, retry_after: int = 1) -> None:
        super().__init__()
        self.every, self.retry_after = every, retry_after
        self.requests = 0
        self.storm: list[tuple[float, str]] = []  # (time answered, chat id)
        self.arrivals: list[tuple[float, str]] = []

    async def _answer(self, method: str, raw: dict, files: dict) -> web.Response:
        if method.lower() != "sendmessage":
            return await super()._answer(method, raw, files)
        chat = str(raw.get("chat_id"))
        with self.lock:
            self.requests += 1
            hit = self.requests % self.every == 0
            self.arrivals.append((time.monotonic(), chat))
            if hit:
                self.answered_429 += 1
                self.storm.append((time.monotonic(), chat))
        if hit:
            return _error(429, f"Too Many Requests: retry after {self.retry_after}", self.retry_after)
        return await super()._answer(method, raw, files)


async def test_a_429_storm_every_reminder_sent_once_and_every_wait_honoured(
    database_url: str, tmp_path: Path
) -> None:
    n = 30
    async with StormyTelegram(every=4) as tg:
        w = ledger(database_url, tmp_path, tg, n)
        bot = tg_bot(tg, w.engine)
        await bot.initialize()
        try:
            sweeper = build_sweeper(w.app, debtor=TelegramDebtorChannel(bot), staff=ConsoleAlertChannel())
            started = time.monotonic()
            report = await sweeper.run(SWEEP_AT)
            took = time.monotonic() - started
            for _ in range(3):  # anything a storm left pending (retry_after past the retries) goes next sweep
                if not message_statuses(w.engine)["pending"]:
                    break
                time.sleep(tg.retry_after)
                await sweeper.run(SWEEP_AT.replace(hour=SWEEP_AT.hour + 1))
        finally:
            await bot.shutdown()
            w.engine.dispose()
    assert len(tg.storm) >= n // 4  # a storm it was
    assert per_chat(tg, n) == Counter({CHAT0 + i: 1 for i in range(n)})  # every reminder once
    assert statuses(w.engine) == {"sent": n}
    assert {m.status for m in report.messages} <= {"sent", "deferred"}
    assert tg.rate_limited == 0  # the fake's own 30/s and 1/s never tripped
    # waits honoured: a chat answered 429 is not asked again before retry_after, and after each 429 the
    # whole bot pauses (only requests already on their way may arrive in the first moments)
    for at, chat in tg.storm:
        again = [t for t, c in tg.arrivals if c == chat and t > at]
        assert not again or again[0] >= at + tg.retry_after - 0.05, (chat, again[0] - at)
    assert took >= len([1 for _ in tg.storm]) * 0.5  # the pauses were really taken (they overlap a little)


# ---------------------------------------------------------------- a concurrent import


def test_an_import_while_a_sweep_delivers_both_finish_and_nothing_is_lost(
    database_url: str, tmp_path: Path, fake_telegram_thread: FakeTelegram
) -> None:
    """SQLite: the import holds the write lock while the sweep needs it for every claim, result and
    rate slot; the sweep waits (busy_timeout), neither fails. PostgreSQL: row locks only."""
    tg = fake_telegram_thread
    n, extra, docs = 100, 500, 5_000
    w = ledger(database_url, tmp_path, tg, n)
    from bot.importer import import_file
    from tests.scheduler.test_sweep import CUSTOMERS_HEADER, DOCUMENTS_HEADER, _write, cust, doc

    import_file(w.engine, "customers", _write(tmp_path / "x.csv", CUSTOMERS_HEADER,
                                              [cust(f"X{i:04d}") for i in range(extra)]), w.app.import_context())
    from datetime import date

    big = _write(tmp_path / "big.csv", DOCUMENTS_HEADER,
                 [doc(f"BIG-{i:06d}", f"X{i % extra:04d}", date(2026, 9, 1)) for i in range(docs)])
    e = env(database_url, tg)
    log = tmp_path / "children.log"
    sweep = start(sweep_args(SWEEP_AT), e, tmp_path, log)
    wait_until(lambda: tg.stats()["messages"] >= 10, 120, "the sweep delivering", (sweep,))
    imp = start(["import", "documents", str(big)], e, tmp_path, tmp_path / "import.log")
    assert tg.stats()["messages"] < n and sweep.poll() is None  # the import starts while the sweep delivers
    try:
        assert imp.wait(timeout=240) == 0, (tmp_path / "import.log").read_text()[-2000:]
        assert sweep.wait(timeout=240) == 0, log.read_text()[-3000:]
    finally:
        for p in (imp, sweep):
            if p.poll() is None:
                p.kill()
    assert per_chat(tg, n) == Counter({CHAT0 + i: 1 for i in range(n)})
    assert statuses(w.engine) == {"sent": n}
    assert message_statuses(w.engine) == {"sent": n}
    from sqlalchemy import func, select

    from storage.tables import Document

    with w.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Document)).scalar_one() == n + docs
    # (no assertion on 429s here: a rare one under this load is waited out and sent once, as above;
    # the shared budget's zero-429 promise is tested in test_instances.py)


# ---------------------------------------------------------------- PostgreSQL sessions cut under `collectbot run`

def _terminate(admin, app_name: str) -> int:  # noqa: ANN001
    """pg_terminate_backend every session of the child named `app_name` (PGAPPNAME), nobody else's."""
    with admin.connect() as conn:
        return len(conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"
        ), {"name": app_name}).all())


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="needs COLLECTBOT_TEST_POSTGRES_URL")
def test_postgres_sessions_terminated_under_run_it_reconnects_and_the_dead_claims_are_unknown(
    pg_url, tmp_path: Path, fake_telegram_thread: FakeTelegram  # noqa: ANN001
) -> None:
    url, admin = pg_url
    tg = fake_telegram_thread
    n = 100
    w = ledger(url, tmp_path, tg, n)
    build_sweeper(w.app, debtor=None, staff=ConsoleAlertChannel()).sweep(SWEEP_AT)  # recorded, pending
    assert message_statuses(w.engine) == {"pending": n}
    name = f"collectbot-faults-{uuid.uuid4().hex[:8]}"
    e = env(url, tg, COLLECTBOT_SWEEP_INTERVAL_MINUTES="0", PGAPPNAME=name)
    log = tmp_path / "run.log"
    run = start(["run"], e, tmp_path, log)
    try:
        wait_until(lambda: tg.stats()["messages"] >= 30, 120, "run delivering", (run,))
        before = tg.stats()["messages"]
        tg.hang_next(10, method="sendMessage", times=3)  # three sends out, their answers held
        wait_until(lambda: tg.stats()["messages"] >= before + 3, 60, "three sends held", (run,))
        assert _terminate(admin, name) >= 2  # the pool's connections and the claim holder's session
        # Another process meanwhile: the held claims belong to a session that no longer exists, so they
        # are `unknown` (never resent, told to staff), even though their sender is still waiting on them.
        other = start(sweep_args(SWEEP_AT.replace(hour=SWEEP_AT.hour + 1)), e, tmp_path, tmp_path / "sweep.log")
        assert other.wait(timeout=120) == 0, (tmp_path / "sweep.log").read_text()[-3000:]
        assert message_statuses(w.engine)["unknown"] >= 3
        # `run` reconnects: a stranger's message is handled (its own transaction) and answered
        tg.add_user(99_001, "Stranger")
        tg.user_sends(99_001, "hello")
        wait_until(lambda: tg.sent(99_001), 60, "the answer to a message after the cut", (run,))
        assert "personal link" in tg.sent(99_001)[0].plain_text
        wait_until(lambda: not ({"pending", "sending"} & set(+message_statuses(w.engine))), 120,
                   "every message delivered", (run,))
        assert run.poll() is None, log.read_text()[-3000:]
    finally:
        assert stop(run) == 0, log.read_text()[-3000:]
    print([line for line in log.read_text().splitlines() if "WARNING" in line or "ERROR" in line][:20])
    received = per_chat(tg, n)
    assert max(received.values()) == 1
    rows = messages(w.engine)
    unknown = [r for r in rows if r[1] == "unknown"]
    assert {s for _i, s, _c, _d in rows} <= {"sent", "unknown"}
    for _mid, status, chat, _docs in rows:
        if status == "sent":
            assert received[chat] == 1
    missing = {CHAT0 + i for i in range(n) if received[CHAT0 + i] == 0}
    assert {f"INV-{c - CHAT0:04d}-0" for c in missing} <= {ref for r in unknown for ref in r[3]}
    assert len(unknown) >= 3 and len(alerts(w.engine, "send_unknown")) == len(unknown)
    assert {s for _k, s, _t, _d in alerts(w.engine)} == {"posted"}
    assert tg.stats()["rate_limited"] == 0


# ---------------------------------------------------------------- the database failing before a send left


def flaky_budget(engine, times: int):  # noqa: ANN001, ANN201
    """The shared rate budget whose database fails `times` times (a PostgreSQL session cut, SQLite locked
    past its busy timeout) when a slot is reserved: the request has not left."""
    from sqlalchemy.exc import OperationalError

    from bot.scheduler.ratelimit import SharedBudget

    class FlakyBudget(SharedBudget):
        left = times

        def try_send(self, chat, bot, interval, permits):  # noqa: ANN001, ANN202
            if FlakyBudget.left > 0:
                FlakyBudget.left -= 1
                raise OperationalError("SELECT next_at FROM rate_budget", {}, Exception("server closed the connection"))
            return super().try_send(chat, bot, interval, permits)

    return FlakyBudget(engine)


async def test_a_database_error_before_the_request_left_is_retried_not_unknown(
    database_url: str, tmp_path: Path, fake_telegram: FakeTelegram
) -> None:
    """DESIGN: an error before the request was sent is retried with backoff, and otherwise the step stays
    pending; only what may have left is `unknown`. A rate slot that could not be reserved sent nothing."""
    from bot.scheduler.ratelimit import TelegramRateLimiter

    tg = fake_telegram
    w = ledger(database_url, tmp_path, tg, 2)
    bot = tg_bot(tg, w.engine)
    limiter: TelegramRateLimiter = bot.rate_limiter  # type: ignore[assignment]
    limiter.budget = flaky_budget(w.engine, times=2)
    await bot.initialize()
    try:
        sweeper = build_sweeper(w.app, debtor=TelegramDebtorChannel(bot), staff=ConsoleAlertChannel())
        report = await sweeper.run(SWEEP_AT)
    finally:
        await bot.shutdown()
        w.engine.dispose()
    assert [m.status for m in report.messages] == ["sent", "sent"]
    assert message_statuses(w.engine) == {"sent": 2}  # not `unknown`: nothing had left
    assert alerts(w.engine, "send_unknown") == []
    assert per_chat(tg, 2) == Counter({CHAT0: 1, CHAT0 + 1: 1})
    assert limiter.budget.left == 0  # both failures happened


async def test_a_database_error_while_recording_a_result_is_retried_and_the_result_kept(
    database_url: str, tmp_path: Path, fake_telegram: FakeTelegram
) -> None:
    """The send went out; recording its result failed once (the database blinked). The result is
    recorded on a retry: the message is `sent`, not left `sending` under a live claim nobody clears."""
    from sqlalchemy.exc import OperationalError

    from bot.scheduler.delivery import Delivery

    class Blink(Delivery):
        failures = 1

        def _finish(self, m, status, **kw):  # noqa: ANN001, ANN003, ANN202
            if Blink.failures:
                Blink.failures -= 1
                raise OperationalError("UPDATE outbound_message", {}, Exception("database is locked"))
            return super()._finish(m, status, **kw)

    tg = fake_telegram
    w = ledger(database_url, tmp_path, tg, 3)
    build_sweeper(w.app, debtor=None).record(SWEEP_AT)  # recorded, not reserved
    bot = tg_bot(tg, w.engine)
    await bot.initialize()
    try:
        delivery = Blink(w.engine, TelegramDebtorChannel(bot), w.app.renderer, lambda: SWEEP_AT, backoff=0.05)
        results = await delivery.deliver(None, reserved=False)
    finally:
        await bot.shutdown()
        w.engine.dispose()
    assert sorted(results.values()) == ["sent"] * 3
    assert message_statuses(w.engine) == {"sent": 3}
    assert per_chat(tg, 3) == Counter({CHAT0: 1, CHAT0 + 1: 1, CHAT0 + 2: 1})
