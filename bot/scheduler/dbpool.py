"""The one way database work reaches the event loop: a bounded pool of threads.

`collectbot run` hosts Telegram, Slack and the scheduler on one asyncio loop; a blocking
database call on that loop would stall every chat. Each call goes to one of a few threads
instead (bounded, so a burst of chat updates cannot open more connections than the pool
allows) and the coroutine awaits its result.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

MAX_THREADS = 4  # SQLAlchemy's default pool keeps 5 connections; leave one for the claim holder
_executor: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    """The process's database threads, created on first use."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="collectbot-db")
    return _executor


async def run_db(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run the blocking `fn(*args, **kwargs)` in a database thread and return its result (or raise its error)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor(), functools.partial(fn, *args, **kwargs))
