"""`collectbot run`: one asyncio loop hosting APScheduler, the chat adapters and the delivery path.

- Adapters (`Adapter`: `start()` / `stop()`) run on the loop: the debtor's Telegram bot
  (python-telegram-bot's Application through initialize / start / updater.start_polling, or
  start_webhook when COLLECTBOT_TELEGRAM_WEBHOOK_URL is set) and Bolt's AsyncApp for the team's
  Slack (Socket Mode or HTTP): `adapters(app)` below.
- APScheduler (AsyncIOScheduler on the same loop): the sweep job every
  COLLECTBOT_SWEEP_INTERVAL_MINUTES (never at start-up) and the delivery job every
  DELIVERY_SECONDS (dead claims, pending debtor messages, pending staff alerts). With an
  interval of 0 neither runs; start-up still delivers what earlier processes left pending, and
  `Outflow.kick()` (for adapters that record notices) delivers at once.
- Several `run`s on one database: one polls Telegram (an elected role, bot.scheduler.roles), the
  others send and take over when it stops; each looks every few seconds for claims left by one
  that died (bot.scheduler.peers) and settles them at once.
- Database work runs in bot.scheduler.dbpool's bounded thread pool, never on the loop.

The database, not the scheduler, records what was sent, so a restart never repeats a reminder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App, build_sweeper
from bot.run_status import status_lines
from bot.scheduler.dbpool import run_db
from bot.scheduler.delivery import Outflow

if TYPE_CHECKING:
    from bot.scheduler.roles import SoleRole

log = logging.getLogger("collectbot.run")

DELIVERY_SECONDS = 30  # how often `run` looks for pending messages and alerts (when the sweep is scheduled)
POLLER_RETRY_SECONDS = 3.0  # how often a sending-only instance tries to become the Telegram poller
ALLOWED_UPDATES = ["message", "callback_query"]


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
        self._role: SoleRole | None = None  # the poller role (long polling only)
        self._watch: asyncio.Task | None = None
        self.took_over: Callable[[], None] | None = None  # called when this instance takes over polling

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
        allowed = ALLOWED_UPDATES
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
            log.info("Telegram role: webhook: every instance takes the updates its load balancer gives it")
        else:
            await self._elect()
            self._watch = asyncio.get_running_loop().create_task(self._keep_electing(), name="telegram-poller-role")

    @property
    def role(self) -> str:
        """"webhook", "poller" (this instance long-polls getUpdates) or "sender" (another one polls)."""
        if self._webhook:
            return "webhook"
        return "poller" if self._role is not None and self._role.held else "sender"

    async def _elect(self, *, took_over: bool = False) -> bool:
        """Poll if no other instance on the database does (bot.scheduler.roles.SoleRole); True when polling."""
        from bot.scheduler.roles import SoleRole

        if self._role is None:
            bot_id = self.app.settings.telegram_bot_token.get_secret_value().strip().split(":", 1)[0]  # type: ignore[union-attr]
            self._role = SoleRole(self.app.engine, f"telegram-poller:{bot_id}")
        if not await run_db(self._role.try_take):
            if not took_over:
                log.info("Telegram role: sender: another instance on this database polls for updates; this one "
                         "sweeps and delivers, and takes over polling within %.0f s if that one stops",
                         POLLER_RETRY_SECONDS)
            return False
        try:
            await self.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)  # type: ignore[union-attr]
        except BaseException:
            await run_db(self._role.release)
            raise
        log.info("Telegram role: poller: the debtor's bot @%s polls for updates (the one poller on this database)%s",
                 self.application.bot.username,
                 ": took over (the previous poller stopped or lost its database session)" if took_over else "")
        if took_over and self.took_over is not None:
            self.took_over()
        return True

    async def _keep_electing(self) -> None:
        """Every POLLER_RETRY_SECONDS: a sender tries to become the poller; the poller checks that its role
        (its database session) is still there, and stops polling when it is not (another may poll now)."""
        updater, role = self.application.updater, self._role
        assert updater is not None and role is not None
        unreachable = False
        while True:
            await asyncio.sleep(POLLER_RETRY_SECONDS)
            if role.held:
                try:
                    kept = await run_db(role.still_held)
                except Exception:  # noqa: BLE001 - the database out of reach: the role may be someone else's now
                    kept = False
                    with contextlib.suppress(Exception):
                        await run_db(role.release)
                if not kept and updater.running:
                    log.warning("Telegram role: sender: lost the poller role (its database session); stopped polling")
                    await updater.stop()
                continue
            try:
                await self._elect(took_over=True)
                unreachable = False
            except Exception as exc:  # noqa: BLE001 - the database or Telegram out of reach: try again later
                if not unreachable:
                    log.warning("Telegram role: cannot take over polling now (%s); trying again every %.0f s",
                                type(exc).__name__, POLLER_RETRY_SECONDS)
                unreachable = True

    async def stop(self) -> None:
        """Stop taking updates, give up the poller role, then the Application (the reverse of start)."""
        application = self.application
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if self._role is not None:
            await run_db(self._role.release)
        if application.running:
            await application.stop()
        await application.shutdown()


def adapters(app: App) -> list[Adapter]:
    """The chat adapters `run` hosts, in start order: the debtor's Telegram bot when
    TELEGRAM_BOT_TOKEN is set, then the team's Slack app (bot.handlers.slack.SlackAdapter: Socket
    Mode with SLACK_APP_TOKEN, else HTTP) when SLACK_BOT_TOKEN is set. They stop in reverse order."""
    found: list[Adapter] = []
    if _set(app.settings.telegram_bot_token):  # unset, or `TELEGRAM_BOT_TOKEN=` in .env: off
        found.append(TelegramAdapter(app))
    if _set(app.settings.slack_bot_token):
        from bot.handlers.slack.app import SlackAdapter

        # A Slack decision or relay records a debtor notice: the delivery path sends it at once.
        found.append(SlackAdapter(app, kick=lambda: app.outflow.kick()))  # type: ignore[attr-defined]
    return found


def build_alert_channel(app: App):  # noqa: ANN201
    """Where staff alerts are posted, by `run` and by the CLI `sweep` alike: the customer's thread in
    COLLECTBOT_SLACK_CHANNEL (bot.handlers.slack.alerts.SlackAlertChannel) when SLACK_BOT_TOKEN and
    the channel are set, else the log (ConsoleAlertChannel). Alerts wait in their outbox either way."""
    from bot.scheduler.channels import ConsoleAlertChannel

    if _set(app.settings.slack_bot_token):
        from bot.handlers.slack.alerts import alert_channel_for

        channel = alert_channel_for(app)
        if channel is not None:
            return channel
    return ConsoleAlertChannel()


def _set(secret) -> bool:  # noqa: ANN001  (pydantic SecretStr | None)
    return secret is not None and bool(secret.get_secret_value().strip())


async def _sweep_job(app: App, outflow: Outflow) -> None:
    sweeper = build_sweeper(app, debtor=outflow.debtor, staff=outflow.staff)
    report = await outflow.sweep(sweeper, app.now())
    log.info("sweep: %d message(s), %d skipped, %d staff alert(s)", len(report.messages), report.skipped, report.alerts)


async def _delivery_job(outflow: Outflow) -> None:
    await outflow.flush()


async def _watch_dead_claims(app: App, outflow: Outflow) -> None:
    """Every WATCH_SECONDS: claims left by a process that died ask for a delivery pass (bot.scheduler.peers)."""
    from bot.scheduler.peers import WATCH_SECONDS, dead_claims_waiting

    while True:
        await asyncio.sleep(WATCH_SECONDS)
        try:
            dead = await run_db(dead_claims_waiting, app.engine)
        except Exception:  # noqa: BLE001 - the database out of reach: the delivery path says so itself
            continue
        if dead:
            log.info("another instance stopped with messages or alerts in flight: settling them now")
            outflow.kick()


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
    if telegram is not None:
        # Taking over polling means the poller stopped: a pass now finds its claims dead (unknown or freed).
        telegram.took_over = outflow.kick
    scheduler = AsyncIOScheduler(timezone=app.settings.timezone)
    watch: asyncio.Task | None = None
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
        slack = next((a for a in started if a.name == "slack"), None)
        slack_mode = slack.handle.mode if slack is not None and slack.handle is not None else None  # type: ignore[attr-defined]
        for line in status_lines(
            app.settings, telegram_username=username, slack_mode=slack_mode, first_sweep=first_sweep
        ):
            log.info("%s", line)
        scheduler.start()
        outflow.kick()  # what stopped processes left pending (not a sweep)
        watch = asyncio.get_running_loop().create_task(_watch_dead_claims(app, outflow), name="dead-claims")
        log.info("collectbot is running; SIGINT or SIGTERM stops it")
        await stop.wait()
        log.info("stopping")
    finally:
        if watch is not None:
            watch.cancel()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await outflow.drain()
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:  # noqa: BLE001 - stop the others all the same
                log.exception("stopping %s failed", adapter.name)
        await run_db(app.engine.dispose)
