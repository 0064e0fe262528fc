"""The `collectbot` command line: each command is a few lines over the services."""

from __future__ import annotations

import typer

from bot import cli_cases, cli_debtor, cli_ledger, cli_ops, cli_reports
from bot.cli_help import epilog
from bot.domain.policy_loader import PolicyError

app = typer.Typer(
    help="collectbot: receivables ledger, dunning, and the team's collections assistant.",
    epilog=epilog(
        "collectbot demo",
        "collectbot import customers customers.csv",
        "collectbot balance ACME",
        "collectbot sweep --dry-run",
        notes=("collectbot COMMAND --help shows each command's options and an example.",),
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli_ledger.register(app)
cli_ops.register(app)
cli_cases.register(app)
cli_debtor.register(app)
cli_reports.register(cli_ledger.report_app)


def main() -> None:
    """Run the CLI: a broken policy (COLLECTBOT_POLICY_FILE, templates) or a database that cannot be
    used ends in one line in every command that meets it (DESIGN "Interfaces": no traceback)."""
    from sqlalchemy.exc import DBAPIError

    from storage.customer_keys import TrigramIndexUnavailable
    from storage.engine import DatabaseUnavailable, database_name, failure_reason

    try:  # Typer 0.29 carries its own copy of Click, whose exceptions these are
        from typer._click.exceptions import NoArgsIsHelpError, UsageError
    except ImportError:  # an older Typer on the real Click
        from click.exceptions import NoArgsIsHelpError, UsageError

    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `collectbot` alone, or a group alone: its help
        typer.echo(exc.format_message(), err=True)
        raise SystemExit(2) from None
    except UsageError as exc:  # a mistyped command line: one line, not Click's boxed usage
        where = exc.ctx.command_path if exc.ctx is not None else "collectbot"
        typer.echo(f"error: {' '.join(exc.format_message().split())} (see {where} --help)", err=True)
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:  # Ctrl-C at a prompt
        raise SystemExit(130) from None
    except TrigramIndexUnavailable as exc:  # raised by the migration that builds the name index
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except PolicyError as exc:
        typer.echo(f"error: {' '.join(exc.located().split())}", err=True)
        raise SystemExit(1) from None
    except DatabaseUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except DBAPIError as exc:  # the database went away in the middle of a command
        from bot.config import Settings

        url = Settings().database_url
        typer.echo(f"error: database {database_name(url)}: {failure_reason(exc, url)}", err=True)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)
