"""Secrets never reach a log line: every log record is scrubbed of the configured secrets as it is made.

Libraries log what they hold: python-telegram-bot logs its Bot API URL, which carries the bot
token (`/bot<token>`), at DEBUG when a Bot is built, and some of its errors name the token. The
CLI has no verbosity option, but an operator who turns DEBUG on (or a future option) must not
find a token in the log. So `hide_secrets` installs a log record factory (for every logger and
every handler, whenever they were configured) that replaces each secret in the message, its
arguments, the exception text and the stack text with `***`.
DESIGN "Reliability and security": secrets come from the environment and never reach logs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

MASK = "***"
MIN_LENGTH = 6  # shorter "secrets" (a test's "x") would mask ordinary words

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
_installed = False


def redact(text: str) -> str:
    """`text` with every known secret replaced by ***."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def hide_secrets(secrets: Iterable[str | None]) -> None:
    """Mask these values in every log record from now on (added to any masked before)."""
    global _secrets, _installed
    new = {s.strip() for s in secrets if s and len(s.strip()) >= MIN_LENGTH}
    with _lock:
        _secrets = tuple(sorted(set(_secrets) | new, key=len, reverse=True))  # longest first
        if not _installed and _secrets:
            _install()
            _installed = True


def _install() -> None:
    make = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def scrubbed(*args, **kwargs) -> logging.LogRecord:  # noqa: ANN002, ANN003
        record = make(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's to report, not ours
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(formatter.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(scrubbed)
