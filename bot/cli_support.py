"""Shared CLI plumbing: building the App, failing with one line, parsing dates and times."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from enum import StrEnum
from typing import NoReturn
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.logsafe import hide_secrets

out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)


AS_OF_HELP = "The company's date, YYYY-MM-DD; default: today in COLLECTBOT_TIMEZONE."
FORMAT_HELP = "text (tables for people) or json (one document on stdout, amounts as decimal strings)."
TABLE_FORMAT_HELP = "text (tables), json (one document) or csv (a spreadsheet; formula-like cells neutralised)."


class Fmt(StrEnum):
    text = "text"
    json = "json"


class TableFmt(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"


def fail(message: str, code: int = 1) -> NoReturn:
    """Exit with one line on stderr: the contract for bad input."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


def build_app(now: str | None = None) -> App:
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"configuration: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    hide_secrets(settings.secret_values())  # from here on, no log line shows a token or the database password
    app = App(settings)
    if now is not None:
        app.clock = FixedClock(parse_now(now, ZoneInfo(settings.timezone)))
    return app


def parse_now(text: str, default_tz: ZoneInfo) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        fail(f"--now {text!r} is not an ISO 8601 date-time like 2026-11-23T10:00:00+00:00")
    return value if value.tzinfo else value.replace(tzinfo=default_tz)


def parse_day(text: str | None, option: str, fallback: date) -> date:
    if text is None:
        return fallback
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date like 2026-11-23")


def print_json(document: object) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def resolve_or_fail(conn, query: str):  # noqa: ANN001, ANN201
    """The customer a person meant, or exit: 2 when ambiguous (candidates listed), 1 when unknown.

    A lenient (non-exact) match is named on stderr, so stdout stays the command's output.
    """
    from bot.services.customers import CustomerAmbiguous, CustomerNotFound, find

    try:
        found = find(conn, query)
    except CustomerAmbiguous as exc:
        fail(str(exc), code=2)
    except CustomerNotFound as exc:
        fail(str(exc))
    if not found.exact:
        typer.echo(f'note: "{query}" matched {found.label}', err=True)
    return found.customer
