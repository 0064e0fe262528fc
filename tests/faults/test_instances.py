"""Several instances on one PostgreSQL database against one Bot API at its 30/s limit (issue 14 §3).

A `collectbot run` (the one Telegram poller) and two `collectbot sweep` processes deliver the same
backlog at once: each reminder is sent exactly once, the rate budget is shared (the fake answers 429
to anything over 30/s or 1/s per chat: it answers none), each staff alert is posted by exactly one
of them. The `run` is killed with SIGKILL halfway: the others carry on, and the next pass (a new
`run`) sees its claims dead (`unknown`, told to staff, never resent).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL
from tests.fakes.telegram_api import FakeTelegram
from tests.faults.rig import (
    CHAT0,
    SWEEP_AT,
    alerts,
    env,
    kill9,
    ledger,
    message_statuses,
    messages,
    per_chat,
    running,
    start,
    stop,
    sweep_args,
    wait_until,
)

N = 180  # customers with a linked chat
UNLINKED = 12  # customers without one: `no_channel`, a chase-by-phone alert each


def _posted_lines(*logs: Path) -> Counter[str]:
    """Staff alerts as the console channel logged them, across processes: (kind, customer) -> times."""
    found: Counter[str] = Counter()
    for log in logs:
        for m in re.finditer(r"staff alert \[(\w+)\] (\S+):", log.read_text(errors="replace")):
            found[f"{m.group(1)} {m.group(2)}"] += 1
    return found


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="needs COLLECTBOT_TEST_POSTGRES_URL")
def test_two_runs_and_a_sweep_on_one_postgres_send_each_reminder_once_within_one_budget(
    pg_url, tmp_path: Path, fake_telegram_thread: FakeTelegram  # noqa: ANN001
) -> None:
    url, _admin = pg_url
    tg = fake_telegram_thread
    w = ledger(url, tmp_path, tg, N)
    from bot.importer import import_file
    from tests.scheduler.test_sweep import CUSTOMERS_HEADER, DOCUMENTS_HEADER, DUE, _write, cust, doc

    ctx = w.app.import_context()
    import_file(w.engine, "customers", _write(tmp_path / "u.csv", CUSTOMERS_HEADER,
                                              [cust(f"NOCHAT{i:02d}") for i in range(UNLINKED)]), ctx)
    import_file(w.engine, "documents", _write(tmp_path / "ud.csv", DOCUMENTS_HEADER,
                                              [doc(f"UINV-{i:02d}", f"NOCHAT{i:02d}", DUE) for i in range(UNLINKED)]),
                ctx)
    from bot.app import build_sweeper

    build_sweeper(w.app, debtor=None).record(SWEEP_AT)  # recorded, unreserved; nothing sent or posted yet
    assert message_statuses(w.engine) == {"pending": N}
    assert len(alerts(w.engine, "chase_by_phone")) == UNLINKED

    e = env(url, tg)
    later = SWEEP_AT.replace(hour=SWEEP_AT.hour + 1)  # the same day: nothing new to plan, the backlog to send
    logs = [tmp_path / "a.log", tmp_path / "b.log", tmp_path / "c.log"]
    a = start(["run"], e, tmp_path, logs[0])
    b = start(sweep_args(later), e, tmp_path, logs[1])
    c = start(sweep_args(later), e, tmp_path, logs[2])
    try:
        running(a, logs[0])
        wait_until(lambda: tg.stats()["messages"] >= N // 2, 180, "half the backlog delivered", (a,), every=0.25)
        kill9(a)  # one instance dies mid-delivery
        for p, log in ((b, logs[1]), (c, logs[2])):
            assert p.wait(timeout=180) == 0, log.read_text()[-3000:]
        a = start(["run"], e, tmp_path, logs[0])  # the next pass anywhere sees the dead claims
        running(a, logs[0])
        wait_until(lambda: not ({"pending", "sending"} & set(+message_statuses(w.engine)))
                   and not [x for x in alerts(w.engine) if x[1] in ("pending", "posting")],
                   180, "every message delivered and every alert posted", (a,), every=1.0)
    finally:
        assert stop(a) == 0
        for p in (b, c):
            if p.poll() is None:
                p.kill()

    received = per_chat(tg, N)
    assert max(received.values()) == 1, {k: v for k, v in received.items() if v > 1}  # exactly once at most
    rows = messages(w.engine)
    assert {s for _i, s, _c, _d in rows} <= {"sent", "unknown"}
    unknown = [r for r in rows if r[1] == "unknown"]
    for _mid, status, chat, _docs in rows:
        if status == "sent":
            assert received[chat] == 1
    missing = {CHAT0 + i for i in range(N) if received[CHAT0 + i] == 0}
    assert {f"INV-{x - CHAT0:04d}-0" for x in missing} <= {ref for r in unknown for ref in r[3]}
    assert len(unknown) <= 6  # what `a` had out when it died (at most its claimed-ahead places)
    stats = tg.stats()
    assert stats["answered_429"] == 0, stats  # one budget for all: 30/s and 1/s per chat held together
    # every staff alert posted, each by exactly one instance
    every = alerts(w.engine)
    assert {s for _k, s, _t, _d in every} == {"posted"}
    assert len(alerts(w.engine, "send_unknown")) == len(unknown)
    posted = _posted_lines(*logs)
    assert sum(posted.values()) >= len(every) - 3  # (a's log may end before lines it had posted)
    assert max(posted.values()) == 1, {k: v for k, v in posted.items() if v > 1}
