"""Two `collectbot run`s on one database, against the fake Telegram and the fake Slack; one killed with SIGKILL
mid-delivery (issue 14 §3).

Both are configured only by the environment (DESIGN "Interfaces"), on one COLLECTBOT_SLACK_HTTP_PORT, with a
backlog of reminders (each to its own linked chat) and of staff alerts (customers without a chat: chase by
phone). The first one started polls Telegram and listens for Slack; the second sends only and waits for the
port. Both deliver the backlog at once. One of them is killed halfway; then:

- each reminder reached its chat at most once; those the dead one had out are `unknown` (told to staff in the
  customer's thread, never resent); everything else is delivered by the survivor;
- no 429 from either fake (one shared budget: 30/s and 1/s per chat, 1 post/s per Slack channel);
- every staff alert is posted exactly once, in its customer's thread;
- the survivor takes over polling (a debtor's button press after the kill is answered) and the Slack port (a
  signed thread reply becomes a note, once, even when Slack sends it again) — or, when the one killed is the
  sending-only instance, the poller finds its claims within seconds by itself (no scheduled pass, no kick);
- no 409 storm: the two never polled at once.
"""

from __future__ import annotations

import re
import socket
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.tables import Customer, Event, SlackThread, StaffAlert
from tests.fakes import FakeSlack, SlackEventsClient
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
    wait_until,
)
from tests.handlers.slack.harness import CHANNEL, REP, SECRET, people

pytestmark = pytest.mark.slow

N = 300  # customers with a linked chat: 10 s of reminders at 30/s
HOLD = 10.0  # seconds the fake Bot API holds its answers to the first sends (under the bot's 15 s read timeout)
UNLINKED = 5  # customers without one: a chase-by-phone alert each, in its own Slack thread


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def said(log: Path, pattern: str) -> list[str]:
    return re.findall(pattern, log.read_text(errors="replace"))


@pytest.mark.parametrize("victim", ["poller", "sender"])
def test_two_runs_one_killed_mid_delivery_each_reminder_once_each_alert_once_and_the_survivor_carries_on(
    database_url: str, tmp_path: Path, fake_telegram_thread: FakeTelegram, fake_slack_thread: FakeSlack, victim: str
) -> None:
    tg, slack = fake_telegram_thread, fake_slack_thread
    people(slack)
    w = ledger(database_url, tmp_path, tg, N)
    from bot.app import build_sweeper
    from bot.importer import import_file
    from tests.scheduler.test_sweep import CUSTOMERS_HEADER, DOCUMENTS_HEADER, DUE, _write, cust, doc

    ctx = w.app.import_context()
    import_file(w.engine, "customers", _write(tmp_path / "u.csv", CUSTOMERS_HEADER,
                                              [cust(f"NOCHAT{i:02d}") for i in range(UNLINKED)]), ctx)
    import_file(w.engine, "documents", _write(tmp_path / "ud.csv", DOCUMENTS_HEADER,
                                              [doc(f"UINV-{i:02d}", f"NOCHAT{i:02d}", DUE) for i in range(UNLINKED)]),
                ctx)
    build_sweeper(w.app, debtor=None).record(SWEEP_AT)  # recorded, nothing sent or posted yet
    assert message_statuses(w.engine) == {"pending": N}
    assert len(alerts(w.engine, "chase_by_phone")) == UNLINKED
    w.engine.dispose()

    port = free_port()
    e = env(database_url, tg, SLACK_BOT_TOKEN=slack.bot_token, COLLECTBOT_SLACK_API_URL=slack.api_url,
            SLACK_SIGNING_SECRET=SECRET, COLLECTBOT_SLACK_HTTP_PORT=str(port), COLLECTBOT_SLACK_CHANNEL=CHANNEL,
            COLLECTBOT_SWEEP_INTERVAL_MINUTES="0")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    # The first sends are answered late (delivered at once, as Telegram would when slow): the first instance is
    # still busy with them when the second has started, so both deliver the backlog together.
    tg.hang_next(HOLD, times=3, method="sendMessage")
    a = start(["run"], e, tmp_path, logs[0])
    b = None
    try:
        running(a, logs[0])
        assert said(logs[0], r"Telegram role: poller"), logs[0].read_text()[-3000:]
        b = start(["run"], e, tmp_path, logs[1])
        b_started = time.monotonic()
        running(b, logs[1])
        print(f"second run started in {time.monotonic() - b_started:.1f} s; {tg.stats()['messages']} sent by then")
        assert said(logs[1], r"Telegram role: sender"), logs[1].read_text()[-3000:]
        assert said(logs[1], rf"port {port} \(COLLECTBOT_SLACK_HTTP_PORT\) is in use")
        wait_until(lambda: tg.stats()["messages"] >= N // 2, 120, "half the backlog delivered", (a, b), every=0.25)
        assert tg.stats()["messages"] < N, "the backlog went out before the second instance joined: raise N"
        if victim == "sender":
            a, b, logs = b, a, logs[::-1]  # `a` is the one killed, `b` the survivor
        kill9(a)  # dies mid-delivery: the poller and Slack listener, or the other one
        killed_at = time.monotonic()

        took_over = 0.0
        if victim == "poller":
            wait_until(lambda: said(logs[1], r"Telegram role: poller.*took over"), 30, "the survivor to poll", (b,))
            took_over = time.monotonic() - killed_at
        wait_until(lambda: not ({"pending", "sending"} & set(+message_statuses(w.engine)))
                   and not [x for x in alerts(w.engine) if x[1] in ("pending", "posting")],
                   180, "every message delivered and every alert posted", (b,), every=1.0)

        # a debtor presses a button on the reminder they got before the kill: the survivor answers
        rows = messages(w.engine)
        chat = next(c for _i, s, c, _d in rows if s == "sent" and len(tg.sent(c)) == 1)
        reminder = tg.sent(chat)[0]
        query = tg.user_clicks(chat, reminder.message_id, button=reminder.button_texts[0][0])
        wait_until(lambda: query in tg.callback_answers, 30, "the button press answered", (b,))

        # a staff reply in a customer's thread reaches the survivor (which took the Slack port); a retry acts once
        with w.engine.connect() as conn:
            root = conn.execute(select(SlackThread.root_ts).where(SlackThread.root_ts != "")).scalars().first()
        assert root
        events = SlackEventsClient(f"http://127.0.0.1:{port}/slack/events", SECRET)
        note = slack.message(REP, CHANNEL, "called them, cheque on Friday", thread_ts=root)
        assert wait_until(lambda: _sent(events, note), 30, "the survivor to listen on the Slack port", (b,)) == 200
        assert events.send_sync(note, retry_num=1).status == 200
        time.sleep(1.0)
    finally:
        for p in (a, b):
            if p is not None:
                assert stop(p) in (0, -9)

    # each reminder at most once; what the dead one had out is unknown, and everything else went out
    received = per_chat(tg, N)
    received[chat] -= len(tg.sent(chat)) - 1  # the answer to the button press is not a reminder
    assert max(received.values()) == 1, {k: v for k, v in received.items() if v > 1}
    rows = messages(w.engine)
    assert {s for _i, s, _c, _d in rows} <= {"sent", "unknown"}
    unknown = [r for r in rows if r[1] == "unknown"]
    assert len(unknown) <= 6  # what `a` had in flight when it died (never more than its claimed-ahead places)
    assert all(received[c] == 1 for _i, status, c, _d in rows if status == "sent")
    missing = {CHAT0 + i for i in range(N) if received[CHAT0 + i] == 0}
    assert {f"INV-{x - CHAT0:04d}-0" for x in missing} <= {ref for r in unknown for ref in r[3]}
    refused = [(c.method, c.args.get("chat_id"), c.description) for c in tg.calls if c.status == 429]
    assert tg.stats()["answered_429"] == 0, (tg.stats(), refused, [(log.name, line) for log in logs for line in said(
        log, r".*(?:slow down|Telegram role|killed|in flight|took over).*")])
    assert slack.rate_limited == 0

    # every staff alert posted once, in its customer's thread; the unknown ones told to staff
    every = alerts(w.engine)
    assert {s for _k, s, _t, _d in every} == {"posted"}, Counter(s for _k, s, _t, _d in every)
    assert len(alerts(w.engine, "send_unknown")) == len(unknown)
    a_t, t_t, c_t = StaffAlert.__table__, SlackThread.__table__, Customer.__table__
    with w.engine.connect() as conn:
        posted = conn.execute(select(a_t.c.id, a_t.c.slack_ts, t_t.c.root_ts)
                              .join(t_t, t_t.c.customer_id == a_t.c.customer_id)
                              .where(a_t.c.status == "posted")).all()
        notes = conn.execute(select(Event.text, Event.actor).where(Event.kind == "note_added")).all()
        customers_with_alerts = conn.execute(select(c_t.c.ref).where(
            c_t.c.id.in_(select(a_t.c.customer_id)))).scalars().all()
    assert len(posted) == len(every)
    for _aid, ts, root_ts in posted:
        assert [m.ts for m in slack.replies(CHANNEL, root_ts) if m.ts == ts] == [ts]  # in the customer's thread
    bot_posts = slack.posts(CHANNEL)
    roots = [m for m in bot_posts if m.thread_ts in (None, m.ts)]
    assert len(roots) == len(set(customers_with_alerts)), [m.text for m in roots]  # one thread per customer
    replies = [m for m in bot_posts if m.thread_ts not in (None, m.ts)]
    assert sorted(m.ts for m in replies) == sorted(ts for _a, ts, _r in posted)  # nothing posted twice
    assert notes == [("called them, cheque on Friday", f"slack:{REP}")]

    print(f"{victim} killed; took over polling {took_over:.1f} s after the kill; {len(unknown)} unknown;",
          f"{len(every)} alerts;", tg.stats())  # the figures the README quotes (pytest -s)
    # the survivor polled within seconds of the kill, and the two never polled at once
    assert took_over < 15, took_over
    assert tg.stats()["conflicts"] <= 1, tg.stats()  # at most the dead poller's own last poll, ended by the new one
    assert sum(len(said(log, r"Conflict")) for log in logs) == 0
    # the survivor's log says which instance had which role
    if victim == "poller":
        assert said(logs[1], r"Telegram role: sender") and said(logs[1], r"Slack: took over port")
    else:  # the dead sender's claims were found by the survivor's watch, with no scheduled pass and no kick
        assert said(logs[1], r"another instance stopped with messages or alerts in flight")


def _sent(events: SlackEventsClient, payload: dict) -> int | None:
    try:
        return events.send_sync(payload).status
    except OSError:
        return None

