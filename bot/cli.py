"""The `collectbot` command line: each command is a few lines over the services."""

from __future__ import annotations

import typer

from bot import cli_cases, cli_debtor, cli_ledger, cli_ops, cli_reports
from bot.cli_help import epilog
from bot.cli_support import accept_dash_args
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
accept_dash_args(app)  # `balance "-2+3 SA"`: a customer or document may start with "-"


def main() -> None:
    """Run the CLI: a broken policy (COLLECTBOT_POLICY_FILE, templates) or a database that cannot be
    used ends in one line in every command that meets it (DESIGN "Interfaces": no traceback)."""
    from sqlalchemy.exc import DBAPIError

    from storage.customer_keys import TrigramIndexUnavailable
    from storage.engine import DatabaseUnavailable, database_name, failure_reason

    try:  # Typer 0.29 carries its own copy of Click, whose exceptions these are
        from typer._click.exceptions import NoArgsIsHelpError, NoSuchOption, UsageError
    except ImportError:  # an older Typer on the real Click
        from click.exceptions import NoArgsIsHelpError, NoSuchOption, UsageError

    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `collectbot` alone, or a group alone: its help
        typer.echo(exc.format_message(), err=True)
        raise SystemExit(2) from None
    except UsageError as exc:  # a mistyped command line: one line, not Click's boxed usage
        where = exc.ctx.command_path if exc.ctx is not None else "collectbot"
        message = " ".join(exc.format_message().split())
        if isinstance(exc, NoSuchOption) and not exc.possibilities and _lacks_argument(exc.ctx):
            # `balance --X1`: a customer or document that starts like an option goes after a lone "--"
            what = _argument_names(exc.ctx.command)
            message += f"; a {what} starting with - goes after --: {where} -- {exc.option_name}"
        typer.echo(f"error: {message} (see {where} --help)", err=True)
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


def _lacks_argument(ctx: object) -> bool:
    """Whether the command line of the Click context `ctx` gave fewer positional words than its command
    takes (a customer, a document, a file...), as DashArgCommand counted them."""
    from bot.cli_support import POSITIONAL_WORDS

    params = getattr(getattr(ctx, "command", None), "params", ())
    wanted = sum(1 for p in params if getattr(p, "param_type_name", "") == "argument")
    return wanted > getattr(ctx, "meta", {}).get(POSITIONAL_WORDS, wanted)


def _argument_names(command: object) -> str:
    """The command's positional arguments as its usage line names them (CUSTOMER, CUSTOMER|DOC...)."""
    params = [p for p in getattr(command, "params", ()) if getattr(p, "param_type_name", "") == "argument"]
    return " or ".join(p.metavar or p.name.upper() for p in params)
