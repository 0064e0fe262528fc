"""The rig (tests.handlers.telegram.harness.rig): a fake Bot API on the test's loop, a small ledger,
the real Application polling it."""

from tests.handlers.telegram.harness import rig  # noqa: F401  (the fixture, shared with tests/security)
