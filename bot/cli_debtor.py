"""The debtor's side on the command line: linking chats, and credit staff's decisions on claims and disputes.

A decision is recorded with the notice to the debtor in one transaction, and the notice is
sent from this process after the commit (DESIGN: a decision taken on the CLI reaches the
debtor from that same CLI process; bot.handlers.telegram.delivery).
"""

from __future__ import annotations

import csv
import sys

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli_help import epilog
from bot.cli_support import FORMAT_HELP, MAX_ID, Fmt, TableFmt, build_app, customer_errors, err, fail, out, print_json
from bot.domain.csv_safety import neutralise

payment_app = typer.Typer(
    help="Payments debtors reported in Telegram (\"I paid\"): list, confirm or reject them.",
    no_args_is_help=True,
    epilog=epilog("collectbot payment list --status claimed", "collectbot payment confirm 12"),
)
dispute_app = typer.Typer(
    help="Disputes debtors opened in Telegram: list and resolve them.",
    no_args_is_help=True,
    epilog=epilog(
        "collectbot dispute list --status open", 'collectbot dispute resolve 4 --valid --reason "short shipped"'
    ),
)
REASON_HELP = "Why, in a few words: kept in the timeline and told to the debtor."


def register(app: typer.Typer) -> None:
    """Add `link`, `payment ...` and `dispute ...` to the top-level app."""
    app.command(
        "link",
        epilog=epilog(
            "collectbot link ACME",
            'collectbot link ACME --contact "Ana (accounts payable)"',
            "collectbot link --all-unlinked --format csv > links.csv",
            notes=(
                "The debtor opens the link and presses Start: the chat is linked to the customer. "
                "Each link works once, for 7 days; needs TELEGRAM_BOT_TOKEN (the bot's name comes from getMe).",
            ),
        ),
    )(link)
    app.add_typer(payment_app, name="payment")
    app.add_typer(dispute_app, name="dispute")


def _username(the_app) -> str:  # noqa: ANN001
    from bot.handlers.telegram.botapi import TelegramUnavailable, bot_username

    try:
        return bot_username(the_app)
    except TelegramUnavailable as exc:
        fail(str(exc))


def link(
    customer: str = typer.Argument(None, metavar="CUSTOMER_REF", help="Exact ref, name or alias."),
    contact: str = typer.Option("", "--contact", help="The contact's name, kept on the linked chat."),
    all_unlinked: bool = typer.Option(
        False, "--all-unlinked", help="Instead of CUSTOMER_REF: a link for every customer without a linked chat."
    ),
    fmt: TableFmt = typer.Option(
        TableFmt.text, "--format", help="text, or csv (customer_ref,link, for a mail merge) with --all-unlinked."
    ),
) -> None:
    """Print a one-time Telegram deep link (valid 7 days) that links a debtor's chat to the customer."""
    from bot.services.linking import deep_link, issue_link, issue_links_for_unlinked

    if all_unlinked == (customer is not None):
        fail("give CUSTOMER_REF or --all-unlinked (not both)")
    if fmt is TableFmt.json or (fmt is TableFmt.csv and not all_unlinked):
        fail(f"--format {fmt.value} is not available here (text, or csv with --all-unlinked)")
    if all_unlinked and contact:
        fail("--contact names one customer's contact: it cannot go with --all-unlinked")
    the_app = build_app()
    _ = the_app.engine  # a database problem is reported before Telegram is asked anything
    username = _username(the_app)  # getMe before anything is written: a refused token writes nothing
    now = the_app.now()
    if not all_unlinked:
        with customer_errors():
            row, token = issue_link(the_app.engine, customer, contact_name=contact.strip(), now=now)
        out.print(deep_link(username, token), markup=False, highlight=False)
        err.print(f"one-time link for {row.ref} ({row.name}), valid 7 days", markup=False)
        return
    links = [(ref, deep_link(username, token)) for ref, token in issue_links_for_unlinked(the_app.engine, now=now)]
    if fmt is TableFmt.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["customer_ref", "link"])
        writer.writerows([neutralise(ref), neutralise(url)] for ref, url in links)
        return
    for ref, url in links:
        out.print(f"{ref}\t{url}", markup=False, highlight=False)
    err.print(f"{len(links)} one-time link(s), valid 7 days", markup=False)


# -- payments ---------------------------------------------------------------------------------


@payment_app.command(
    "list", epilog=epilog("collectbot payment list --status claimed", "collectbot payment list --format json")
)
def payment_list(
    status: str = typer.Option(None, "--status", help="Only these: claimed, confirmed or rejected."),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """The payments debtors reported, oldest first."""
    from bot.services.payments import STATUSES, claims

    if status is not None and status not in STATUSES:
        fail(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    the_app = build_app()
    rows = claims(the_app.engine, status)
    if fmt is Fmt.json:
        print_json({"payments": rows})
        return
    t = Table()
    for col in ("id", "customer", "status", "amount", "date", "reference", "invoices", "receipt"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["id"]), escape(r["customer_ref"]), r["status"], f"{r['amount']} {r['currency']}", r["date"],
                  escape(r["reference"]), escape(", ".join(r["doc_refs"])), r["receipt"] or "")
    out.print(t)


def _decide_payment(payment_id: int, confirm: bool, reason: str | None) -> None:
    from bot.services.payments import decide_claim

    the_app = build_app()
    try:
        done = decide_claim(
            the_app.engine, payment_id, confirm=confirm, reason=(reason or "").strip(), actor="cli", now=the_app.now()
        )
    except (LookupError, ValueError) as exc:
        fail(str(exc))
    out.print(f"payment {payment_id} {done.status}; {told(the_app, done.notice_id)}", markup=False)


def told(the_app, notice: int | None) -> str:  # noqa: ANN001
    """Send the decision's notice now and say what became of it."""
    if notice is None:
        return "the customer has no reachable Telegram chat to tell"
    from bot.handlers.telegram.delivery import deliver_now

    status = deliver_now(the_app, [notice]).get(notice, "pending")
    return {
        "sent": "the debtor was told in Telegram",
        "no_channel": "every linked chat blocked the bot: the debtor could not be told",
        "unknown": "the message to the debtor may not have arrived (staff alerted)",
    }.get(status, "the message to the debtor waits in the outbox (Telegram not reachable now)")


@payment_app.command(
    "confirm",
    epilog=epilog("collectbot payment confirm 12", 'collectbot payment confirm 12 --reason "on the bank statement"'),
)
def payment_confirm(
    payment_id: int = typer.Argument(
        ..., metavar="ID", max=MAX_ID, help="The claimed payment's id (collectbot payment list)."
    ),
    reason: str = typer.Option(None, "--reason", help=REASON_HELP),
) -> None:
    """Confirm a claimed payment: it counts in balances (once: see README) and the debtor is told."""
    _decide_payment(payment_id, True, reason)


@payment_app.command("reject", epilog=epilog('collectbot payment reject 12 --reason "no such transfer on our account"'))
def payment_reject(
    payment_id: int = typer.Argument(
        ..., metavar="ID", max=MAX_ID, help="The claimed payment's id (collectbot payment list)."
    ),
    reason: str = typer.Option(None, "--reason", help=REASON_HELP),
) -> None:
    """Reject a claimed payment: dunning resumes on its invoices and the debtor is told why."""
    _decide_payment(payment_id, False, reason)


# -- disputes ---------------------------------------------------------------------------------


@dispute_app.command(
    "list", epilog=epilog("collectbot dispute list --status open", "collectbot dispute list --format json")
)
def dispute_list(
    status: str = typer.Option(None, "--status", help="Only these: open, valid or not_valid."),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """Disputes, oldest first (a valid one shows whether its credit note is still awaited)."""
    from bot.services.disputes import STATUSES, disputes

    if status is not None and status not in STATUSES:
        fail(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    the_app = build_app()
    rows = disputes(the_app.engine, status)
    if fmt is Fmt.json:
        print_json({"disputes": rows})
        return
    t = Table()
    for col in ("id", "customer", "status", "reason", "invoices", "text"):
        t.add_column(col)
    for r in rows:
        state = r["status"] + (" (credit note awaited)" if r["awaiting_credit_note"] else "")
        t.add_row(str(r["id"]), escape(r["customer_ref"]), state, r["reason"], escape(", ".join(r["doc_refs"])),
                  escape(r["text"]))
    out.print(t)


@dispute_app.command(
    "resolve",
    epilog=epilog(
        'collectbot dispute resolve 4 --valid --reason "3 boxes arrived damaged"',
        'collectbot dispute resolve 4 --not-valid --reason "the price is the one in PO 4471"',
    ),
)
def dispute_resolve(
    dispute_id: int = typer.Argument(..., metavar="ID", max=MAX_ID, help="The dispute's id (collectbot dispute list)."),
    valid: bool = typer.Option(
        False,
        "--valid",
        help="Required, or --not-valid. Valid: the disputed amount is not dunned and a credit note is awaited "
        "from the ERP.",
    ),
    not_valid: bool = typer.Option(False, "--not-valid", help="Required, or --valid. Not valid: dunning resumes."),
    reason: str = typer.Option(None, "--reason", help=REASON_HELP),
) -> None:
    """Resolve an open dispute; the debtor is told. Not valid: dunning resumes. Valid: the invoice waits
    for the ERP's credit note and is not dunned for the disputed amount."""
    from bot.services.disputes import resolve_now

    if valid and not_valid:  # two flags, not Click's --valid/--not-valid, where the last one silently wins
        fail("say either --valid or --not-valid, not both")
    if not (valid or not_valid):
        fail("say --valid or --not-valid")
    the_app = build_app()
    try:
        done = resolve_now(
            the_app.engine, dispute_id, valid=valid, reason=(reason or "").strip(), actor="cli", now=the_app.now()
        )
    except LookupError as exc:
        fail(str(exc))
    out.print(f"dispute {dispute_id} {done.status.replace('_', ' ')}; {told(the_app, done.notice_id)}", markup=False)


__all__ = ["register"]
