"""Who holds an outbox row in state `sending`, and whether that holder is still alive.

A claim dies with its process, not on a timer: the token names the host, the
pid and the process start time, so a recycled pid is not mistaken for the
original sender. A row whose holder is dead was maybe sent, maybe not: it is
marked `unknown`, never sent again, and shown to staff.
"""

from __future__ import annotations

import os
import socket
from functools import cache


def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: start time in clock ticks


@cache
def claim_token() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or '0'}"


def holder_is_dead(token: str) -> bool:
    """True only when we can tell for sure (same host, process gone or pid reused)."""
    try:
        host, pid_text, start = token.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return True  # a malformed claim cannot belong to a live sweeper
    if host != socket.gethostname():
        return False
    if pid == os.getpid():
        return token != claim_token()
    ticks = _start_ticks(pid)
    return ticks is None or ticks != start
