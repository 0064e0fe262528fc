"""`collectbot run` as its own process with the debtor's bot, against the fake Bot API over HTTP.

A debtor links their chat and starts "I paid"; the process is killed with SIGKILL between two
answers; a new `collectbot run` picks the flow up at the question the debtor was at, and the
claim is written once, on the final confirmation. The bot here uses the shared rate budget,
so the fake's own limit (1 message a second per chat) is never hit.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.engine import make_engine
from storage.tables import Payment
from tests.conftest import COLLECTBOT, cli_env
from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.telegram.harness import BETA_CHAT, link_token, load_ledger, make_app

pytestmark = pytest.mark.slow


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[tuple[FakeTelegram, dict[str, str], str]]:
    with FakeTelegram().in_thread() as tg:
        app = make_app(database_url, tg, datetime.now(UTC))
        load_ledger(app, tmp_path)
        token = link_token(app, "BETA")
        app.engine.dispose()
        env = cli_env(database_url) | {
            "TELEGRAM_BOT_TOKEN": tg.token,
            "COLLECTBOT_TELEGRAM_API_URL": tg.api_url,
            "COLLECTBOT_TELEGRAM_FILE_URL": tg.file_url,
            "COLLECTBOT_SWEEP_INTERVAL_MINUTES": "0",
        }
        yield tg, env, token
        assert tg.stats()["answered_429"] == 0


def start(env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([COLLECTBOT, "run"], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def said(tg: FakeTelegram, n: int, timeout: float = 30.0) -> str:
    """Wait for the bot's n-th message to the chat; its text."""
    tg.wait_for(lambda: len(tg.sent(BETA_CHAT)) >= n, timeout, f"bot message #{n}")
    return tg.sent(BETA_CHAT)[n - 1].plain_text


def test_kill_9_mid_flow_and_a_new_process_resumes_it(world, database_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    tg, env, token = world
    tg.add_user(BETA_CHAT, "Bia", language_code="pt-br")
    proc = start(env, tmp_path)
    try:
        tg.user_sends(BETA_CHAT, f"/start {token}")
        assert "Este chat agora está vinculado a Beta Ltda" in said(tg, 1)
        tg.user_clicks(BETA_CHAT, tg.sent(BETA_CHAT)[0].message_id, button="Já paguei")
        assert "Quais faturas você pagou?" in said(tg, 2)
        question = tg.sent(BETA_CHAT)[1]
        tg.user_clicks(BETA_CHAT, question.message_id, button=question.button_texts[2][0])  # Todas em BRL
        assert "Quanto você pagou" in said(tg, 3)
        tg.user_sends(BETA_CHAT, "6.234,56")
        assert "Quando você pagou?" in said(tg, 4)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    proc = start(env, tmp_path)
    try:
        tg.user_sends(BETA_CHAT, "2026-01-31")  # the answer to the question asked before the kill
        assert "referência do pagamento" in said(tg, 5)
        tg.user_sends(BETA_CHAT, "PIX-998877")
        assert "comprovante" in said(tg, 6)
        tg.user_sends(BETA_CHAT, "pular")
        assert "Confira, por favor" in said(tg, 7)
        tg.user_clicks(BETA_CHAT, tg.sent(BETA_CHAT)[6].message_id, button="✔ Confirmar")
        assert "Registramos o seu pagamento" in said(tg, 8)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and tg.token not in stderr and "Telegram: on as @collectbot_test_bot" in stderr
    engine = make_engine(database_url)
    with engine.connect() as conn:
        claims = conn.execute(select(Payment.amount_cents, Payment.date, Payment.reference)
                              .where(Payment.source == "debtor")).all()
    engine.dispose()
    assert [(c, d.isoformat(), r) for c, d, r in claims] == [(623456, "2026-01-31", "PIX-998877")]
    assert len(tg.commands) == 5  # the command menu: the default and each of en, es, pt, fa


def test_a_refused_token_is_one_line_at_start_up(world, tmp_path: Path) -> None:  # noqa: ANN001
    tg, env, _ = world
    proc = subprocess.run([COLLECTBOT, "run"], env=env | {"TELEGRAM_BOT_TOKEN": "42:AAnot-the-right-one"},
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == "error: Telegram refused TELEGRAM_BOT_TOKEN (getMe: unauthorized)"
    assert "AAnot-the-right-one" not in proc.stderr and "Traceback" not in proc.stderr
