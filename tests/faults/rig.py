"""What the fault tests share: a ledger of many linked customers, `collectbot` processes on the fake Bot API,
and counts of what the fake received per chat and what the database recorded.

Everything here runs real processes and the real python-telegram-bot against tests/fakes; nothing is mocked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from storage.tables import OutboundMessage, ReminderSend, StaffAlert
from tests.conftest import COLLECTBOT, cli_env
from tests.fakes.telegram_api import FakeTelegram
from tests.scheduler.test_sweep import DUE, World, at_local, cust, doc, load, off

CHAT0 = 50_000  # chat id of customer 0; customer i is chat CHAT0 + i
SWEEP_AT = at_local(off(8), 10)  # the first step of every invoice due on DUE is due then


def ledger(database_url: str, tmp_path: Path, tg: FakeTelegram, n: int, *, docs_per_customer: int = 1) -> World:
    """`n` customers K0000.., each with `docs_per_customer` invoices due on DUE and one linked chat on the fake."""
    customers = [cust(f"K{i:04d}") for i in range(n)]
    documents = [doc(f"INV-{i:04d}-{j}", f"K{i:04d}", DUE) for i in range(n) for j in range(docs_per_customer)]
    w = load(database_url, tmp_path, customers, documents)
    from sqlalchemy import insert

    from storage.tables import Contact, Customer
    from tests.scheduler.test_sweep import START

    with w.engine.begin() as conn:
        ids = dict(conn.execute(select(Customer.ref, Customer.id)).all())
        conn.execute(insert(Contact), [
            {"customer_id": ids[f"K{i:04d}"], "name": "AP", "telegram_chat_id": CHAT0 + i, "verified": True,
             "reachable": True, "linked_at": START} for i in range(n)])
    for i in range(n):
        tg.add_user(CHAT0 + i, f"U{i}")
    return w


def env(database_url: str, tg: FakeTelegram | None, **extra: str) -> dict[str, str]:
    """The environment of a `collectbot` child on this database and (when given) the fake Bot API."""
    e = cli_env(database_url)
    if tg is not None:
        e |= {"TELEGRAM_BOT_TOKEN": tg.token, "COLLECTBOT_TELEGRAM_API_URL": tg.api_url,
              "COLLECTBOT_TELEGRAM_FILE_URL": tg.file_url}
    return e | extra


def start(args: list[str], environ: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    """A `collectbot` child with its output in `log` (a pipe nobody reads would block it)."""
    handle = open(log, "ab")  # noqa: SIM115 - closed with the process by the OS
    return subprocess.Popen([COLLECTBOT, *args], env=environ, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)


def sweep_args(now: datetime) -> list[str]:
    return ["sweep", "--now", now.isoformat(), "--format", "json"]


def kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def running(proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Wait until `collectbot run` says it is running (its signal handlers are in place)."""
    wait_until(lambda: "collectbot is running" in log.read_text(errors="replace"), timeout,
               "collectbot run to start", (proc,))


def stop(proc: subprocess.Popen, timeout: float = 60) -> int:
    """SIGTERM, then wait: `collectbot run` finishes the pass in progress and exits 0."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=timeout)


def per_chat(tg: FakeTelegram, n: int) -> Counter[int]:
    """How many messages each customer's chat received (accepted by the fake)."""
    return Counter({CHAT0 + i: len(tg.sent(CHAT0 + i)) for i in range(n)})


def statuses(engine: Engine) -> Counter[str]:
    """reminder_send rows (not skipped) by status."""
    t = ReminderSend.__table__
    with engine.connect() as conn:
        return Counter(dict(conn.execute(
            select(t.c.status, func.count()).where(t.c.status != "skipped").group_by(t.c.status)).all()))


def message_statuses(engine: Engine) -> Counter[str]:
    t = OutboundMessage.__table__
    with engine.connect() as conn:
        return Counter(dict(conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()))


def messages(engine: Engine) -> list[tuple[int, str, int | None, list]]:
    """(id, status, chat id, doc refs) of every debtor message."""
    t = OutboundMessage.__table__
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            select(t.c.id, t.c.status, t.c.chat_id, t.c.doc_refs).order_by(t.c.id))]


def alerts(engine: Engine, kind: str | None = None) -> list[tuple[str, str, str, list]]:
    """(kind, status, text, doc refs) of staff alerts."""
    a = StaffAlert.__table__
    q = select(a.c.kind, a.c.status, a.c.text, a.c.doc_refs).order_by(a.c.id)
    if kind:
        q = q.where(a.c.kind == kind)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def wait_until(condition: Callable[[], object], timeout: float, what: str, procs: tuple = (),
               every: float = 0.1) -> object:
    """Poll `condition` every `every` s; fail naming `what` (and any child that died) after `timeout` seconds.

    The fake Bot API runs in this process: a busy poll here delays its answers and bunches the
    arrival times it measures its 30/s window with, so slow conditions poll less often."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for p in procs:
            assert p.poll() is None, f"{p.args} exited with {p.returncode} while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(every)


__all__ = ["CHAT0", "SWEEP_AT", "ledger", "env", "start", "sweep_args", "kill9", "running", "stop", "per_chat",
           "statuses", "message_statuses", "messages", "alerts", "wait_until", "cust", "doc", "DUE", "at_local", "off"]
