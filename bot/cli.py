"""The `collectbot` command line: each command is a few lines over the services."""

from __future__ import annotations

import typer

from bot import cli_cases, cli_debtor, cli_ledger, cli_ops
from bot.domain.policy_loader import PolicyError

app = typer.Typer(
    help="collectbot: receivables ledger, dunning, and the team's collections assistant.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli_ledger.register(app)
cli_ops.register(app)
cli_cases.register(app)
cli_debtor.register(app)


def main() -> None:
    """Run the CLI. A broken policy (COLLECTBOT_POLICY_FILE, templates) is one line in every
    command that loads it, whichever command that is (DESIGN: no traceback reaches a user)."""
    try:
        app()
    except PolicyError as exc:
        typer.echo(f"error: {' '.join(exc.located().split())}", err=True)
        raise SystemExit(1) from None
