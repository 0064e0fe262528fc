"""Report commands beside `report aging`: digest, weekly, prospects, scorecard.

Each builds one document through the services (bot.services.digest, bot.services.reports),
prints it as rich tables or as exactly one JSON document, and with `--post` hands it to
the Slack poster (bot.services.report_post).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli_support import Fmt, build_app, err, fail, out, parse_day, print_json
from bot.domain.balances import BUCKETS
from bot.domain.months import Month, MonthError, parse_month
from bot.services.report_post import (
    PostingUnavailable,
    ReportKind,
    ReportPoster,
    SlackNotConfigured,
    make_report,
    post_report,
)

AS_OF_HELP = "The company's date, YYYY-MM-DD; default: today in COLLECTBOT_TIMEZONE."
REP_HELP = "Only this sales rep's customers (their Slack user id), as the rep sees them in Slack."
POST_HELP = "Also post the report to COLLECTBOT_SLACK_CHANNEL (needs SLACK_BOT_TOKEN)."
FORMAT_HELP = "text (tables) or json (one document, amounts as decimal strings)."


def register(report_app: typer.Typer) -> None:
    """Add the commands to the `report` group (the one `report aging` is in)."""
    report_app.command("digest", epilog="Example: collectbot report digest --as-of 2026-11-23 --format json")(digest)
    report_app.command("weekly", epilog="Example: collectbot report weekly --chart aging.png")(weekly)
    report_app.command("prospects", epilog="Example: collectbot report prospects --rep U024BE7LH")(prospects)
    report_app.command("scorecard", epilog="Example: collectbot report scorecard 2026-10 --format json")(scorecard)


def _poster(post: bool, the_app) -> ReportPoster | None:  # noqa: ANN001
    """The Slack poster when --post is given; checked before any work, so a bad setup costs nothing."""
    if not post:
        return None
    try:
        from bot.handlers.slack.report_poster import slack_poster  # Slack's SDK only when posting

        return slack_poster(the_app.settings, engine=the_app.engine)
    except (SlackNotConfigured, PostingUnavailable) as exc:
        fail(str(exc))


@dataclass(frozen=True)
class _Ask:
    """What one report command was asked for."""

    kind: ReportKind
    as_of: str | None
    rep: str | None
    post: bool
    fmt: Fmt
    month: Month | None = None
    top: int = 10
    chart: Path | None = None


def _run(ask: _Ask, render: Callable[[dict], None]) -> None:
    the_app = build_app()
    poster = _poster(ask.post, the_app)
    day = parse_day(ask.as_of, "--as-of", the_app.today())
    report = make_report(
        the_app.engine,
        ask.kind,
        day=day,
        tz=the_app.company_tz,
        rep_slack_id=ask.rep,
        month=ask.month,
        top=ask.top,
        chart=ask.chart is not None or poster is not None,
    )
    if ask.chart is not None and report.chart_png is not None:
        try:
            ask.chart.write_bytes(report.chart_png)
        except OSError as exc:
            fail(f"--chart {ask.chart}: cannot write: {exc.strerror or exc}")
        err.print(f"aging chart written to {ask.chart}")
    if ask.fmt is Fmt.json:
        print_json(report.document)
    else:
        render(report.document)
    if poster is not None:
        try:
            where = post_report(report, poster)
        except PostingUnavailable as exc:
            fail(str(exc))
        err.print(f"posted the {ask.kind} report to Slack ({where})")


def _rep(value: str | None) -> str:
    return escape(value) if value else "(no rep)"


def _scope(doc: dict) -> str:
    return f" for {escape(doc['rep_slack_id'])}'s customers" if doc.get("rep_slack_id") else ""


def _table(title: str, cols: tuple[str, ...], right: tuple[str, ...] = ()) -> Table:
    t = Table(title=title, title_justify="left")
    for c in cols:
        t.add_column(c, justify="right" if c in right else "left")
    return t


# --- digest -----------------------------------------------------------------------------


def digest(
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    rep: str = typer.Option(None, "--rep", help=REP_HELP),
    post: bool = typer.Option(False, "--post", help=POST_HELP),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """The daily digest: reminders sent, escalations, promises due and broken, open disputes, claims waiting."""
    _run(_Ask("digest", as_of, rep, post, fmt), _render_digest)


def _render_digest(doc: dict) -> None:
    r = doc["reminders"]
    out.print(f"[bold]Daily digest for {doc['date']} ({doc['timezone']}){_scope(doc)}[/]")
    msgs = r["messages"]
    out.print(
        f"Reminders: {msgs.get('sent', 0)} message(s) sent, {msgs.get('no_channel', 0)} without a chat "
        f"(sales asked to phone), {msgs.get('unknown', 0)} unknown, {msgs.get('failed', 0)} failed"
    )
    if r["by_step"]:
        out.print("  by step: " + ", ".join(f"{k} {v}" for k, v in r["by_step"].items()))
    sections = (
        ("Escalations", "escalations", ("customer", "name", "kind", "at"),
         lambda e: (e["customer_ref"], e["name"], e["kind"], e["at"])),
        ("Promises due today", "promises_due", ("customer", "name", "doc", "amount", "cur", "status"),
         lambda p: (p["customer_ref"], p["name"], p["doc_ref"] or "(account)", p["amount"], p["currency"],
                    p["status"])),
        ("Promises broken today", "promises_broken", ("customer", "name", "docs", "at"),
         lambda p: (p["customer_ref"], p["name"], ", ".join(p["doc_refs"]) or "(account)", p["at"])),
        ("Open disputes", "disputes_open", ("id", "customer", "name", "docs", "reason", "days open"),
         lambda d: (str(d["dispute_id"]), d["customer_ref"], d["name"], ", ".join(d["doc_refs"]), d["reason"],
                    str(d["age_days"]))),
        ("Claimed payments waiting", "claims_waiting",
         ("id", "customer", "name", "amount", "cur", "paid on", "reference", "days waiting"),
         lambda c: (str(c["payment_id"]), c["customer_ref"], c["name"], c["amount"], c["currency"], c["date"],
                    c["reference"], "" if c["age_days"] is None else str(c["age_days"]))),
    )
    for title, key, cols, row in sections:
        if not doc[key]:
            out.print(f"{title}: none")
            continue
        t = _table(f"{title} ({len(doc[key])})", cols, ("amount", "days open", "days waiting"))
        for item in doc[key]:
            t.add_row(*(escape(str(v)) for v in row(item)))
        out.print(t)


# --- weekly -----------------------------------------------------------------------------


def weekly(
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    rep: str = typer.Option(None, "--rep", help=REP_HELP),
    top: int = typer.Option(10, "--top", min=1, max=1000, help="How many overdue customers to list per currency."),
    chart: Path = typer.Option(None, "--chart", help="Write the aging chart (PNG) to this file.", dir_okay=False),
    post: bool = typer.Option(False, "--post", help=POST_HELP + " The chart is uploaded with it."),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """The weekly aging summary: bucket totals and DSO per currency, the largest overdue customers, a chart."""
    _run(_Ask("weekly", as_of, rep, post, fmt, top=top, chart=chart), _render_weekly)


def _dso_text(dso: dict) -> str:
    return f">= {dso['days']}" if dso["capped"] else dso["days"]


def _render_weekly(doc: dict) -> None:
    out.print(f"[bold]Weekly aging summary as of {doc['as_of']}{_scope(doc)}[/]")
    if not doc["currencies"]:
        out.print("Nothing on the ledger.")
        return
    cols = ("cur", *BUCKETS, "unapplied", "total open", "overdue", "customers overdue", "DSO days")
    t = _table("Totals", cols, cols[1:])
    for c in doc["currencies"]:
        t.add_row(c["currency"], *c["buckets"].values(), c["unapplied_credit"], c["total_open"], c["overdue"],
                  str(c["customers_overdue"]), _dso_text(c["dso"]))
    out.print(t)
    for c in doc["currencies"]:
        if not c["top_overdue"]:
            continue
        t = _table(f"Most overdue, {c['currency']}", ("customer", "name", "rep", "overdue", "90+", "oldest days"),
                   ("overdue", "90+", "oldest days"))
        for r in c["top_overdue"]:
            t.add_row(escape(r["customer_ref"]), escape(r["name"]), _rep(r["sales_rep_slack_id"]), r["overdue"],
                      r["90+"], str(r["oldest_days_overdue"]))
        out.print(t)


# --- prospects ----------------------------------------------------------------------------


def prospects(
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    rep: str = typer.Option(None, "--rep", help=REP_HELP),
    post: bool = typer.Option(False, "--post", help=POST_HELP),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """Customers with nothing overdue and credit available (not on credit hold), with their payer grade."""
    _run(_Ask("prospects", as_of, rep, post, fmt), _render_prospects)


def _render_prospects(doc: dict) -> None:
    out.print(f"[bold]Prospects as of {doc['as_of']}{_scope(doc)}[/]: nothing overdue, credit available")
    if not doc["prospects"]:
        out.print("None.")
        return
    cols = ("customer", "name", "rep", "cur", "credit limit", "open", "available", "grade", "avg days late")
    t = _table(f"{len(doc['prospects'])} customer(s)", cols, ("credit limit", "open", "available", "avg days late"))
    for p in doc["prospects"]:
        t.add_row(escape(p["customer_ref"]), escape(p["name"]), _rep(p["sales_rep_slack_id"]), p["currency"],
                  p["credit_limit"], p["total_open"], p["available_credit"], p["payer_grade"] or "-",
                  p["average_days_late"] or "-")
    out.print(t)


# --- scorecard ----------------------------------------------------------------------------


def scorecard(
    month: str = typer.Argument(None, help="YYYY-MM; default: the month of --as-of (the company's current month)."),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    rep: str = typer.Option(None, "--rep", help=REP_HELP),
    post: bool = typer.Option(False, "--post", help=POST_HELP),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """Invoiced (invoices and debit notes issued) against collected (payments) per sales rep for a month."""
    chosen = None
    if month is not None:
        try:
            chosen = parse_month(month)
        except MonthError as exc:
            fail(str(exc))
    _run(_Ask("scorecard", as_of, rep, post, fmt, month=chosen), _render_scorecard)


def _render_scorecard(doc: dict) -> None:
    out.print(f"[bold]Scorecard for {doc['month']}{_scope(doc)}[/]: invoiced against collected per sales rep")
    if not doc["reports"]:
        out.print("No customers.")
    for rep in doc["reports"]:
        t = _table(rep["currency"], ("sales rep", "invoiced", "collected"), ("invoiced", "collected"))
        for r in rep["rows"]:
            t.add_row(_rep(r["sales_rep_slack_id"]), r["invoiced"], r["collected"])
        t.add_row("TOTAL", rep["totals"]["invoiced"], rep["totals"]["collected"], style="bold")
        out.print(t)
