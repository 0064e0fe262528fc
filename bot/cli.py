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
    from storage.customer_keys import TrigramIndexUnavailable

    try:
        app()
    except TrigramIndexUnavailable as exc:  # raised by the migration that builds the name index
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
