"""The Telegram rig (tests.handlers.telegram.harness.rig), shared with tests/handlers/telegram."""

from tests.handlers.telegram.harness import rig  # noqa: F401  (the fixture)
