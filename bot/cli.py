"""The `collectbot` command line: each command is a few lines over the services."""

from __future__ import annotations

import typer

from bot import cli_cases, cli_ledger, cli_ops

app = typer.Typer(
    help="collectbot: receivables ledger, dunning, and the team's collections assistant.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli_ledger.register(app)
cli_ops.register(app)
cli_cases.register(app)


def main() -> None:
    """The console script: every database failure ends in one line (DESIGN "Interfaces"), never a traceback."""
    from sqlalchemy.exc import DBAPIError

    from storage.engine import DatabaseUnavailable, database_name, failure_reason

    try:
        app()
    except DatabaseUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except DBAPIError as exc:  # the database went away in the middle of a command
        from bot.config import Settings

        url = Settings().database_url
        typer.echo(f"error: database {database_name(url)}: {failure_reason(exc, url)}", err=True)
        raise SystemExit(1) from None
