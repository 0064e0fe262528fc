"""The rig for the Slack question tests (tests/handlers/slack/rig.py)."""

from tests.handlers.slack.rig import rig  # noqa: F401
