"""The composition root: settings -> engine -> policy -> services.

Nothing is built at import time; the CLI, `run`, the demo and tests each build
their own `App`, so a test can point one at a temporary database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.domain.csv_rows import CustomerDefaults
from bot.domain.ladder import ladder_fingerprint
from bot.domain.policy import Policy
from bot.domain.policy_loader import PolicyError
from bot.importer import ImportContext
from storage.engine import open_database


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def engine(self) -> Engine:
        return open_database(self.settings.database_url)

    @cached_property
    def policy(self) -> Policy:
        """The policy in force, its templates checked to render in every locale.

        Raises PolicyError (one line) for a broken COLLECTBOT_POLICY_FILE or templates.
        """
        from bot.services.policy import load_checked_policy

        try:
            renderer = self.renderer
        except FileNotFoundError as exc:
            raise PolicyError("", str(exc), "COLLECTBOT_TEMPLATES_DIR") from None
        return load_checked_policy(self.settings.policy_file, renderer)

    @cached_property
    def company_tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @cached_property
    def renderer(self):  # noqa: ANN201
        from messages import Renderer

        return Renderer(self.settings.templates_dir)

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        """The company's calendar date (reports, default as-of)."""
        return self.now().astimezone(self.company_tz).date()

    def import_context(self) -> ImportContext:
        earliest = min(
            step.offset_days - (step.heads_up_days or 0) for seg in self.policy.segments.values() for step in seg.steps
        )
        return ImportContext(
            customer_defaults=CustomerDefaults(
                segments=frozenset(self.policy.segments), timezone=self.settings.timezone
            ),
            earliest_action_offset=min(earliest, -self.policy.installment_reminder_days_before),
            now=self.now(),
            policy_fingerprint=ladder_fingerprint(self.policy),
        )


_CONSOLE = object()  # "use the console channel" (the default of build_sweeper)


def build_sweeper(app: App, debtor=_CONSOLE, staff=None):  # noqa: ANN001, ANN201
    """The sweep wired to these channels: `debtor` a DebtorChannel, or None when Telegram is off
    (reminders then stay pending in the outbox); the console for both by default (demo, tests).
    `run` and the CLI `sweep` pass bot.runner.build_alert_channel(app) (Slack when configured)."""
    from bot.scheduler.channels import ConsoleAlertChannel, ConsoleDebtorChannel
    from bot.scheduler.sweep import Sweeper

    policy = app.policy  # before the engine: a broken policy stops the command before it touches the database
    return Sweeper(
        engine=app.engine,
        policy=policy,
        debtor=ConsoleDebtorChannel() if debtor is _CONSOLE else debtor,
        staff=staff or ConsoleAlertChannel(),
        renderer=app.renderer,
    )
