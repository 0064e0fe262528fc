"""A local Telegram Bot API: the real URL layout, checks, errors and limits, for the real PTB client.

    async with FakeTelegram(token) as tg:            # or: with FakeTelegram(token).in_thread() as tg:
        ana = tg.add_user(1001, "Ana", language_code="pt")
        bot = telegram.Bot(token, base_url=tg.api_url, base_file_url=tg.file_url)
        tg.user_sends(ana.id, "/start abc")
        ...
        assert tg.last(ana.id).button_texts == [["I paid", "Dispute"], ...]

URLs as on api.telegram.org: ``/bot<token>/<method>`` (JSON, form-urlencoded or multipart
bodies, or a query string) and ``/file/bot<token>/<file_path>``. A malformed token is 404
"Not Found", a wrong one 401 "Unauthorized"; an unknown method 404 "Not Found"; arguments are
checked against the Bot API description (spec.py). Methods the fake does not implement are
refused with a 400 that says so, never silently accepted.

Long polling: one ``getUpdates`` caller per token, as on Telegram: a new call ends a long poll
still waiting with 409 "Conflict: terminated by other getUpdates request; make sure that only
one bot instance is running" (``conflicts`` counts them), and ``getUpdates`` while a webhook is
set is 409 too.

Limits (sliding one-second windows, on the fake's clock): ``global_rate`` messages per second
per token (30) and ``chat_rate`` per chat (1, plus ``chat_burst`` tolerated extra, 0 by
default so tests are strict); over them: 429 "Too Many Requests: retry after N" with
``parameters.retry_after``. Messages are the ``send*`` methods (not sendChatAction), and edits
when ``count_edits``. ``stats()`` gives counts and the sustained rate.

Faults (``fail_next``, ``drop_next``, ``hang_next``, ``rate_limit_next``, ``forbid_next``)
apply to the next calls of a method and/or chat; see server.Fault.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes import telegram_methods as methods
from tests.fakes.server import FakeServer, Fault, SlidingWindow, drop_connection, retry_after_seconds
from tests.fakes.spec import SpecError, UploadedFile, coerce_telegram_args, telegram_methods
from tests.fakes.telegram_state import FORBIDDEN, ApiError, CallRecord, TelegramWorld, bad_request

TOKEN_FORM = re.compile(r"\d+:[A-Za-z0-9_-]+")
DEFAULT_UPDATES = {"message", "edited_message", "callback_query", "my_chat_member", "channel_post",
                   "inline_query", "chosen_inline_result", "shipping_query", "pre_checkout_query", "poll",
                   "poll_answer", "chat_join_request", "edited_channel_post"}
BAD_GATEWAY_HTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway" \
                   "</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


class FakeTelegram(TelegramWorld, FakeServer):
    def __init__(self, token: str = "123456789:AAfake-token_for_tests", *, bot_username: str = "collectbot_test_bot",
                 port: int = 0, global_rate: int = 30, chat_rate: int = 1, chat_burst: int = 0,
                 count_edits: bool = False, callback_answer_timeout: float = 15.0,
                 strict_ampersand: bool = True) -> None:
        FakeServer.__init__(self, port=port)
        TelegramWorld.__init__(self, token, bot_username)
        self.global_window = SlidingWindow(global_rate) if global_rate else None
        self.chat_rate, self.chat_burst = chat_rate, chat_burst
        self.count_edits = count_edits
        self.callback_answer_timeout = callback_answer_timeout
        self.strict_ampersand = strict_ampersand
        self._chat_windows: dict[int, SlidingWindow] = {}
        self.message_times: list[float] = []  # fake-clock time of every accepted message
        self.rate_limited = 0  # 429s from the fake's own limits
        self.answered_429 = 0  # every 429 answered, scripted ones included
        self.conflicts = 0  # long polls ended with 409 by another getUpdates (two pollers on one token)
        self.webhook: dict[str, Any] | None = None
        self.allowed_updates: set[str] = DEFAULT_UPDATES
        self._poll_generation = 0
        self._webhook_task: asyncio.Task | None = None

    # ---- addresses and identity
    @property
    def api_url(self) -> str:
        """PTB's ``base_url`` (and COLLECTBOT_TELEGRAM_API_URL): the token is appended to it."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """PTB's ``base_file_url`` (COLLECTBOT_TELEGRAM_FILE_URL)."""
        return f"{self.base_url}/file/bot"

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "collectbot", "username": self.bot_username}

    # ---- rate limits
    def charge(self, chat_id: int) -> None:
        """Count one message to ``chat_id`` or raise the 429 Telegram would answer."""
        now = self.now()
        window = self._chat_windows.setdefault(chat_id, SlidingWindow(self.chat_rate + self.chat_burst))
        waits = [window.wait_needed(now) if self.chat_rate else 0.0,
                 self.global_window.wait_needed(now) if self.global_window else 0.0]
        if max(waits) > 0:
            self.rate_limited += 1
            seconds = retry_after_seconds(max(waits))
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
        window.record(now)
        if self.global_window:
            self.global_window.record(now)
        self.message_times.append(now)

    def stats(self) -> dict[str, Any]:
        """messages accepted, 429s (own limits / all), 409s to long polls ended by another poller
        (``conflicts``), and the sustained rate in messages per second."""
        with self.lock:
            times = self.message_times
            span = times[-1] - times[0] if len(times) > 1 else 0.0
            return {"messages": len(times), "rate_limited": self.rate_limited, "answered_429": self.answered_429,
                    "conflicts": self.conflicts, "rate": (len(times) - 1) / span if span > 0 else 0.0}

    # ---- fault scripting
    def fail_next(self, status: int = 500, *, times: int = 1, method: str | None = None,
                  chat_id: int | None = None, description: str | None = None) -> None:
        """Answer the next matching calls with ``status`` (500: JSON error; 502: nginx's HTML page; any
        other: the JSON error with ``description``, e.g. 400 "Bad Request: message to reply not found")."""
        self.faults.add(Fault("status", times, method, _target(chat_id), status=status, description=description))

    def drop_next(self, *, times: int = 1, method: str | None = None, chat_id: int | None = None) -> None:
        """Close the connection without answering (before reading the body, unless bound to a chat)."""
        self.faults.add(Fault("drop", times, method, _target(chat_id)))

    def hang_next(self, seconds: float = 30.0, *, times: int = 1, method: str | None = None,
                  chat_id: int | None = None) -> None:
        """Process the call (the message IS delivered and recorded), then answer only after ``seconds``."""
        self.faults.add(Fault("hang", times, method, _target(chat_id), seconds=seconds))

    def rate_limit_next(self, retry_after: int = 1, *, times: int = 1, method: str | None = None,
                        chat_id: int | None = None) -> None:
        self.faults.add(Fault("retry_after", times, method, _target(chat_id), retry_after=retry_after))

    def forbid_next(self, form: str = "blocked", *, times: int = 1, method: str | None = None,
                    chat_id: int | None = None) -> None:
        """A 403 in one of Telegram's forms: ``blocked``, ``deactivated``, ``not_started``."""
        assert form in FORBIDDEN, form
        self.faults.add(Fault("forbidden", times, method, _target(chat_id), form=form))

    # ---- HTTP
    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 2**20, middlewares=[self.catch_bugs])
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_post("/_fake/{helper}", self._control)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(404, "Not Found")

    async def on_stopping(self) -> None:
        self._poll_generation += 1
        if self._webhook_task:
            self._webhook_task.cancel()

    def _token_error(self, token: str) -> web.Response | None:
        if not TOKEN_FORM.fullmatch(token):
            return _error(404, "Not Found")
        return None if token == self.token else _error(401, "Unauthorized")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        refused = self._token_error(request.match_info["token"])
        if refused:
            return refused
        name = request.match_info["method"].lower()
        spec = telegram_methods().get(name)
        if spec is None:
            return _error(404, "Not Found")
        with self.lock:
            if self.faults.take(name, None, ("drop",)):
                return drop_connection(request)
        try:
            raw, files = await _read_arguments(request)
        except ValueError as exc:
            return _error(400, f"Bad Request: {exc}")
        target = raw.get("chat_id")
        with self.lock:
            fault = self.faults.take(name, target, ("drop", "status", "retry_after", "forbidden", "hang"))
        if fault and fault.kind != "hang":
            return self._scripted(request, fault)
        response = await self._answer(spec.name, raw, files)
        if fault:
            await self.sleep_unless_closing(fault.seconds)
        return response

    def _scripted(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "drop":
            return drop_connection(request)
        if fault.kind == "retry_after":
            with self.lock:
                self.answered_429 += 1
            return _error(429, f"Too Many Requests: retry after {fault.retry_after}", fault.retry_after)
        if fault.kind == "forbidden":
            return _error(403, FORBIDDEN[fault.form])
        if fault.status == 502 and fault.description is None:
            return web.Response(status=502, text=BAD_GATEWAY_HTML, content_type="text/html")
        if fault.description is not None:
            return _error(fault.status, fault.description)
        return _error(fault.status, "Internal Server Error" if fault.status == 500 else "Bad Gateway")

    async def _answer(self, method: str, raw: dict[str, str], files: dict[str, UploadedFile]) -> web.Response:
        if method == "getUpdates":
            return await self._get_updates(raw)
        try:
            with self.lock:
                args = coerce_telegram_args(telegram_methods()[method.lower()], raw, files)
                result = self._call(method, args)
                self.calls.append(CallRecord(method, args, 200))
        except SpecError as exc:
            return self._refused(method, raw, bad_request(str(exc)))
        except ApiError as exc:
            return self._refused(method, raw, exc)
        return web.json_response({"ok": True, "result": result})

    def _refused(self, method: str, raw: dict[str, Any], exc: ApiError) -> web.Response:
        with self.lock:
            self.calls.append(CallRecord(method, raw, exc.code, exc.description))
            if exc.code == 429:
                self.answered_429 += 1
        return _error(exc.code, exc.description, exc.retry_after)

    def _call(self, method: str, args: dict[str, Any]) -> Any:
        key = method.lower()
        if key == "getme":
            return dict(self.bot_user(), can_join_groups=True, can_read_all_group_messages=False,
                        supports_inline_queries=False, can_connect_to_business=False, has_main_web_app=False)
        if key in ("setwebhook", "deletewebhook", "getwebhookinfo"):
            return self._webhook_call(key, args)
        implementation = methods.METHODS.get(key)
        if implementation is None:
            raise bad_request(f"{method} is not implemented by the fake Bot API (tests/fakes/telegram_methods.py)")
        return implementation(self, args)

    # ---- updates: long polling and webhook
    async def _get_updates(self, raw: dict[str, str]) -> web.Response:
        try:
            args = coerce_telegram_args(telegram_methods()["getupdates"], raw, {})
        except SpecError as exc:
            return _error(400, f"Bad Request: {exc}")
        if self.webhook:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; "
                               "use deleteWebhook to delete the webhook first")
        self._poll_generation += 1
        generation = self._poll_generation
        self.notify()  # an older long poll still waiting ends with 409, as on Telegram
        limit = min(max(args.get("limit", 100), 1), 100)
        deadline = asyncio.get_running_loop().time() + max(args.get("timeout", 0), 0)
        with self.lock:
            if args.get("allowed_updates"):
                self.allowed_updates = set(args["allowed_updates"])
            elif "allowed_updates" in args:
                self.allowed_updates = DEFAULT_UPDATES
            self._confirm(args.get("offset"))
        while True:
            with self.lock:
                self.updates = [u for u in self.updates if set(u) - {"update_id"} <= self.allowed_updates]
                batch = self.updates[:limit]
                if batch:
                    self.calls.append(CallRecord("getUpdates", args, 200))
            remaining = deadline - asyncio.get_running_loop().time()
            if generation != self._poll_generation:
                with self.lock:
                    self.conflicts += 1
                return _error(409, "Conflict: terminated by other getUpdates request; "
                                   "make sure that only one bot instance is running")
            if batch or remaining <= 0 or (self._closing is not None and self._closing.is_set()):
                return web.json_response({"ok": True, "result": batch})
            await self.wait_changed(remaining)

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def _webhook_call(self, key: str, args: dict[str, Any]) -> Any:
        if key == "getwebhookinfo":
            info = {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self.updates)}
            for k in ("last_error_date", "last_error_message", "max_connections", "allowed_updates"):
                if self.webhook and self.webhook.get(k) is not None:
                    info[k] = self.webhook[k]
            return info
        if args.get("drop_pending_updates"):
            self.updates.clear()
        url = args.get("url", "") if key == "setwebhook" else ""
        if url:
            host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
            if not url.startswith("https://") and host not in ("127.0.0.1", "localhost"):
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            self.webhook = {"url": url, "secret_token": args.get("secret_token"),
                            "max_connections": args.get("max_connections", 40),
                            "allowed_updates": args.get("allowed_updates")}
            if args.get("allowed_updates"):
                self.allowed_updates = set(args["allowed_updates"])
            if self._webhook_task is None or self._webhook_task.done():
                self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())
        else:
            self.webhook = None
        self.notify()
        return True

    async def _deliver_webhook(self) -> None:
        """POST each update to the webhook in order; a non-2xx answer is retried (Telegram retries too)."""
        async with aiohttp.ClientSession() as session:
            while self.webhook:
                with self.lock:
                    hook = self.webhook
                    pending = [u for u in self.updates if set(u) - {"update_id"} <= self.allowed_updates]
                if not pending or hook is None:
                    await self.wait_changed(1.0)
                    continue
                update = pending[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook["secret_token"] else {}
                try:
                    async with session.post(hook["url"], json=update, headers=headers,
                                            timeout=aiohttp.ClientTimeout(total=10)) as resp:
                        ok, error = resp.status < 300, f"Wrong response from the webhook: {resp.status} {resp.reason}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    ok, error = False, f"Connection error: {exc}"
                with self.lock:
                    if ok:
                        self.updates = [u for u in self.updates if u["update_id"] != update["update_id"]]
                    elif self.webhook:
                        self.webhook.update(last_error_date=int(asyncio.get_running_loop().time()),
                                            last_error_message=error)
                if not ok:
                    await self.sleep_unless_closing(0.5)

    # ---- files and the control endpoint
    async def _download(self, request: web.Request) -> web.StreamResponse:
        refused = self._token_error(request.match_info["token"])
        if refused:
            return refused
        path = request.match_info["path"]
        with self.lock:
            stored = next((f for f in self.files.values() if f.file_path == path), None)
        if stored is None:
            return _error(404, "Not Found")
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    async def _control(self, request: web.Request) -> web.Response:
        """``POST /_fake/<helper>`` with JSON keyword arguments: drives a fake run as its own process."""
        helper = request.match_info["helper"]
        allowed = {"add_user", "user_sends", "user_clicks", "user_blocks_bot", "user_deactivated", "stats",
                   "transcript", "advance"}
        if helper not in allowed:
            return web.json_response({"ok": False, "error": f"helpers: {sorted(allowed)}"}, status=404)
        kwargs = await request.json() if request.can_read_body else {}
        result = getattr(self, helper)(**kwargs)
        return web.json_response({"ok": True, "result": getattr(result, "__dict__", result)})


def _target(chat_id: int | None) -> str | None:
    return None if chat_id is None else str(chat_id)


async def _read_arguments(request: web.Request) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """All arguments as strings, as the Bot API server sees them; files from multipart parts."""
    raw: dict[str, str] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return raw, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ValueError("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise ValueError("JSON object expected as request body")
        for key, value in body.items():
            if value is not None:
                raw[key] = value if isinstance(value, str) else json.dumps(value)
        return raw, files
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files[key] = UploadedFile(value.filename, value.content_type, value.file.read())
        else:
            raw[key] = str(value)
    return raw, files


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake Telegram Bot API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456789:AAfake-token_for_tests")
    parser.add_argument("--username", default="collectbot_test_bot")
    opts = parser.parse_args()
    fake = FakeTelegram(opts.token, bot_username=opts.username, port=opts.port)

    def announce(server: FakeServer) -> None:  # the first line names the address: --port 0 picks a free one
        print(f"COLLECTBOT_TELEGRAM_API_URL={fake.api_url}\nCOLLECTBOT_TELEGRAM_FILE_URL={fake.file_url}\n"
              f"TELEGRAM_BOT_TOKEN={fake.token}\ncontrol: POST {fake.base_url}/_fake/<helper> (JSON kwargs)",
              flush=True)

    fake.serve_forever(announce)


if __name__ == "__main__":
    main()
