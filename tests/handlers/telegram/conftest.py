"""The rig: a fake Bot API on the test's loop, a small ledger, the real Application polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.telegram.harness import BotRig, load_ledger, make_app


@pytest.fixture
async def rig(database_url: str, tmp_path: Path) -> AsyncIterator[BotRig]:
    # chat_burst: the conversation tests answer faster than a person would; the shared rate
    # budget (its own tests, and test_rate_budget_keeps_replies_under_the_chat_limit) keeps 1/s.
    async with FakeTelegram(chat_burst=30) as tg:
        app = make_app(database_url, tg)
        load_ledger(app, tmp_path)
        rig = BotRig(app, tg)
        await rig.start()
        try:
            yield rig
        finally:
            await rig.stop()
            app.engine.dispose()
    assert not tg.internal_errors, tg.internal_errors
