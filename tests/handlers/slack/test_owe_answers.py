""""What does ACME owe?" end to end: signed requests to the real Bolt app, answers on the fake Slack."""

from __future__ import annotations

import json

from tests.handlers.slack.rig import CHANNEL, CREDIT, REP1, Rig, all_text, button_values, rig  # noqa: F401


async def test_a_mention_is_answered_in_its_thread_with_every_fact(rig: Rig) -> None:
    answer = await rig.mention(CREDIT, "what does ACME owe?")
    text = all_text(answer.blocks, answer.text)
    assert answer.thread_ts is not None
    assert "ACME Corporation (ACME)" in text
    for fact in ("$1,500.00", "Overdue", "$1,000.00", "Credit limit", "$50,000.00", "Available credit", "$48,500.00",
                 "31-60", "INV-1", "INV-2", "Next step:", "Payer rating:", "DSO:", "Last contact:"):
        assert fact in text, fact
    assert "matched" not in text  # an exact name says nothing about matching
