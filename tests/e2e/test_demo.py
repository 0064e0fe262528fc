"""`collectbot demo`: a story a credit manager can follow, with the debtor's side of the chat.

The demo runs the real Telegram handlers against the in-process Bot API stand-in: the
transcript shows the reminder with its six buttons, a dispute and a payment claim going
through their flows, and staff decisions told in the chat. It needs no configuration or
network, and leaves no file behind (issue 11 §3, issue 12 §5).
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from bot.demo import run_demo
from tests.conftest import COLLECTBOT

pytestmark = pytest.mark.slow

BUTTON_ROWS = ("[ I paid ] [ Dispute ]", "[ Payment plan ] [ Promise a date ]", "[ Statement ] [ Talk to a person ]")


def after(text: str, marker: str) -> str:
    assert marker in text, marker
    return text[text.index(marker) :]


def test_the_demo_runs_as_a_process_without_configuration_and_leaves_nothing(tmp_path: Path) -> None:
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTBOT_", "TELEGRAM_", "SLACK_"))}
    env |= {"TMPDIR": str(tmp), "COLUMNS": "200"}
    proc = subprocess.run([COLLECTBOT, "demo"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(cwd.iterdir()) == []  # no database, no *.migrate-lock, nothing
    assert list(tmp.iterdir()) == []  # the throw-away database is gone too
    out = proc.stdout
    # who can be reached, and what happens to the others
    linked = after(out, "Debtors with a linked Telegram chat")
    for ref, language in (("ACME", "English"), ("CAFEZ", "Portuguese"), ("PARS", "Persian"), ("MALAGA", "Spanish")):
        assert ref in linked and language in linked
    assert "The other 26 customers have no linked chat" in out
    # the reminder as the debtor sees it, with its six buttons in their order
    reminder = after(out, "first reminder sent in Telegram [INV-1013, DN-4002]")
    reminder = after(reminder, "Hello ACME Corporation,")
    shown = reminder[: reminder.index(BUTTON_ROWS[2]) + len(BUTTON_ROWS[2])]
    assert "INV-1013 · due Mar 10, 2026 · $7,391.88" in shown
    assert [row for row in BUTTON_ROWS if row in shown] == list(BUTTON_ROWS)
    assert shown.index(BUTTON_ROWS[0]) < shown.index(BUTTON_ROWS[1]) < shown.index(BUTTON_ROWS[2])
    # the dispute, tapped from the reminder and taken through the flow
    dispute = after(out, "debtor taps [ Dispute ]")
    for step in (
        "Which invoice do you want to dispute?",
        "debtor taps [ DN-4002",
        "debtor taps [ Wrong price or quantity ]",
        "debtor writes: We never agreed to a $185 handling fee",
        "Your dispute of DN-4002 is recorded",
    ):
        dispute = after(dispute, step)
    assert "ACME       dispute opened by the debtor, in Telegram [DN-4002]" in out
    # the payment claim
    claim = after(out, "debtor taps [ I paid ]")
    for step in (
        "Which invoices did you pay?",
        "debtor writes: WIRE-7781",
        "We have recorded your payment of $7,391.88 for INV-1013",
    ):
        claim = after(claim, step)
    assert "ACME       payment claimed by the debtor, in Telegram [INV-1013]" in out
    # staff decisions reach the debtor in the same chat, the reason on its own line
    assert "We could not confirm your payment of $7,391.88" in out
    assert "Reason: no transfer WIRE-7781 reached our account" in out
    assert "Our team agrees with your dispute of DN-4002." in out


def test_the_story_is_summarised_and_explained_with_no_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the demo opened a connection: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    buffer = io.StringIO()
    run_demo(Console(file=buffer, width=200, highlight=False))
    out = buffer.getvalue()
    lines = out.splitlines()
    assert not any("step_skipped" in line or "reminder_sent" in line for line in lines)  # people's words, not kinds
    skipped = [line for line in lines if "skipped" in line]
    assert 1 <= len(skipped) <= 3  # one summary line per sweep that skipped, not one per item and step
    first_day = out[out.index("Mon 2026-11-02") : out.index("Tue 2026-11-03")]
    day_lines = [line for line in first_day.splitlines() if line.startswith("  ") and "┆" not in line]
    assert len([line for line in day_lines if "heads-up" not in line]) <= 6
    heads_ups = [line.split()[1] for line in day_lines if "heads-up" in line]
    assert len(heads_ups) == len(set(heads_ups))  # one heads-up per customer per sweep
    # an undelivered reminder says why and what happens instead
    phone = "no linked chat: the sales rep is asked to phone 2 customer(s) instead of a reminder: "
    assert phone + "LUSITANIA (first: INV-1048)" in out
    # a broken plan says why no reminder follows
    broken = after(out, "SAOJOAO    plan broken [INV-1044]")
    assert "why no reminder follows: INV-1044" in broken and "waits for sales to agree" in broken
    assert "SAOJOAO    formal notice waits for sales approval [INV-1044, INV-1069]" in out
    assert "SAOJOAO    step approved by sales" in out
    assert "Aging as of 2026-12-31" in out


def test_the_stand_in_refuses_what_telegram_refuses() -> None:
    import asyncio

    from telegram.error import BadRequest, Forbidden
    from telegram.ext import ExtBot

    from bot.demo_botapi import LocalBotAPI

    async def talk() -> None:
        api = LocalBotAPI()
        bot = ExtBot("1:demo", request=api, get_updates_request=LocalBotAPI())
        await bot.initialize()
        assert bot.username == "collectbot_demo_bot"
        with pytest.raises(Forbidden):
            await bot.send_message(42, "hello")  # a chat that never started the bot
        api.add_user(42, "Ana", "en")
        with pytest.raises(BadRequest, match="parse entities"):
            await bot.send_message(42, "<b>unclosed", parse_mode="HTML")
        sent = await bot.send_message(42, "<b>Hi</b> &amp; welcome", parse_mode="HTML")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text(
                "<b>Hi</b> &amp; welcome", chat_id=42, message_id=sent.message_id, parse_mode="HTML"
            )
        assert [(line.who, line.text) for line in api.transcript(42)] == [("bot", "Hi & welcome")]
        await bot.shutdown()

    asyncio.run(talk())
