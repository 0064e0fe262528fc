"""`collectbot run`: one asyncio loop hosting APScheduler, the chat adapters and the delivery path.

- Adapters (`Adapter`: `start()` / `stop()`) run on the loop: the debtor's Telegram bot
  (python-telegram-bot's Application through initialize / start / updater.start_polling, or
  start_webhook when COLLECTBOT_TELEGRAM_WEBHOOK_URL is set) and, with the Slack issue, Bolt's
  AsyncApp: HOOK `adapters(app, outflow)` below is where it is added.
- APScheduler (AsyncIOScheduler on the same loop): the sweep job every
  COLLECTBOT_SWEEP_INTERVAL_MINUTES (never at start-up) and the delivery job every
  DELIVERY_SECONDS (dead claims, pending debtor messages, pending staff alerts). With an
  interval of 0 neither runs; start-up still delivers what earlier processes left pending, and
  `Outflow.kick()` (for adapters that record notices) delivers at once.
- Database work runs in bot.scheduler.dbpool's bounded thread pool, never on the loop.

The database, not the scheduler, records what was sent, so a restart never repeats a reminder.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App, build_alert_channel, build_sweeper
from bot.run_status import status_lines
from bot.scheduler.dbpool import run_db
from bot.scheduler.delivery import Outflow

log = logging.getLogger("collectbot.run")

DELIVERY_SECONDS = 30  # how often `run` looks for pending messages and alerts (when the sweep is scheduled)


class Adapter(Protocol):
    """A chat front end hosted on `run`'s loop."""

    name: str

    async def start(self) -> None:
        """Connect and start receiving (raise SystemExit with one line when it cannot)."""

    async def stop(self) -> None:
        """Stop receiving and release everything (called in reverse order of start)."""


class TelegramAdapter:
    """The debtor's bot: python-telegram-bot's Application on this loop (not run_polling, which owns the loop)."""

    name = "telegram"

    def __init__(self, app: App) -> None:
        from bot.handlers.telegram import build_application

        self.app = app
        self.application = build_application(app)
        self._webhook = False

    @property
    def channel(self):  # noqa: ANN201
        """The DebtorChannel that sends through this Application's bot (and its shared rate limiter)."""
        from bot.handlers.telegram.delivery import TelegramDebtorChannel

        return TelegramDebtorChannel(self.application.bot, app=self.app)

    async def start(self) -> None:
        """getMe (a refused token or an unreachable API: one line, exit 1), initialize, commands, start,
        then long polling or the webhook server."""
        from bot.handlers.telegram.botapi import TelegramUnavailable, check_bot

        application, settings = self.application, self.app.settings
        try:  # getMe first: PTB's own initialize() would name the token in its error
            await check_bot(application.bot, self.app)
            await application.initialize()
            await application.post_init(application)
        except TelegramUnavailable as exc:
            raise SystemExit(f"error: {exc}") from None
        await application.start()
        allowed = ["message", "callback_query"]
        if settings.telegram_webhook_url:
            secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
            try:
                await application.updater.start_webhook(
                    listen=settings.telegram_webhook_listen,
                    port=settings.telegram_webhook_port,
                    url_path=settings.telegram_webhook_path,
                    webhook_url=settings.telegram_webhook_url,
                    secret_token=secret,
                    allowed_updates=allowed,
                )
            except RuntimeError as exc:  # python-telegram-bot[webhooks] (tornado) missing
                raise SystemExit(f"error: Telegram webhook mode: {exc}") from None
            self._webhook = True
            log.info("the debtor's Telegram bot @%s takes updates by webhook on %s:%d",
                     application.bot.username, settings.telegram_webhook_listen, settings.telegram_webhook_port)
        else:
            await application.updater.start_polling(allowed_updates=allowed)
            log.info("the debtor's Telegram bot is polling as @%s", application.bot.username)

    async def stop(self) -> None:
        """Stop taking updates, then the Application (the reverse of start)."""
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()


def adapters(app: App) -> list[Adapter]:
    """HOOK: the chat adapters `run` hosts. Telegram when TELEGRAM_BOT_TOKEN is set; the Slack issue
    appends Bolt's AsyncApp adapter here (started after Telegram, stopped before it)."""
    found: list[Adapter] = []
    secret = app.settings.telegram_bot_token
    if secret is not None and secret.get_secret_value().strip():  # unset, or `TELEGRAM_BOT_TOKEN=` in .env: off
        found.append(TelegramAdapter(app))
    return found


async def _sweep_job(app: App, outflow: Outflow) -> None:
    sweeper = build_sweeper(app, debtor=outflow.debtor, staff=outflow.staff)
    report = await outflow.sweep(sweeper, app.now())
    log.info("sweep: %d message(s), %d skipped, %d staff alert(s)", len(report.messages), report.skipped, report.alerts)


async def _delivery_job(outflow: Outflow) -> None:
    await outflow.flush()


async def serve(app: App) -> None:
    """Run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_db(lambda: app.engine)  # bring the schema up to date before anything starts
    started: list[Adapter] = []
    found = adapters(app)
    telegram = next((a for a in found if isinstance(a, TelegramAdapter)), None)
    outflow = Outflow(
        engine=app.engine,
        debtor=telegram.channel if telegram is not None else None,
        staff=build_alert_channel(app),
        renderer=app.renderer,
        clock=app.now,
    )
    app.outflow = outflow  # type: ignore[attr-defined]  # adapters that record notices kick it
    scheduler = AsyncIOScheduler(timezone=app.settings.timezone)
    try:
        for adapter in found:
            await adapter.start()
            started.append(adapter)
        minutes = app.settings.sweep_interval_minutes
        first_sweep = app.now() + timedelta(minutes=minutes) if minutes > 0 else None
        if minutes > 0:
            scheduler.add_job(
                _sweep_job,
                IntervalTrigger(minutes=minutes, timezone=app.settings.timezone),
                args=[app, outflow],
                id="sweep",
                max_instances=1,
                coalesce=True,
                next_run_time=first_sweep,
            )
            scheduler.add_job(
                _delivery_job,
                IntervalTrigger(seconds=DELIVERY_SECONDS, timezone=app.settings.timezone),
                args=[outflow],
                id="delivery",
                max_instances=1,
                coalesce=True,
                next_run_time=app.now() + timedelta(seconds=DELIVERY_SECONDS),
            )
            from bot.handlers.slack.report_poster import add_report_jobs  # (slackask) digest and weekly to Slack

            if add_report_jobs(scheduler, app):
                log.info(
                    "Slack reports: the digest daily at %s, the weekly summary on %s (%s)",
                    app.settings.slack_digest_at,
                    app.settings.slack_weekly_on,
                    app.settings.timezone,
                )
        username = telegram.application.bot.username if telegram is not None else None
        for line in status_lines(app.settings, telegram_username=username, slack_mode=None, first_sweep=first_sweep):
            log.info("%s", line)
        scheduler.start()
        outflow.kick()  # what stopped processes left pending (not a sweep)
        log.info("collectbot is running; SIGINT or SIGTERM stops it")
        await stop.wait()
        log.info("stopping")
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await outflow.drain()
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:  # noqa: BLE001 - stop the others all the same
                log.exception("stopping %s failed", adapter.name)
        await run_db(app.engine.dispose)
