"""The one error handler: a polite line in the debtor's language, the traceback in the log only."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.handlers.telegram.context import ChatServices
from storage.tables import StaffAlert
from tests.handlers.telegram.harness import GAMA_CHAT, BotRig, texts


async def test_a_failure_gets_a_polite_line_and_staff_an_alert(
    rig: BotRig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: ChatServices, inbound: object) -> None:
        raise RuntimeError("the disk is on fire at /var/secret/path")

    rig.tg.add_user(GAMA_CHAT, "Gema", language_code="es")
    monkeypatch.setattr(ChatServices, "process", broken)
    with caplog.at_level(logging.ERROR, logger="collectbot.telegram"):
        replies = await rig.send(GAMA_CHAT, "hola")
    assert texts(replies) == "Lo sentimos, algo ha fallado por nuestra parte. Vuelva a intentarlo en un momento."
    assert "Traceback" in caplog.text and "disk is on fire" in caplog.text  # the log has it all
    with rig.app.engine.connect() as conn:
        ((kind, text),) = conn.execute(select(StaffAlert.kind, StaffAlert.text)).all()
    assert kind == "bot_error" and "RuntimeError" in text and "secret" not in text
