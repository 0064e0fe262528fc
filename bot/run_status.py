"""What `collectbot run` says at start: each channel on or off, one line each, and why when off.

An operator reading the first lines of the log knows whether debtors can reach the bot,
where staff alerts go, and whether anything will sweep on its own:

    Telegram: on as @acme_collect_bot
    Slack: off: SLACK_BOT_TOKEN not set (staff alerts go to the log)
    scheduler: sweep every 15 minutes (the first at 10:15 UTC)

Pure: built from the settings and what `serve()` actually started, no I/O.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.config import Settings

SLACK_MODES = ("socket", "http", "http-waiting", "alerts")


def _set(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())


def telegram_line(settings: Settings, username: str | None) -> str:
    """`username`: the bot's name from getMe when the bot was started, else None."""
    if username:
        return f"Telegram: on as @{username}"
    if not _set(settings.telegram_bot_token):
        return "Telegram: off: TELEGRAM_BOT_TOKEN not set"
    return "Telegram: off: the bot did not start"


def slack_line(settings: Settings, mode: str | None) -> str:
    """`mode`: the started Slack adapter's ("socket", "http", "http-waiting", "alerts"), else None (the reason
    comes from the settings)."""
    if mode == "socket":
        return "Slack: on (socket mode)"
    if mode == "http":
        return f"Slack: on (http, port {settings.slack_http_port}, /slack/events)"
    if mode == "http-waiting":
        return (f"Slack: on (http, port {settings.slack_http_port} in use by another instance: this one listens "
                "when it is free; alerts posted meanwhile)")
    if mode == "alerts":
        return ("Slack: alerts only: neither SLACK_APP_TOKEN (socket mode) nor SLACK_SIGNING_SECRET (http) is set "
                "(alerts and reports posted, nothing received from Slack)")
    to_log = " (staff alerts go to the log)"
    if not _set(settings.slack_bot_token):
        return "Slack: off: SLACK_BOT_TOKEN not set" + to_log
    if not _set(settings.slack_app_token) and not _set(settings.slack_signing_secret):
        return "Slack: off: neither SLACK_APP_TOKEN (socket mode) nor SLACK_SIGNING_SECRET (http) is set" + to_log
    return "Slack: off: the Slack adapter is not part of this build" + to_log


def scheduler_line(minutes: int, first: datetime | None = None) -> str:
    """The sweep's interval in minutes (0: none) and, when known, the first run (never at start-up)."""
    if minutes <= 0:
        return "scheduler: off: COLLECTBOT_SWEEP_INTERVAL_MINUTES=0 (run `collectbot sweep` yourself)"
    every = "every minute" if minutes == 1 else f"every {minutes} minutes"
    when = f" (the first at {first:%H:%M %Z})" if first is not None else ""
    return f"scheduler: sweep {every}{when}"


def status_lines(
    settings: Settings,
    *,
    telegram_username: str | None,
    slack_mode: str | None,
    first_sweep: datetime | None = None,
) -> list[str]:
    """The three start-up lines of `collectbot run`: Telegram, Slack, scheduler (the first sweep in company time)."""
    return [
        telegram_line(settings, telegram_username),
        slack_line(settings, slack_mode),
        scheduler_line(
            settings.sweep_interval_minutes,
            first_sweep.astimezone(ZoneInfo(settings.timezone)) if first_sweep is not None else None,
        ),
    ]
