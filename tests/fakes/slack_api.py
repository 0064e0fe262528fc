"""A local Slack: the Web API at ``/api/<method>``, file uploads, response_url, and Socket Mode.

    async with FakeSlack() as slack:              # or: with FakeSlack().in_thread() as slack:
        slack.add_channel("C0CASES", "collections")
        client = AsyncWebClient(slack.bot_token, base_url=slack.api_url)
        await client.chat_postMessage(channel="C0CASES", text="hi")
        assert slack.posts("C0CASES")[0].text == "hi"

Web API as on slack.com: any verb; arguments from the query string, a form, or a JSON body;
the token from ``Authorization: Bearer`` or a ``token`` argument (none: ``not_authed``; wrong:
``invalid_auth``; a bot token where an app-level token is needed or the other way round:
``not_allowed_token_type``). Arguments are checked against Slack's OpenAPI description plus
a labelled overlay (spec.py): ``invalid_arguments`` with ``[ERROR]`` lines. An unknown method
is HTTP 404 ``unknown_method``; a described one the fake does not implement says so.

Rate limits (sliding windows on the fake's clock): chat.postMessage ``channel_rate`` per
second per channel (1; Slack: "1 message per second per channel, short bursts tolerated", no
burst here) and per-method limits per minute (``method_limits``, Slack's tiers); over them:
HTTP 429, ``Retry-After`` header, ``{"ok": false, "error": "ratelimited"}``.

Socket Mode: ``apps.connections.open`` (app-level token) returns ``ws://127.0.0.1:<port>/link/
?ticket=...``; the fake says ``hello``, ``socket_send`` delivers an envelope, ``acks`` and
``ack_delays`` record the app's acknowledgements (Slack wants them within 3 seconds).
"""

from __future__ import annotations

import argparse
import json
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes import slack_methods as methods
from tests.fakes.server import FakeServer, Fault, SlidingWindow, drop_connection, retry_after_seconds
from tests.fakes.slack_methods import SlackError
from tests.fakes.slack_state import SlackWorld
from tests.fakes.spec import check_slack_args, slack_methods

# Slack's published tiers, per method per minute (Tier 2: 20+, Tier 3: 50+, Tier 4: 100+).
METHOD_LIMITS = {"chat.update": 50, "chat.delete": 50, "chat.postEphemeral": 100, "chat.getPermalink": 100,
                 "conversations.history": 50, "conversations.replies": 50, "conversations.info": 50,
                 "conversations.open": 50, "users.info": 100, "views.open": 100, "auth.test": 100,
                 "files.getUploadURLExternal": 20, "files.completeUploadExternal": 20, "apps.connections.open": 100}


def _answer(error: str, status: int = 200, headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    return web.json_response({"ok": False, "error": error, **extra}, status=status, headers=headers)


class FakeSlack(SlackWorld, FakeServer):
    def __init__(self, *, bot_token: str = "xoxb-1-fake-bot-token", app_token: str = "xapp-1-A0FAKE-1-fake",
                 port: int = 0, channel_rate: int = 1, method_limits: dict[str, int] | None = None,
                 unknown_thread: str = "refuse") -> None:
        FakeServer.__init__(self, port=port)
        SlackWorld.__init__(self)
        self.bot_token, self.app_token = bot_token, app_token
        self.channel_rate = channel_rate
        self.method_limits = METHOD_LIMITS if method_limits is None else method_limits
        self.unknown_thread = unknown_thread
        self._windows: dict[tuple[str, str], SlidingWindow] = {}
        self.rate_limited = 0
        self.calls: list[tuple[str, dict[str, Any], str | None]] = []  # (method, args, error or None)
        self.sockets: list[web.WebSocketResponse] = []
        self._tickets: set[str] = set()
        self.envelopes: dict[str, dict[str, Any]] = {}
        self.acks: dict[str, dict[str, Any] | None] = {}
        self.ack_delays: dict[str, float] = {}
        self._sent_at: dict[str, float] = {}

    @property
    def api_url(self) -> str:
        """slack_sdk's ``base_url`` (COLLECTBOT_SLACK_API_URL), with its trailing slash."""
        return f"{self.base_url}/api/"

    # ---- limits
    def _charge(self, key: tuple[str, str], limit: int, window: float) -> None:
        win = self._windows.setdefault(key, SlidingWindow(limit, window))
        wait = win.wait_needed(self.now())
        if wait > 0:
            self.rate_limited += 1
            raise SlackError("ratelimited", 429, retry_after=retry_after_seconds(wait))
        win.record(self.now())

    def charge_channel(self, channel: str) -> None:
        if self.channel_rate:
            self._charge(("channel", channel), self.channel_rate, 1.0)

    # ---- fault scripting (``channel`` binds a fault to calls naming that channel)
    def fail_next(self, status: int = 500, *, times: int = 1, method: str | None = None,
                  channel: str | None = None) -> None:
        self.faults.add(Fault("status", times, method, channel, status=status))

    def drop_next(self, *, times: int = 1, method: str | None = None, channel: str | None = None) -> None:
        self.faults.add(Fault("drop", times, method, channel))

    def hang_next(self, seconds: float = 30.0, *, times: int = 1, method: str | None = None,
                  channel: str | None = None) -> None:
        """Process the call (the post IS recorded), then answer only after ``seconds``."""
        self.faults.add(Fault("hang", times, method, channel, seconds=seconds))

    def rate_limit_next(self, retry_after: int = 1, *, times: int = 1, method: str | None = None,
                        channel: str | None = None) -> None:
        self.faults.add(Fault("retry_after", times, method, channel, retry_after=retry_after))

    # ---- HTTP
    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 2**20, middlewares=[self.catch_bugs])
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/link/", self._socket)
        return app

    async def on_stopping(self) -> None:
        for ws in list(self.sockets):
            await ws.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        if name not in slack_methods():
            return _answer("unknown_method", 404, req_method=name)
        with self.lock:
            if self.faults.take(name, None, ("drop",)):
                return drop_connection(request)
        try:
            args = await _read_arguments(request)
        except ValueError:
            return _answer("invalid_json")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or args.pop("token", None)
        args.pop("token", None)
        target = args.get("channel") or args.get("channel_id")
        with self.lock:
            fault = self.faults.take(name, None if target is None else str(target),
                                     ("drop", "status", "retry_after", "hang"))
        if fault and fault.kind == "drop":
            return drop_connection(request)
        if fault and fault.kind == "retry_after":
            return _answer("ratelimited", 429, {"Retry-After": str(fault.retry_after)})
        if fault and fault.kind == "status":
            return web.Response(status=fault.status, text=f"{fault.status} fake server error", content_type="text/html")
        with self.lock:
            response = self._call(name, token, args)
        if fault:
            await self.sleep_unless_closing(fault.seconds)
        return response

    def _call(self, name: str, token: str | None, args: dict[str, Any]) -> web.Response:
        try:
            self._check_token(name, token)
            problems = check_slack_args(name, args)
            if problems:
                raise SlackError("invalid_arguments", response_metadata={"messages": problems})
            if name in self.method_limits:
                self._charge(("method", name), self.method_limits[name], 60.0)
            if name == "apps.connections.open":
                result = self._open_connection()
            elif name in methods.METHODS:
                result = methods.METHODS[name](self, args)
            else:
                raise SlackError("fake_not_implemented", response_metadata={
                    "messages": [f"[ERROR] {name} is not implemented by the fake (tests/fakes/slack_methods.py)"]})
        except SlackError as exc:
            self.calls.append((name, args, exc.error))
            extra = dict(exc.extra)
            headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
            return _answer(exc.error, exc.status, headers, **extra)
        self.calls.append((name, args, None))
        return web.json_response({"ok": True, **result})

    def _check_token(self, name: str, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        wanted = self.app_token if name == "apps.connections.open" else self.bot_token
        if token == wanted:
            return
        raise SlackError("not_allowed_token_type" if token in (self.bot_token, self.app_token) else "invalid_auth")

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="file not found")
        if request.content_type.startswith("multipart/"):
            part = next((v for v in (await request.post()).values() if isinstance(v, web.FileField)), None)
            data = part.file.read() if part else b""
        else:
            data = await request.read()
        with self.lock:
            upload["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self.lock:
            self.responses.append(dict(body, response_url=str(request.url)))
        return web.Response(text="ok")

    # ---- Socket Mode
    def _open_connection(self) -> dict[str, Any]:
        ticket = secrets.token_hex(8)
        self._tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"}

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        with self.lock:
            if request.query.get("ticket") not in self._tickets:
                return web.Response(status=401, text="invalid ticket")
            self._tickets.discard(request.query["ticket"])  # a ticket opens one connection
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self.sockets),
                            "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                            "connection_info": {"app_id": self.app_id}})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._received(json.loads(msg.data))
        finally:
            self.sockets.remove(ws)
        return ws

    def _received(self, data: dict[str, Any]) -> None:
        eid = data.get("envelope_id")
        if eid is None:
            return
        with self.lock:
            self.acks[eid] = data.get("payload")
            self.ack_delays[eid] = self.now() - self._sent_at.get(eid, self.now())

    @property
    def socket_connected(self) -> bool:
        return any(not ws.closed for ws in self.sockets)

    def socket_send(self, payload: dict[str, Any], *, retry_attempt: int = 0, connection: int = 0) -> str:
        """Deliver an event / slash command / interaction over Socket Mode; returns its envelope_id.

        With several connections open (several app instances: Slack allows up to 10 and spreads the
        envelopes over them), ``connection`` picks which one gets it (the n-th open, oldest first)."""
        if not self.socket_connected:
            raise AssertionError("no Socket Mode connection: wait for fake.socket_connected first")
        if payload.get("type") == "event_callback":
            kind, accepts = "events_api", False
        elif "command" in payload:
            kind, accepts = "slash_commands", True
        else:
            kind, accepts = "interactive", payload.get("type") == "view_submission"
        eid = secrets.token_hex(16)
        envelope = {"envelope_id": eid, "payload": payload, "type": kind, "accepts_response_payload": accepts}
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")
        with self.lock:
            self.envelopes[eid] = envelope
            self._sent_at[eid] = self.now()
        self.run_soon(self._ws_send(envelope, connection))
        return eid

    def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's notice that the connection will close; the SDK reconnects with a new URL."""
        self.run_soon(self._ws_send({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}))

    async def _ws_send(self, message: dict[str, Any], connection: int = 0) -> None:
        ws = [ws for ws in self.sockets if not ws.closed][connection]
        await ws.send_json(message)


async def _read_arguments(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return args
    if request.content_type == "application/json":
        body = await request.json()  # ValueError: Slack's invalid_json
        if not isinstance(body, dict):
            raise ValueError("json_not_object")
        args.update({k: v for k, v in body.items() if v is not None})
    else:
        args.update({k: v for k, v in (await request.post()).items() if not isinstance(v, web.FileField)})
    return args


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake Slack Web API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--channel", default="C0CASES", help="a channel to create (id)")
    opts = parser.parse_args()
    fake = FakeSlack(port=opts.port)
    fake.add_channel(opts.channel, "collections")

    def announce(server: FakeServer) -> None:  # the first line names the address: --port 0 picks a free one
        print(f"COLLECTBOT_SLACK_API_URL={fake.api_url}\nSLACK_BOT_TOKEN={fake.bot_token}\n"
              f"SLACK_APP_TOKEN={fake.app_token}\nCOLLECTBOT_SLACK_CHANNEL={opts.channel}", flush=True)

    fake.serve_forever(announce)


if __name__ == "__main__":
    main()
