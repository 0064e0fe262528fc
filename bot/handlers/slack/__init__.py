"""The team's side in Slack: the Bolt app, the case threads, decisions by button, the relay to debtors.

- `build_slack_app(app) -> AsyncApp`: every listener (bot.handlers.slack.app);
- `start_slack(app) -> SlackHandle | None` / `stop_slack(handle)`: `collectbot run`'s Slack, on its loop;
- `SlackAlertChannel` / `alert_channel_for(app)`: the staff alert outbox's Slack channel (one thread
  per customer case);
- `SlackAdapter(app, kick)`: the same as an Adapter of `run` (start / stop).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Imported on first use (PEP 562): Bolt, aiohttp and the Slack SDK cost ~0.3 s, and every CLI
# command reaches this package (report posting) without needing them.
_HOME = {
    "SlackAlertChannel": "alerts",
    "alert_channel_for": "alerts",
    "SlackAdapter": "app",
    "SlackHandle": "app",
    "SlackUnavailable": "app",
    "build_slack_app": "app",
    "start_slack": "app",
    "stop_slack": "app",
    "SlackServices": "context",
    "services_of": "context",
    "web_client": "context",
}

if TYPE_CHECKING:
    from bot.handlers.slack.alerts import SlackAlertChannel, alert_channel_for
    from bot.handlers.slack.app import (
        SlackAdapter,
        SlackHandle,
        SlackUnavailable,
        build_slack_app,
        start_slack,
        stop_slack,
    )
    from bot.handlers.slack.context import SlackServices, services_of, web_client


def __getattr__(name: str) -> Any:  # noqa: ANN401
    """The package's names, imported from their module on first use."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)


__all__ = [
    "SlackAdapter",
    "SlackAlertChannel",
    "alert_channel_for",
    "SlackHandle",
    "SlackServices",
    "SlackUnavailable",
    "build_slack_app",
    "services_of",
    "start_slack",
    "stop_slack",
    "web_client",
]
