"""Ledger commands: db upgrade, import, balance, report aging."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli_help import epilog, import_epilog
from bot.cli_support import (
    AS_OF_HELP,
    FORMAT_HELP,
    TABLE_FORMAT_HELP,
    Fmt,
    TableFmt,
    build_app,
    customer_errors,
    err,
    note_lenient,
    out,
    parse_day,
    print_json,
)
from bot.domain.balances import BUCKETS
from bot.domain.csv_safety import neutralise
from bot.importer import ImportFailed, import_file
from bot.services.balances import aging_of, balance_of
from storage.migrate import current_revision, upgrade

db_app = typer.Typer(
    help="Database schema (COLLECTBOT_DATABASE_URL).", no_args_is_help=True, epilog=epilog("collectbot db upgrade")
)
import_app = typer.Typer(
    help="Import the ledger from the ERP's CSV files: customers first, then documents, then payments.",
    no_args_is_help=True,
    epilog=epilog(
        "collectbot import customers customers.csv",
        "collectbot import documents documents.csv",
        "collectbot import payments payments.csv --dry-run",
        notes=("collectbot import customers --help lists the columns of each file.",),
    ),
)
report_app = typer.Typer(
    help="Reports: aging, the daily digest, the weekly summary, prospects, the sales scorecard.",
    no_args_is_help=True,
    epilog=epilog("collectbot report aging --format csv > aging.csv", "collectbot report digest"),
)
FILE_HELP = "The CSV file to import."
DRY_RUN_HELP = "Check every row and say what would change; write nothing."


def register(app: typer.Typer) -> None:
    """Add `db ...`, `import ...`, `report ...` and `balance` to the top-level app."""
    app.add_typer(db_app, name="db")
    app.add_typer(import_app, name="import")
    app.add_typer(report_app, name="report")
    app.command(
        "balance",
        epilog=epilog(
            "collectbot balance ACME",
            'collectbot balance "acme corp" --as-of 2026-11-30 --format json',
            notes=("A lenient match (case, accents, small typos) names the customer it chose on stderr; "
                   "an ambiguous name lists the candidates and exits 2.",),
        ),
    )(balance)


@db_app.command("upgrade", epilog=epilog("collectbot db upgrade", notes=("Every command also upgrades on its own.",)))
def db_upgrade() -> None:
    """Apply every migration up to head on COLLECTBOT_DATABASE_URL (SQLite or PostgreSQL)."""
    engine = build_app().engine  # opening it applies every migration (storage.migrate.ensure_schema)
    upgrade(engine)
    err.print(f"database at revision {current_revision(engine)}")


def _progress(path: Path):  # noqa: ANN202
    if not sys.stderr.isatty() or path.stat().st_size < 2_000_000:
        return None

    def wrap(records: Iterator) -> Iterator:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task(f"reading {path.name}", total=None)
            for n, rec in enumerate(records, 1):
                if n % 5000 == 0:
                    bar.update(task, completed=n)
                yield rec

    return wrap


def _import(kind: str, file: Path, dry_run: bool) -> None:
    the_app = build_app()
    try:
        result = import_file(
            the_app.engine,
            kind,
            file,
            the_app.import_context(),
            dry_run=dry_run,
            progress=_progress(file),
        )
    except ImportFailed as exc:  # every bad line listed (the first 20), one per line; nothing written
        for line in exc.lines:
            typer.echo(f"error: {file}: {' '.join(line.split())}", err=True)
        raise typer.Exit(1) from None
    typer.echo(result.summary(file), err=True)


@import_app.command("customers", epilog=import_epilog("customers", "collectbot import customers customers.csv"))
def import_customers(
    file: Path = typer.Argument(..., metavar="FILE.csv", help=FILE_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
) -> None:
    """Upsert customers by customer_ref."""
    _import("customers", file, dry_run)


@import_app.command("documents", epilog=import_epilog("documents", "collectbot import documents documents.csv"))
def import_documents(
    file: Path = typer.Argument(..., metavar="FILE.csv", help=FILE_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
) -> None:
    """Upsert invoices, credit notes, debit notes and withholdings by doc_ref."""
    _import("documents", file, dry_run)


@import_app.command("payments", epilog=import_epilog("payments", "collectbot import payments payments.csv"))
def import_payments(
    file: Path = typer.Argument(..., metavar="FILE.csv", help=FILE_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
) -> None:
    """Upsert payments by payment_ref (applies_to: INV-1:100.00|INV-2:50)."""
    _import("payments", file, dry_run)


def balance(
    customer: str = typer.Argument(..., help="A ref, name or alias (matched leniently)."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """What a customer owes: balances per currency, aging buckets and open items."""
    the_app = build_app()
    day = parse_day(as_of, "--as-of", the_app.today())
    with customer_errors():
        answer = balance_of(the_app.engine, customer, day)
    note_lenient(customer, answer.found)
    row, doc = answer.found.customer, answer.document
    if fmt is Fmt.json:
        print_json(doc)
        return
    hold = " [bold red](credit hold)[/]" if row.credit_hold else ""
    out.print(f"[bold]{escape(doc['name'])}[/] ({escape(doc['customer_ref'])}){hold} as of {doc['as_of']}")
    if not doc["balances"]:
        out.print("Nothing on the ledger.")
    for b in doc["balances"]:
        t = Table(title=f"{b['currency']}", title_justify="left")
        for col in ("total open", "overdue", "unapplied", *BUCKETS, "limit", "available"):
            t.add_column(col, justify="right")
        t.add_row(
            b["total_open"],
            b["overdue"],
            b["unapplied_credit"],
            *b["buckets"].values(),
            b["credit_limit"] or "-",
            b["available_credit"] or "-",
        )
        out.print(t)
    if doc["open_items"]:
        t = Table(title="open items", title_justify="left")
        for col in ("doc", "type", "due", "open", "cur", "days", "status"):
            t.add_column(col, justify="right" if col in ("open", "days") else "left")
        for i in doc["open_items"]:
            t.add_row(
                escape(i["doc_ref"]),
                i["type"],
                i["due_date"],
                i["open_amount"],
                i["currency"],
                str(i["days_overdue"]),
                i["status"],
            )
        out.print(t)


@report_app.command(
    "aging",
    epilog=epilog(
        "collectbot report aging",
        "collectbot report aging --as-of 2026-11-30 --format csv > aging.csv",
        notes=("The CSV holds customer rows only (a spreadsheet's column sum is the total); "
               "text and json carry the totals.",),
    ),
)
def report_aging(
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    fmt: TableFmt = typer.Option(TableFmt.text, "--format", help=TABLE_FORMAT_HELP),
) -> None:
    """Aging of every customer with anything open, per currency: current, 1-30, 31-60, 61-90, 90+ days."""
    the_app = build_app()
    day = parse_day(as_of, "--as-of", the_app.today())
    doc = aging_of(the_app.engine, day)
    cols = ("customer_ref", "name", *BUCKETS, "unapplied_credit", "total")
    if fmt is TableFmt.json:
        print_json(doc)
    elif fmt is TableFmt.csv:  # customers only: a spreadsheet's sum of a column is the total
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(("currency", *cols))
        for rep in doc["reports"]:
            for r in rep["rows"]:
                writer.writerow([neutralise(rep["currency"]), *(neutralise(r[c]) for c in cols)])
    else:
        _aging_tables(doc)


def _aging_tables(doc: dict) -> None:
    """One table per currency: the buckets, the unapplied credit (a customer in credit shows it
    there, beside a negative total) and total = open items − unapplied credit; amounts never cut."""
    out.print(f"[bold]Aging as of {doc['as_of']}[/]")
    for rep in doc["reports"]:
        t = Table(title=rep["currency"], title_justify="left", caption="total = open items − unapplied credit")
        widths = [min(max(max(len(r["customer_ref"]) for r in rep["rows"]), 8), 12), 6]
        t.add_column("customer", overflow="fold", min_width=widths[0])
        t.add_column("name", overflow="fold", min_width=widths[1])
        numbers = [*BUCKETS, "unapplied_credit", "total"]
        for key in numbers:
            label = "unapplied\ncredit" if key == "unapplied_credit" else key
            widths.append(max([len(r[key]) for r in [*rep["rows"], rep["totals"]]] + [len(w) for w in label.split()]))
            t.add_column(label, justify="right", no_wrap=True, min_width=widths[-1])
        for r in rep["rows"]:
            t.add_row(escape(r["customer_ref"]), escape(r["name"]), *(r[k] for k in numbers))
        t.add_row("TOTAL", "", *(rep["totals"][k] for k in numbers), style="bold")
        needed = sum(widths) + 3 * len(widths) + 1  # cells, padding and rules
        if needed <= out.width:
            out.print(t)
            continue
        terminal, out.width = out.width, needed  # wider than the terminal rather than a column dropped
        try:
            out.print(t, crop=False)
        finally:
            out.width = terminal
