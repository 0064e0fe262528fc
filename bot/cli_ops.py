"""Operations commands: sweep, policy check, hold, run, demo, timeline."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from bot.app import build_sweeper
from bot.cli_help import epilog
from bot.cli_support import FORMAT_HELP, Fmt, build_app, customer_errors, err, fail, out, parse_day, print_json

if TYPE_CHECKING:
    from bot.services.holds import HoldChange

policy_app = typer.Typer(
    help="The dunning policy (COLLECTBOT_POLICY_FILE, or the packaged default).",
    no_args_is_help=True,
    epilog=epilog("collectbot policy check my-policy.toml"),
)


def register(app: typer.Typer) -> None:
    """Add `sweep`, `policy ...`, `hold`, `credit-hold`, `run` and `demo` to the top-level app."""
    app.command(
        "sweep",
        epilog=epilog(
            "collectbot sweep",
            "collectbot sweep --dry-run --format json",
            "collectbot sweep --now 2026-11-23T13:00:00+00:00",
            notes=("A dry run plans exactly what the real sweep would do at that instant and records nothing.",),
        ),
    )(sweep)
    app.add_typer(policy_app, name="policy")
    app.command(
        "hold",
        epilog=epilog(
            'collectbot hold ACME --until 2026-12-15 --reason "CFO away until then"',
            'collectbot hold INV-1087 --until 2026-12-01 --reason "waiting for the PO"',
            "collectbot hold ACME --release",
            notes=("A hold stops reminders, not sales: the stop on new sales is collectbot credit-hold.",),
        ),
    )(hold)
    app.command(
        "credit-hold",
        epilog=epilog(
            'collectbot credit-hold ACME --set --reason "90 days overdue: no new orders"',
            'collectbot credit-hold ACME --release --reason "paid in full"',
            notes=(
                "The stop on new sales, apart from reminder holds (collectbot hold). A credit hold set while "
                "something is overdue is lifted by the first sweep with nothing overdue. Needs an exact ref, "
                "name or alias.",
            ),
        ),
    )(credit_hold)
    app.command(
        "run",
        epilog=epilog(
            "TELEGRAM_BOT_TOKEN=123:ABC collectbot run",
            "COLLECTBOT_SWEEP_INTERVAL_MINUTES=0 collectbot run",
            notes=(
                "Configuration comes from the environment (or .env): TELEGRAM_BOT_TOKEN turns the debtor's bot on, "
                "SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP) turns Slack on, "
                "COLLECTBOT_SWEEP_INTERVAL_MINUTES sets the sweep (default 15, 0 = none; never a sweep at start-up). "
                "The first lines say which channels are on and which are off.",
            ),
        ),
    )(run)
    app.command(
        "demo",
        epilog=epilog(
            "collectbot demo",
            "collectbot demo | less -R",
            notes=("Needs no configuration, no network and no Telegram account; leaves no file behind.",),
        ),
    )(demo)


def run() -> None:
    """Run until SIGINT/SIGTERM: the debtor's Telegram bot, Slack and the scheduled sweep, each when configured."""
    import asyncio

    from bot.runner import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler's own INFO ("Added job", "Running job", "executed successfully") is noise beside
    # collectbot's: the sweep logs its result itself. Its warnings and errors (a missed run) stay.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # "setup plugin ...": not news
    the_app = build_app()
    _ = the_app.policy  # a broken policy stops `run` now, in one line, not its first sweep
    asyncio.run(serve(the_app))


def demo() -> None:
    """The whole story on a throw-away database: 60 days of dunning, and a debtor's chat with the bot."""
    from bot.demo import run_demo

    run_demo(out)


def sweep(
    now: str = typer.Option(
        None, "--now", help="The sweep's instant, ISO 8601 like 2026-11-23T13:00:00+00:00; default: the real clock."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan only: record and send nothing."),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """Run one sweep now: plan every customer's reminders, record them, send them through the configured
    Telegram bot (without TELEGRAM_BOT_TOKEN they wait in the outbox), alert staff."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    the_app = build_app(now)
    _ = the_app.policy  # a broken policy is one line before anything else
    from bot.scheduler.delivery import run_sync  # the sending path only for `sweep`

    report = run_sync(_sweep(the_app, dry_run))
    if fmt is Fmt.json:
        print_json(report.as_json())
        return
    out.print(f"sweep at {report.now.isoformat()}{' (dry run)' if dry_run else ''}: {report.summary()}")
    if report.messages:
        t = Table()
        for col in ("customer", "status", "step", "items"):
            t.add_column(col)
        for m in report.messages:
            t.add_row(escape(m.customer_ref), m.status, m.step, escape(", ".join(f"{r} ({s})" for r, s in m.items)))
        out.print(t)


async def _sweep(the_app, dry_run: bool):  # noqa: ANN001, ANN202
    """Check the token (a wrong one is one line, nothing recorded), record, deliver, post; the report."""
    from telegram.error import InvalidToken

    from bot.handlers.telegram.botapi import TelegramUnavailable
    from bot.handlers.telegram.delivery import TelegramDebtorChannel
    from bot.runner import build_alert_channel

    channel = None
    token = the_app.settings.telegram_bot_token
    if not dry_run and token is not None and token.get_secret_value().strip():
        channel = TelegramDebtorChannel.for_app(the_app)
        try:
            await channel.open()
        except TelegramUnavailable as exc:
            await channel.close()
            if isinstance(exc.__cause__, InvalidToken):
                fail(str(exc))
            err.print(f"warning: {exc}; reminders are recorded and stay pending", markup=False)
            channel = None
    sweeper = build_sweeper(the_app, debtor=channel, staff=build_alert_channel(the_app))
    try:
        return await sweeper.run(the_app.now(), dry_run=dry_run)
    finally:
        if channel is not None:
            await channel.close()


@policy_app.command(
    "check",
    epilog=epilog(
        "collectbot policy check my-policy.toml",
        notes=("A broken file is one line naming the key; exit status 1.",),
    ),
)
def policy_check(file: Path = typer.Argument(..., metavar="FILE", help="The policy TOML file to check.")) -> None:
    """Validate a policy file, render its templates in every locale, and print its ladders."""
    from bot.domain.policy_loader import PolicyError
    from bot.services.policy import check_policy

    the_app = build_app()
    try:
        renderer = the_app.renderer
    except FileNotFoundError as exc:
        fail(f"COLLECTBOT_TEMPLATES_DIR: {exc}")
    try:
        checked = check_policy(file, renderer)
    except PolicyError as exc:
        fail(exc.located())
    policy = checked.policy
    out.print(
        f"[bold]{escape(str(file))}[/]: valid. min_gap_days={policy.min_gap_days}, "
        f"minimum open {policy.minimum_open_default} (overrides: "
        f"{', '.join(f'{k} {v}' for k, v in policy.minimum_open.items()) or 'none'})"
    )
    out.print(_hours_line(policy))
    for seg in policy.segments.values():
        t = Table(title=f"segment {seg.name}", title_justify="left")
        for col in ("step", "offset", "template", "skippable", "fee", "heads-up", "actions", "sales approval"):
            t.add_column(col)
        for s in seg.steps:
            t.add_row(
                s.name,
                f"{s.offset_days:+d}",
                s.template,
                "yes" if s.skippable else "",
                _fee_column(s.late_fee),
                f"{s.heads_up_days}d" if s.heads_up_days else "",
                ", ".join(s.actions),
                "needed" if s.sales_approval else "",
            )
        out.print(t)
        for s in seg.steps:
            if s.late_fee is not None and (s.late_fee.fixed is not None or s.late_fee.cap):
                out.print(f"  {s.name} fee: {escape(_fee_text(s.late_fee))}")
        if seg.interest_annual_rate is not None:
            out.print(f"  statutory interest: {seg.interest_annual_rate} a year")
        if seg.discount is not None:
            out.print(f"  early payment: {seg.discount.percent}% within {seg.discount.within_days} days")
    for template, locales in checked.templates.fallbacks.items():
        out.print(f"template {escape(template)}: no {', '.join(locales)} version, those contacts read English")


def _fee_column(fee) -> str:  # noqa: ANN001
    if fee is None:
        return "-"
    if fee.fixed is not None:
        return f"fixed ({len(fee.fixed)} currenc{'y' if len(fee.fixed) == 1 else 'ies'})"
    return f"{fee.percent}%" + (" capped" if fee.cap else "")


def _fee_text(fee) -> str:  # noqa: ANN001
    """A late fee as policy check shows it: the currencies it covers, and what the others get."""
    if fee is None:
        return "-"
    if fee.fixed is not None:
        amounts = ", ".join(f"{cur} {amount}" for cur, amount in sorted(fee.fixed.items()))
        return f"fixed {amounts}; no fixed fee in other currencies"
    caps = ", ".join(f"{cur} {amount}" for cur, amount in sorted(fee.cap.items()))
    return f"{fee.percent}% of the open amount" + (f", capped at {caps}; uncapped in other currencies" if caps else "")


def _hours_line(policy) -> str:  # noqa: ANN001
    from bot.domain.policy_values import WEEKDAYS

    hours = policy.business_hours
    overrides = "; ".join(
        f"{country} {' '.join(WEEKDAYS[d] for d in days)}" for country, days in sorted(hours.working_days.items())
    )
    return (
        f"business hours {hours.start:%H:%M}-{hours.end:%H:%M} on each country's working days "
        f"(the holidays package's weekend and public holidays; Mon-Fri where the country is empty or unknown)"
        + (f"; working days set by the policy: {overrides}" if overrides else "")
    )


def hold(
    target: str = typer.Argument(
        ..., metavar="CUSTOMER|DOC", help="A customer's exact ref, name or alias, or a document ref."
    ),
    until: str = typer.Option(
        None, "--until", help="Required (unless --release): the hold's last local date, YYYY-MM-DD, inclusive."
    ),
    reason: str = typer.Option(None, "--reason", help="Required (unless --release): why, kept in the timeline."),
    release: bool = typer.Option(False, "--release", help="End the active hold instead."),
) -> None:
    """Pause reminders for a customer or one document until a date (or --release).

    The hold covers every local date of the customer up to and including --until. A date already
    past is accepted (sweeps replayed with an earlier --now see it) with a note on stderr.
    """
    from bot.services import holds

    the_app = build_app()
    if not release:
        if until is None or not (reason or "").strip():
            fail("a hold needs --until DATE and --reason TEXT (or --release)")
        day = parse_day(until, "--until", the_app.today())
    with customer_errors():  # LookupError too: no active hold to release
        if release:
            done = holds.release(the_app.engine, target, actor="cli", now=the_app.now())
        else:
            done = holds.hold(the_app.engine, target, until=day, reason=reason.strip(), actor="cli", now=the_app.now())
    what = "hold released" if release else f"reminders held until {done.until} inclusive"
    err.print(f"{done.subject} ({done.customer.name}): {what}", markup=False)
    if not release:
        _note_past_hold(done, the_app.now())


def _note_past_hold(done: HoldChange, now: datetime) -> None:
    """Say on stderr when a hold's last day is already past at the clock's `now` in the customer's own
    time zone: such a hold pauses no sweep from now on. Only a notice, never a refusal: DESIGN
    ("Ladder dates and windows") keeps `--until` apart from the real clock, so a hold for a past
    date still covers sweeps replayed with an earlier `--now`."""
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(done.customer.timezone or "UTC")).date()
    if done.until < today:
        err.print(
            f"note: --until {done.until} is already past (today is {today} for {done.customer.ref}): "
            "this hold pauses no sweep from now on, only sweeps run with an earlier --now",
            markup=False,
        )


def credit_hold(
    customer: str = typer.Argument(..., metavar="CUSTOMER", help="An exact ref, name or alias."),
    set_: bool = typer.Option(False, "--set", help="Put the customer on credit hold (no new sales)."),
    release: bool = typer.Option(False, "--release", help="Lift the customer's credit hold."),
    reason: str = typer.Option(None, "--reason", help="Why (required); kept in the timeline."),
) -> None:
    """Set or lift a credit hold, the stop on new sales (reminders go on; `hold` pauses those).

    A hold set while something is overdue is lifted by the first sweep with nothing overdue; one
    set on an account with nothing overdue stays until --release.

    Example: collectbot credit-hold ACME --set --reason "cheque bounced"
    """
    from bot.services.credit_holds import change_by_hand

    if set_ == release:
        fail("give exactly one of --set and --release")
    if not (reason or "").strip():
        fail("a credit hold change needs --reason TEXT")
    the_app = build_app()
    with customer_errors():  # CreditHoldUnchanged is a LookupError too: one line, exit 1
        done = change_by_hand(
            the_app.engine, customer, hold=set_, reason=reason.strip(), actor="cli", now=the_app.now()
        )
    if done.credit_hold:
        lifts = "lifted by the first sweep with nothing overdue" if done.auto_release else "until --release"
        message = f"{done.customer_ref} ({done.name}): on credit hold, no new sales ({lifts})"
    else:
        message = f"{done.customer_ref} ({done.name}): credit hold released"
    err.print(message, markup=False)
