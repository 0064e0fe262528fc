"""The Slack app of `collectbot run`: slack-bolt's AsyncApp on the run's loop, in Socket Mode or HTTP mode.

- Web API base: COLLECTBOT_SLACK_API_URL (AsyncWebClient `base_url`), with slack_sdk's
  AsyncRateLimitErrorRetryHandler honouring 429 Retry-After (no hand-made retry loop).
- Socket Mode when SLACK_APP_TOKEN is set (`connect_async` / `close_async`: `start_async` never
  returns); otherwise HTTP mode: Bolt's aiohttp app at `/slack/events` on
  COLLECTBOT_SLACK_HTTP_PORT, every request's signature checked with SLACK_SIGNING_SECRET by
  Bolt (HMAC-SHA256, constant-time compare, 5 minutes of clock skew at most). Several instances
  on one host: the port's holder receives; the others post, and take the port when it frees.
  Neither token nor secret: alerts and reports are posted, nothing is received (a warning).
- Ack within 3 s: listeners ack first and do the database work after it (run_db threads).
- Slack's retries of an event (same `event_id`, X-Slack-Retry-Num) are acked and not acted on
  again: each event id is recorded in the database (`slack_event`) before it is handled.
- A refused token or an unreachable API is one line at start-up (`SlackUnavailable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.handlers.slack import actions, questions, replies
from bot.handlers.slack.alerts import SlackAlertChannel
from bot.handlers.slack.context import Deliver, SlackServices, leave_to_the_delivery_path, web_client
from bot.scheduler.dbpool import run_db
from bot.scheduler.ratelimit import SharedBudget
from bot.services import slack_cases

log = logging.getLogger("collectbot.slack")

EVENTS_PATH = "/slack/events"
HTTP_HOST = "0.0.0.0"  # Slack (or its tunnel) must reach it  # noqa: S104
SOCKET_CONNECT_TIMEOUT = 30.0  # seconds for the first websocket connection
STOP_GRACE = 10.0  # seconds stop_slack waits for work started after an ack
BIND_RETRY_SECONDS = 2.0  # HTTP mode with the port in use (another instance on this host): how often to try it


class SlackUnavailable(Exception):
    """Slack cannot be used as configured (a refused token, the API out of reach, no signing secret): one line."""


def _secret(value: Any) -> str:  # noqa: ANN401
    return value.get_secret_value().strip() if value is not None else ""


def _first_delivery(app: App, event_id: str) -> bool:
    return slack_cases.first_delivery(app.engine, event_id, app.now())


def build_slack_app(app: App, client: AsyncWebClient | None = None, *, deliver: Deliver | None = None) -> AsyncApp:
    """The Bolt AsyncApp with every collectbot listener (alert buttons, thread replies, and the questions
    and reports of bot.handlers.slack.questions when that module is present). Nothing is started;
    `start_slack` does that. The SlackServices it shares are `services_of(bolt)`.

    `deliver(ids)` is called after a Slack decision or relay committed, with the debtor outbox ids
    it recorded (maybe none: a hold request raised a staff alert): `collectbot run` passes its
    delivery path's kick (the Slack handlers do not send to Telegram themselves); the default
    leaves them pending in the outbox.
    """
    client = client or web_client(app)
    services = SlackServices(
        app=app,
        client=client,
        channel=app.settings.slack_channel or None,
        credit_staff=app.settings.credit_staff_ids,
        budget=SharedBudget(app.engine),
        deliver=deliver or leave_to_the_delivery_path,
    )
    bolt_log = logging.getLogger("collectbot.slack.bolt")
    bolt_log.addFilter(_client_given_note)
    bolt = AsyncApp(
        client=client,
        signing_secret=_secret(app.settings.slack_signing_secret),
        logger=bolt_log,
    )
    bolt.collectbot = services  # type: ignore[attr-defined]

    @bolt.middleware
    async def once_per_event(body: dict, next: Any) -> BoltResponse | None:  # noqa: A002, ANN401
        """Slack retries an event it thinks was not acked (X-Slack-Retry-Num, same event_id): ack, do nothing."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await run_db(_first_delivery, app, str(event_id)):
            log.info("Slack event %s delivered again: already handled", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    actions.register(bolt, services)
    replies.register(bolt, services)  # before the questions: it matches only replies in case threads
    questions.register(bolt, app)  # mentions, DMs, /owe, /collect (issue 13 §3, 4, 8)
    return bolt


def _client_given_note(record: logging.LogRecord) -> bool:
    """Drop Bolt's start-up warning "As you gave `client` as well, `token` will be unused": Bolt reads
    SLACK_BOT_TOKEN from the environment by itself, and our client (with its base URL and retry
    handler) is the one meant to be used."""
    return "`token` will be unused" not in record.getMessage()


@dataclass
class SlackHandle:
    """A running Slack app (what `stop_slack` needs)."""

    bolt: AsyncApp
    services: SlackServices
    mode: str  # "socket" | "http" | "http-waiting" (the port in use: listens when free) | "alerts" (no listener)
    alerts: SlackAlertChannel | None  # the staff alert channel (None without COLLECTBOT_SLACK_CHANNEL)
    socket: AsyncSocketModeHandler | None = None
    runner: web.AppRunner | None = None
    port: int | None = None  # HTTP mode: the port listened on (None while waiting for it)
    binding: asyncio.Task | None = None  # HTTP mode, the port in use: waiting for it to be free
    extra: dict = field(default_factory=dict)


async def check_token(app: App, client: AsyncWebClient) -> str:
    """auth.test: the bot's user id; SlackUnavailable (one line, no token) when refused or unreachable."""
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
        raise SlackUnavailable(f"Slack refused SLACK_BOT_TOKEN (auth.test: {error})") from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise SlackUnavailable(
            f"cannot reach the Slack Web API at {app.settings.slack_api_url}: {type(exc).__name__}"
        ) from None
    return str(answer.get("user_id") or "")


async def _check_channel(services: SlackServices) -> None:
    if not services.channel:
        log.warning("COLLECTBOT_SLACK_CHANNEL is not set: staff alerts are not posted to Slack")
        return
    try:
        info = await services.client.conversations_info(channel=services.channel)
    except SlackApiError as exc:
        log.warning("Slack channel %s: %s (invite the app to it)", services.channel, exc.response.get("error"))
        return
    if not (info.get("channel") or {}).get("is_member", True):
        log.warning("the app is not a member of Slack channel %s: invite it (/invite @collectbot)", services.channel)


async def start_slack(app: App, *, deliver: Deliver | None = None) -> SlackHandle | None:
    """Start the Slack app on the running loop; None when SLACK_BOT_TOKEN is not set (Slack off).

    `deliver`: see build_slack_app. The handle's `alerts` is the staff alert channel (SlackAlertChannel)
    for the alert poster, None without COLLECTBOT_SLACK_CHANNEL.

    Modes (the handle's `mode`): "socket" with SLACK_APP_TOKEN; "http" with SLACK_SIGNING_SECRET,
    or "http-waiting" while COLLECTBOT_SLACK_HTTP_PORT is in use (another instance on this host:
    this one listens as soon as it is free); "alerts" with neither (nothing received, alerts and
    reports posted), with a warning line.

    Raises SlackUnavailable (one line, no secret) for a refused bot or app token, an unreachable
    API, or a port that cannot be opened for another reason than being in use.
    """
    if not _secret(app.settings.slack_bot_token):
        log.info("SLACK_BOT_TOKEN is not set: the Slack app is off")
        return None
    bolt = build_slack_app(app, deliver=deliver)
    services: SlackServices = bolt.collectbot  # type: ignore[attr-defined]
    services.bot_user_id = await check_token(app, services.client)
    await _check_channel(services)
    alerts = SlackAlertChannel(app, services.client, services.channel, budget=services.budget) \
        if services.channel else None
    app_token = _secret(app.settings.slack_app_token)
    if app_token:
        # The SDK's connect() retries a refused app token forever: ask apps.connections.open once first.
        try:
            await services.client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            raise SlackUnavailable(
                f"Slack refused SLACK_APP_TOKEN (apps.connections.open: {exc.response.get('error')})"
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SlackUnavailable(f"cannot open Slack's Socket Mode connection: {type(exc).__name__}") from None
        handler = AsyncSocketModeHandler(bolt, app_token)
        try:
            await asyncio.wait_for(handler.connect_async(), SOCKET_CONNECT_TIMEOUT)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            await _close_quietly(handler)
            raise SlackUnavailable(f"cannot open Slack's Socket Mode connection: {type(exc).__name__}") from None
        log.info("the Slack app is connected in Socket Mode")
        return SlackHandle(bolt, services, "socket", alerts, socket=handler)
    if not _secret(app.settings.slack_signing_secret):
        log.warning("Slack: alerts only: neither SLACK_APP_TOKEN (socket mode) nor SLACK_SIGNING_SECRET (http) is set, "
                    "so nothing from Slack is received (buttons, thread replies, questions); staff alerts and "
                    "reports are still posted")
        return SlackHandle(bolt, services, "alerts", alerts)
    handle = SlackHandle(bolt, services, "http", alerts)
    if not await _listen(handle, app.settings.slack_http_port):
        log.warning("Slack: port %d (COLLECTBOT_SLACK_HTTP_PORT) is in use, by another instance on this host?: "
                    "Slack's requests reach that one; this one posts alerts and reports, and listens as soon as "
                    "the port is free (tried every %.0f s)", app.settings.slack_http_port, BIND_RETRY_SECONDS)
        handle.mode = "http-waiting"
        handle.binding = asyncio.get_running_loop().create_task(_listen_when_free(handle, app.settings.slack_http_port))
    return handle


async def _listen(handle: SlackHandle, port: int) -> bool:
    """Serve Bolt's endpoint on `port` (0: any); False when the port is in use (EADDRINUSE).
    SlackUnavailable (one line) when it cannot be opened for another reason (a privileged port...)."""
    runner = web.AppRunner(handle.bolt.web_app(path=EVENTS_PATH, port=port), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HTTP_HOST, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            return False
        raise SlackUnavailable(
            f"cannot listen on port {port} for Slack (COLLECTBOT_SLACK_HTTP_PORT): {exc.strerror or exc}"
        ) from None
    handle.runner, handle.mode = runner, "http"
    handle.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the real one for port 0
    log.info("the Slack app listens on port %d at %s (HTTP mode)", handle.port, EVENTS_PATH)
    return True


async def _listen_when_free(handle: SlackHandle, port: int) -> None:
    """Try the port every BIND_RETRY_SECONDS until it is free (the instance that had it stopped)."""
    while True:
        await asyncio.sleep(BIND_RETRY_SECONDS)
        try:
            if await _listen(handle, port):
                log.info("Slack: took over port %d: this instance now receives Slack's requests", port)
                return
        except SlackUnavailable as exc:
            log.error("Slack: %s; Slack's requests are not received by this instance", exc)
            return


async def _close_quietly(handler: AsyncSocketModeHandler) -> None:
    try:
        await handler.close_async()
    except Exception:  # noqa: BLE001  (already failing: the first error is the one to report)
        pass


async def stop_slack(handle: SlackHandle | None) -> None:
    """Stop taking requests, then wait (up to STOP_GRACE s) for work started after an ack."""
    if handle is None:
        return

    if handle.binding is not None:
        handle.binding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await handle.binding
    if handle.socket is not None:
        await _close_quietly(handle.socket)
    if handle.runner is not None:
        await handle.runner.cleanup()
    pending = list(handle.services.tasks)
    if pending:
        await asyncio.wait(pending, timeout=STOP_GRACE)


class SlackAdapter:
    """`collectbot run`'s Adapter (start / stop on its loop) for the Slack app.

    `kick` is the delivery path's "deliver soon" (Outflow.kick): called after each Slack decision
    or relay commits, so its debtor notice and the staff alerts it raised go out at once.
    """

    name = "slack"

    def __init__(self, app: App, kick: Any = None) -> None:  # noqa: ANN401
        self.app = app
        self.kick = kick
        self.handle: SlackHandle | None = None

    async def start(self) -> None:
        """Start it; SystemExit with one line (no secret) when Slack refuses or cannot be reached."""
        deliver = None if self.kick is None else (lambda _ids: self.kick())
        try:
            self.handle = await start_slack(self.app, deliver=deliver)
        except SlackUnavailable as exc:
            raise SystemExit(f"error: {exc}") from None

    async def stop(self) -> None:
        handle, self.handle = self.handle, None
        await stop_slack(handle)
