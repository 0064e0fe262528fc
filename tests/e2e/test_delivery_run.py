"""`collectbot run` delivers what a sweep recorded while Telegram was off, on its one loop.

README "Sweeping without Telegram": a sweep with no TELEGRAM_BOT_TOKEN records the reminders to
linked chats and leaves them pending; `collectbot run` (here with no scheduled sweep) sends them
at start-up through the same delivery path, with the six buttons, and the debtor's click on one
of them is answered by the same process. SIGTERM stops it cleanly.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.tables import OutboundMessage, ReminderSend
from tests.conftest import COLLECTBOT, Cli, cli_env
from tests.fakes.telegram_api import FakeTelegram
from tests.scheduler.test_sweep import DUE, at_local, cust, doc, load, off

pytestmark = pytest.mark.slow


def test_run_sends_what_a_sweep_without_telegram_left_pending(
    database_url: str, tmp_path: Path, cli: Cli, fake_telegram_thread: FakeTelegram
) -> None:
    tg = fake_telegram_thread
    w = load(database_url, tmp_path, [cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    tg.add_user(1001, "Ana")
    swept = cli("sweep", "--now", at_local(off(8), 10).isoformat(), "--format", "json")
    assert swept.returncode == 0, swept.stderr
    assert "TELEGRAM_BOT_TOKEN not set" in swept.stderr
    with w.engine.connect() as conn:
        assert conn.execute(select(OutboundMessage.status)).scalar_one() == "pending"
    env = cli_env(database_url) | {
        "TELEGRAM_BOT_TOKEN": tg.token, "COLLECTBOT_TELEGRAM_API_URL": tg.api_url,
        "COLLECTBOT_TELEGRAM_FILE_URL": tg.file_url, "COLLECTBOT_SWEEP_INTERVAL_MINUTES": "0",
    }
    proc = subprocess.Popen([COLLECTBOT, "run"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        tg.wait_for(lambda: tg.sent(1001), timeout=60, what="the pending reminder")
        [reminder] = tg.sent(1001)
        assert "INV-1" in reminder.plain_text
        assert reminder.button_texts == [["I paid", "Dispute"], ["Payment plan", "Promise a date"],
                                         ["Statement", "Talk to a person"]]
        tg.user_clicks(1001, reminder.message_id, button="I paid")
        tg.wait_for(lambda: len(tg.sent(1001)) >= 2, timeout=60, what="the answer to the click")
        with w.engine.connect() as conn:
            assert conn.execute(select(OutboundMessage.status)).scalar_one() == "sent"
            assert conn.execute(select(ReminderSend.status).where(ReminderSend.step == "first")).scalar_one() == "sent"
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert tg.token not in err
    assert tg.stats()["answered_429"] == 0
