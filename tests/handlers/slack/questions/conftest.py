"""The rig for the Slack question tests (rig.py beside this file)."""

from tests.handlers.slack.questions.rig import rig  # noqa: F401
