"""The team's side in Slack: the Bolt app, the case threads, decisions by button, the relay to debtors.

- `build_slack_app(app) -> AsyncApp`: every listener (bot.handlers.slack.app);
- `start_slack(app) -> SlackHandle | None` / `stop_slack(handle)`: `collectbot run`'s Slack, on its loop;
- `SlackAlertChannel` / `alert_channel_for(app)`: the staff alert outbox's Slack channel (one thread
  per customer case);
- `SlackAdapter(app, kick)`: the same as an Adapter of `run` (start / stop).
"""

from __future__ import annotations

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
