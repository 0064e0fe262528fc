"""pytest fixtures for the fake chat servers (registered in tests/conftest.py as a plugin).

- ``fake_telegram``: a FakeTelegram on the test's own loop (async tests);
- ``fake_telegram_thread``: one on its own loop in a thread (sync tests, subprocesses);
- ``fake_slack`` / ``fake_slack_thread``: the same for FakeSlack.

Each fails the test if the fake itself raised (a bug in the fake, never hidden as a 500).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.fakes.server import FakeServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram


def _no_bugs(server: FakeServer) -> None:
    assert not server.internal_errors, "the fake server raised:\n" + "\n".join(server.internal_errors)


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as tg:
        yield tg
    _no_bugs(tg)


@pytest.fixture
def fake_telegram_thread() -> Iterator[FakeTelegram]:
    with FakeTelegram().in_thread() as tg:
        yield tg
    _no_bugs(tg)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack
    _no_bugs(slack)


@pytest.fixture
def fake_slack_thread() -> Iterator[FakeSlack]:
    with FakeSlack().in_thread() as slack:
        yield slack
    _no_bugs(slack)
