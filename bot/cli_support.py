"""Shared CLI plumbing: building the App, failing with one line, parsing dates and times."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, NoReturn
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperCommand

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.logsafe import hide_secrets

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.services.customers import CustomerRow, Found

out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # a message is one line, however long its path


AS_OF_HELP = "The company's date, YYYY-MM-DD; default: today in COLLECTBOT_TIMEZONE."
MAX_ID = 2**63 - 1  # the largest row id on every database (SQLite INTEGER, PostgreSQL bigint)
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
    """The App from the environment (pydantic-settings); `now` (ISO 8601) fixes the clock. A bad
    setting exits with one line naming it (DESIGN "Interfaces": no traceback).
    """
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
    """`--now` as an aware datetime (a naive one is in `default_tz`), or exit with one line."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        fail(f"--now {text!r} is not an ISO 8601 date-time like 2026-11-23T10:00:00+00:00")
    _in_range(value.date(), "--now", text)
    return value if value.tzinfo else value.replace(tzinfo=default_tz)


def _in_range(day: date, option: str, text: str) -> None:
    """Exit with one line for a date outside those a ledger holds (csv_columns.EARLIEST_DATE to
    LATEST_DATE, as imports): beyond them, date arithmetic downstream would overflow."""
    from bot.domain.csv_columns import EARLIEST_DATE, LATEST_DATE

    if not EARLIEST_DATE <= day <= LATEST_DATE:
        fail(f"{option} {text!r} is outside the accepted range {EARLIEST_DATE} to {LATEST_DATE}")


def parse_day(text: str | None, option: str, fallback: date) -> date:
    """An ISO date option (`option` names it in the error), `fallback` when not given; exit with one line
    when it is not a date.
    """
    if text is None:
        return fallback
    try:
        day = date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date like 2026-11-23")
    _in_range(day, option, text)
    return day


def print_json(document: object) -> None:
    """Exactly one JSON document on stdout (UTF-8 as is, indented)."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


@contextmanager
def customer_errors() -> Iterator[None]:
    """Exit with one line when a command's customer cannot be named: 2 when ambiguous (the
    candidates listed), 1 when unknown or (for a command that changes something) not exact."""
    from bot.services.customers import CustomerAmbiguous

    try:
        yield
    except CustomerAmbiguous as exc:
        fail(str(exc), code=2)
    except LookupError as exc:  # CustomerNotFound, CustomerNotExact
        fail(str(exc))


def note_lenient(query: str, found: Found) -> None:
    """Name a lenient (non-exact) match on stderr, so stdout stays the command's output."""
    if not found.exact:
        typer.echo(f'note: "{query}" matched {found.label}', err=True)


def resolve_or_fail(engine: Engine, query: str) -> CustomerRow:
    """The customer a person meant (matched leniently), or exit: 2 when ambiguous (candidates
    listed), 1 when unknown. A lenient match is named on stderr."""
    from bot.services.customers import lookup

    with customer_errors():
        found = lookup(engine, query)
    note_lenient(query, found)
    return found.customer


class DashArgCommand(TyperCommand):
    """A command whose positional arguments may start with `-` when they cannot be one of its options:
    `collectbot balance "-2+3 SA"` or `collectbot hold -X1 ...` name a customer or document, as
    `balance -- "-2+3 SA"` always did. A word starting with `--`, or with one of the command's own
    short options, is still read as an option (a mistyped option stays an error, not a customer)."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        """Click's parsing, after `split_words` has put such words after a `--`. How many positional
        words the line had is left in `ctx.meta[POSITIONAL_WORDS]` for the error line."""
        options, positional, moved = split_words(self.get_params(ctx), args)
        ctx.meta[POSITIONAL_WORDS] = len(positional)
        return super().parse_args(ctx, [*options, "--", *positional] if moved else args)


POSITIONAL_WORDS = "collectbot.positional_words"


def split_words(params: list, args: list[str]) -> tuple[list[str], list[str], bool]:  # noqa: ANN001
    """`args` as (options with their values, positional words in order, whether a positional word starts
    with a single `-` and is none of `params`' options: such a word must go after a `--` for Click)."""
    takes_value = {}
    for p in params:
        if getattr(p, "param_type_name", "") == "option":
            for name in (*p.opts, *p.secondary_opts):
                takes_value[name] = not (p.is_flag or p.count)
    options: list[str] = []
    positional: list[str] = []
    moved = False
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            positional.extend(args[i + 1 :])
            break
        name = word.split("=", 1)[0] if word.startswith("--") else word
        if name in takes_value:
            options.append(word)
            if takes_value[name] and name == word and i + 1 < len(args):
                i += 1
                options.append(args[i])
        elif len(word) > 1 and word.startswith("-"):
            if word.startswith("--") or word[:2] in takes_value:
                options.append(word)  # an option, mistyped or with its value attached: Click's to judge
            else:
                positional.append(word)
                moved = True
        else:
            positional.append(word)
        i += 1
    return options, positional, moved


def accept_dash_args(app: typer.Typer) -> None:
    """Make every command of `app` (and of its sub-apps) a DashArgCommand, unless it names its own class."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = DashArgCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            accept_dash_args(group.typer_instance)
