"""`collectbot run`: one asyncio loop for the scheduler (and, when configured, the chat adapters).

The database, not the scheduler, records what was sent, so a restart never
repeats a reminder; APScheduler only says when to look. No sweep runs at
start-up: the first one comes one interval after it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App, build_sweeper
from bot.run_status import status_lines

log = logging.getLogger("collectbot.run")


async def _sweep_job(app: App) -> None:
    sweeper = build_sweeper(app)
    # The sweep does blocking database work: keep it off the loop the chat adapters share.
    report = await asyncio.to_thread(sweeper.sweep, app.now())
    log.info("sweep: %d message(s), %d skipped, %d staff alert(s)", len(report.messages), report.skipped, report.alerts)


async def serve(app: App) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    _ = app.engine  # bring the schema up to date before anything is scheduled
    telegram = await _start_telegram(app)  # (telegram branch) the debtor's bot; the lead merges it with §2
    scheduler = AsyncIOScheduler(timezone=app.settings.timezone)
    minutes = app.settings.sweep_interval_minutes
    first_sweep = app.now() + timedelta(minutes=minutes) if minutes > 0 else None
    if minutes > 0:
        scheduler.add_job(
            _sweep_job,
            IntervalTrigger(minutes=minutes, timezone=app.settings.timezone),
            args=[app],
            id="sweep",
            max_instances=1,
            coalesce=True,
            next_run_time=first_sweep,
        )
        from bot.handlers.slack.report_poster import add_report_jobs  # (slackask) digest and weekly to Slack

        if add_report_jobs(scheduler, app):
            log.info(
                "Slack reports: the digest daily at %s, the weekly summary on %s (%s)",
                app.settings.slack_digest_at,
                app.settings.slack_weekly_on,
                app.settings.timezone,
            )
    username = telegram.bot.username if telegram is not None else None
    for line in status_lines(app.settings, telegram_username=username, slack_mode=None, first_sweep=first_sweep):
        log.info("%s", line)
    scheduler.start()
    log.info("collectbot is running; SIGINT or SIGTERM stops it")
    await stop.wait()
    log.info("stopping")
    scheduler.shutdown(wait=True)
    if telegram is not None:
        await telegram.updater.stop()
        await telegram.stop()
        await telegram.shutdown()
    app.engine.dispose()


async def _start_telegram(app: App):  # noqa: ANN202
    """The debtor's bot on this loop (initialize, post_init, start, polling), or None without a token.

    A refused token or an unreachable Bot API is one line and exit status 1 (issue 12 §2)."""
    secret = app.settings.telegram_bot_token
    if secret is None or not secret.get_secret_value().strip():  # unset, or `TELEGRAM_BOT_TOKEN=` in .env
        return None
    from bot.handlers.telegram import build_application
    from bot.handlers.telegram.botapi import TelegramUnavailable, check_bot

    application = build_application(app)
    try:  # getMe first: PTB's own initialize() would name the token in its error
        await check_bot(application.bot, app)
        await application.initialize()
        await application.post_init(application)
    except TelegramUnavailable as exc:
        raise SystemExit(f"error: {exc}") from None
    await application.start()
    await application.updater.start_polling(allowed_updates=["message", "callback_query"])
    return application
