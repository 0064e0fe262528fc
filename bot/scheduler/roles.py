"""Roles that one process at a time may hold among every process on a database: the Telegram poller.

Telegram allows one `getUpdates` caller per bot token (a second one makes each end the other's poll
with 409 Conflict), so the `collectbot run`s sharing a database elect one poller; the others only
send (sweeps, delivery, alerts) and try to take over every few seconds.

The role dies with its holder, like the claims of bot.scheduler.claims:
- PostgreSQL: a session advisory lock on the claim holder's kept session (one session per process
  for claims and roles alike), named by the role and scoped to the schema. A killed process, or its
  cut connection, frees it at once; the holder sees it lost when its session's token changed.
- SQLite: an exclusive `flock` on a file beside the database (`<database>.<role>.lock`, so processes
  in containers sharing the database's volume find it too; the temp directory when the database's
  directory is read-only): the kernel drops it when the process dies. Not the database file itself:
  closing a descriptor of it would drop SQLite's own locks. An in-memory database has no
  neighbours: the role is always held.

Blocking (database and file system): call from bot.scheduler.dbpool.run_db on the event loop.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import Engine

from bot.scheduler.claims import claim_holder
from storage.migrate import sqlite_lock_file

log = logging.getLogger("collectbot.roles")


@dataclass
class SoleRole:
    """One role (e.g. "telegram-poller:<bot id>") held by at most one process on the database."""

    engine: Engine
    role: str
    _token: str | None = None  # PostgreSQL: the claim holder's token the lock was taken under
    _file: IO[bytes] | None = field(default=None, repr=False)  # SQLite: the flocked file
    _held: bool = False

    @property
    def held(self) -> bool:
        """Whether this process took the role (as last seen; `still_held` checks the database)."""
        return self._held

    def try_take(self) -> bool:
        """Take the role if nobody holds it; True when this process holds it (now or already)."""
        if self._held:
            return self.still_held()
        if self.engine.dialect.name == "postgresql":
            self._token = claim_holder(self.engine).try_advisory_lock(self.role)
            self._held = self._token is not None
            return self._held
        handle = self._lock_file()
        if handle is None:
            self._held = True
            return True
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        with contextlib.suppress(OSError):  # who holds it, for an operator looking at the file
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
        self._file, self._held = handle, True
        return True

    def _lock_file(self) -> IO[bytes] | None:
        """The SQLite database's lock file of this role, opened (None for an in-memory database)."""
        database = self.engine.url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            return None
        name = re.sub(r"[^A-Za-z0-9_.-]", "-", self.role)
        try:  # beside the database: every process (or container) that shares the file finds it
            return open(f"{os.path.abspath(database)}.{name}.lock", "ab")  # noqa: SIM115 - kept open while held
        except OSError:  # a read-only directory: the temp directory, as the upgrade lock
            fallback = sqlite_lock_file(self.engine, name)
            return None if fallback is None else open(fallback, "ab")  # noqa: SIM115

    def still_held(self) -> bool:
        """Whether the role is still this process's: on PostgreSQL, False once the session it was taken
        on was lost (its lock went with it); the role is then given up (take it again with `try_take`)."""
        if not self._held:
            return False
        if self._token is not None and claim_holder(self.engine).token != self._token:
            log.warning("the database session holding the %s role was lost: the role is given up", self.role)
            self._held, self._token = False, None
        return self._held

    def release(self) -> None:
        """Give the role up (the others may take it at their next try)."""
        if not self._held:
            return
        self._held = False
        if self._token is not None:
            self._token = None
            claim_holder(self.engine).advisory_unlock(self.role)
        if self._file is not None:
            handle, self._file = self._file, None
            with contextlib.suppress(OSError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()
