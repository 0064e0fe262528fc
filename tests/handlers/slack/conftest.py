"""The rig: the fake Slack and Telegram on the test's loop, the small ledger, the Slack app started as `run` does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.slack.harness import SlackRig, load, make_app, people


@pytest.fixture
async def slack(fake_slack: FakeSlack) -> FakeSlack:
    people(fake_slack)
    return fake_slack


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(chat_burst=30) as fake:
        yield fake
    assert not fake.internal_errors, fake.internal_errors


@pytest.fixture
async def rig(database_url: str, tmp_path: Path, slack: FakeSlack, tg: FakeTelegram) -> AsyncIterator[SlackRig]:
    app = make_app(database_url, slack, tg)
    load(app, tmp_path)
    rig = SlackRig(app, slack, tg)
    await rig.start()
    try:
        yield rig
    finally:
        await rig.stop()
        app.engine.dispose()
