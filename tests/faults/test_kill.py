"""kill -9 in the middle of a sweep of hundreds of reminders, on SQLite and PostgreSQL (issue 14 §2).

DESIGN "Reliability and security": at most one send per (invoice, step); a send whose intent was
recorded but whose result was not is never sent again: it is `unknown` and shown to staff; claims die
with their process or database session, not on a timer. Here a `collectbot sweep` and then a
`collectbot run` are killed with SIGKILL while they deliver to the fake Bot API (30/s, 1/s per chat,
a 429 for anything faster), each while a few sends are out (the fake holds their answers), and a new
`collectbot run` finishes the work. Counted at the fake, per chat: nothing twice, nothing lost.
"""

from __future__ import annotations

from pathlib import Path

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
    start,
    statuses,
    stop,
    sweep_args,
    wait_until,
)

N = 150


def _kill_while_sending(tg: FakeTelegram, proc, engine, at_least: int) -> None:  # noqa: ANN001
    """Once the fake has `at_least` messages, hold the answers of the next three sends and SIGKILL `proc`
    while their intent is recorded and their result is not."""
    wait_until(lambda: tg.stats()["messages"] >= at_least, 120, f"{at_least} messages at the fake", (proc,))
    before = tg.stats()["messages"]
    tg.hang_next(60, method="sendMessage", times=3)
    wait_until(lambda: tg.stats()["messages"] >= before + 3, 60, "three sends held by the fake", (proc,))
    kill9(proc)


def test_kill_9_mid_sweep_and_mid_run_nothing_twice_nothing_lost(
    database_url: str, tmp_path: Path, fake_telegram_thread: FakeTelegram
) -> None:
    tg = fake_telegram_thread
    w = ledger(database_url, tmp_path, tg, N)
    e = env(database_url, tg, COLLECTBOT_SWEEP_INTERVAL_MINUTES="0")
    log = tmp_path / "children.log"

    sweep = start(sweep_args(SWEEP_AT), e, tmp_path, log)
    _kill_while_sending(tg, sweep, w.engine, 40)
    left = message_statuses(w.engine)
    assert left["sending"] >= 3, left  # killed between intent and result
    assert left["pending"] > 0, left  # and with work left

    run = start(["run"], e, tmp_path, log)  # start-up: dead claims, then what is pending
    _kill_while_sending(tg, run, w.engine, 90)
    assert message_statuses(w.engine)["sending"] >= 3

    run = start(["run"], e, tmp_path, log)
    try:
        wait_until(lambda: not ({"pending", "sending"} & set(+message_statuses(w.engine)))
                   and not [a for a in alerts(w.engine) if a[1] in ("pending", "posting")],
                   180, "every message delivered and every alert posted", (run,))
    finally:
        assert stop(run) == 0, log.read_text()[-3000:]

    received = per_chat(tg, N)
    assert max(received.values()) == 1, {c: k for c, k in received.items() if k > 1}  # nothing twice
    rows = messages(w.engine)
    assert len(rows) == N
    by_status = {s for _i, s, _c, _d in rows}
    assert by_status <= {"sent", "unknown"}, by_status
    unknown = [r for r in rows if r[1] == "unknown"]
    assert len(unknown) >= 6  # three held sends at each kill: their claims were seen dead
    # what was recorded sent did arrive, once; what did not arrive is an unknown shown to staff
    for _mid, status, chat, _docs in rows:
        if status == "sent":
            assert received[chat] == 1
    missing = {CHAT0 + i for i in range(N) if received[CHAT0 + i] == 0}
    unknown_refs = {ref for _i, _s, _c, docs in unknown for ref in docs}
    assert {f"INV-{c - CHAT0:04d}-0" for c in missing} <= unknown_refs  # none lost silently
    assert statuses(w.engine) == {"sent": N - len(unknown), "unknown": len(unknown)}
    told = alerts(w.engine, "send_unknown")
    assert len(told) == len(unknown)  # one alert per unknown message, naming its invoice
    assert {s for _k, s, _t, _d in told} == {"posted"}
    assert sorted(ref for _k, _s, _t, docs in told for ref in docs) == sorted(unknown_refs)
    assert all(docs[0] in text for _k, _s, text, docs in told)
    assert tg.stats()["answered_429"] == 0
