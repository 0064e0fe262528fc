"""What every fake chat server shares: an aiohttp server on 127.0.0.1, scripted faults, rate windows.

A fake runs in one of three ways, all on an ephemeral port unless one is given:

- ``async with FakeTelegram() as tg:`` on the running loop (a pytest-asyncio test);
- ``with FakeTelegram().in_thread() as tg:`` on its own loop in a daemon thread, for a
  synchronous test that starts ``collectbot`` processes pointed at ``tg.api_url``;
- ``python -m tests.fakes.telegram_api --port N`` (or ``slack_api``) by hand.

State is guarded by one lock, so a test thread may push updates and read the record while
the server thread answers requests. ``wait_for`` (sync) and ``until`` (async) poll a
condition; both raise ``AssertionError`` naming the condition on timeout.
"""

from __future__ import annotations

import asyncio
import collections
import math
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

LOCALHOST = "127.0.0.1"


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds, counted over a sliding window.

    Telegram documents its limits as "about 30 messages per second" per bot and "no more than
    one message per second" per chat; Slack as "1 message per second per channel". A fixed
    one-second bucket would let 2 × limit through across a bucket edge, so the window slides.
    """

    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._times: collections.deque[float] = collections.deque()

    def wait_needed(self, now: float) -> float:
        """Seconds until one more event fits (0.0: it fits now). Records nothing."""
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[0] + self.window - now

    def record(self, now: float) -> None:
        self._times.append(now)


def retry_after_seconds(wait: float) -> int:
    """Telegram and Slack both give whole seconds, never 0."""
    return max(1, math.ceil(wait))


@dataclass
class Fault:
    """One scripted misbehaviour, used ``times`` times by calls matching ``method`` and ``target``.

    kind: ``status`` (answer ``status`` with the API's error body), ``drop`` (close the
    connection without an answer), ``hang`` (process the call, record it, then answer only
    after ``seconds``), ``retry_after`` (a 429 with ``retry_after``), ``forbidden`` (Telegram:
    a 403 of ``form`` blocked / deactivated / not_started).
    ``target`` is a chat id (Telegram) or channel id (Slack); None matches every call.
    """

    kind: str
    times: int = 1
    method: str | None = None
    target: str | None = None
    status: int = 500
    retry_after: int = 1
    seconds: float = 30.0
    form: str = "blocked"
    description: str | None = None  # the error body's description (a status fault; default: the status's own)

    def matches(self, method: str, target: str | None) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.target is None or self.target == target


class FaultPlan:
    """The faults a test scripted, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self.used: list[tuple[str, str, str | None]] = []  # (kind, method, target) of every fault applied

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def needs_target(self, method: str) -> bool:
        """True when some fault for this method is bound to a chat/channel (the body must be read first)."""
        return any(f.target is not None and f.matches(method, f.target) for f in self._faults)

    def take(self, method: str, target: str | None, kinds: tuple[str, ...]) -> Fault | None:
        for fault in self._faults:
            if fault.kind in kinds and fault.matches(method, target):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                self.used.append((fault.kind, method, target))
                return fault
        return None


def drop_connection(request: web.Request) -> web.Response:
    """Close the socket without an answer: the client sees a connection error, as when a proxy dies.

    Returns a response object only to satisfy aiohttp; it never reaches the client.
    """
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=503)


class FakeServer:
    """Base class: subclasses build the aiohttp application in ``make_app``."""

    def __init__(self, *, port: int = 0) -> None:
        self.port = port
        self.lock = threading.RLock()
        self.faults = FaultPlan()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._clock_offset = 0.0
        self._changed: asyncio.Condition | None = None
        self._tasks: set[asyncio.Task] = set()
        self.internal_errors: list[str] = []  # bugs of the fake itself; the fixtures fail a test on any

    @web.middleware
    async def catch_bugs(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        """A fake's own exception becomes a 500 naming it, and is kept for the fixture to report."""
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            description = f"fake server bug: {type(exc).__name__}: {exc}"
            self.internal_errors.append(f"{request.method} {request.path}: " + "".join(
                traceback.format_exception(exc)))
            return web.Response(status=500, text=description)

    # ---- subclass hooks
    def make_app(self) -> web.Application:  # pragma: no cover - abstract
        raise NotImplementedError

    async def on_started(self) -> None:
        """Called on the server loop once the port is bound."""

    async def on_stopping(self) -> None:
        """Called on the server loop before the server closes."""

    # ---- clock
    def now(self) -> float:
        """Monotonic seconds, shifted by ``advance``: rate windows and ages use it."""
        return time.monotonic() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (callback queries age, rate windows empty)."""
        with self.lock:
            self._clock_offset += seconds

    # ---- lifecycle on the current loop
    @property
    def base_url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    async def start(self) -> FakeServer:
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        self._changed = asyncio.Condition()
        self._runner = web.AppRunner(self.make_app(), access_log=None, handler_cancellation=True,
                                     shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOCALHOST, self.port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]  # aiohttp keeps the bound socket here
        self.port = sockets[0].getsockname()[1]
        await self.on_started()
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        assert self._closing is not None
        self._closing.set()
        await self.on_stopping()
        await self._notify_all()  # long polls and websocket writers see the server closing
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Any:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- lifecycle in a thread
    @contextmanager
    def in_thread(self) -> Iterator[Any]:
        """Run the server on its own loop in a daemon thread for the duration of the block."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        thread = threading.Thread(target=run, name=f"{type(self).__name__}:server", daemon=True)
        thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    def serve_forever(self, announce: Callable[[FakeServer], None]) -> None:
        """Run in the foreground until interrupted (the ``python -m`` entry points)."""

        async def main() -> None:
            await self.start()
            announce(self)
            try:
                await asyncio.Event().wait()
            finally:
                await self.stop()

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            pass

    # ---- change notification and waiting
    def run_soon(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Schedule ``coro`` on the server's loop, from that loop or from any other thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            coro.close()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task = loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            asyncio.run_coroutine_threadsafe(coro, loop)

    def notify(self) -> None:
        """Wake whatever waits on the server loop (long polls, webhook delivery). Thread-safe."""
        self.run_soon(self._notify_all())

    async def _notify_all(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def wait_changed(self, timeout: float) -> None:
        """On the server loop: until ``notify`` or ``timeout`` seconds or the server closes."""
        assert self._changed is not None and self._closing is not None
        if self._closing.is_set():
            return
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                pass

    async def sleep_unless_closing(self, seconds: float) -> None:
        """A hang that ends early when the server stops, so shutdown never waits on it."""
        assert self._closing is not None
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            pass

    def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
        """Poll ``condition`` from a synchronous test until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
            time.sleep(0.02)

    async def until(self, condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
        """Poll ``condition`` from an async test until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
            await asyncio.sleep(0.02)
