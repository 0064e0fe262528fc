"""Case commands: timeline, payment plans, and sales agreeing to a gated step."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli_help import epilog
from bot.cli_support import FORMAT_HELP, MAX_ID, Fmt, build_app, customer_errors, fail, note_lenient, out, print_json
from bot.domain.money import cents_str
from bot.domain.statuses import PlanStatus
from bot.services.plan_decisions import PlanSummary, list_plans

plan_app = typer.Typer(
    help="Payment plans debtors proposed in Telegram: list them, approve or reject them.",
    no_args_is_help=True,
    epilog=epilog("collectbot plan list --status proposed", 'collectbot plan approve 3 --reason "agreed by phone"'),
)
step_app = typer.Typer(
    help="Ladder steps that wait for sales to agree (policy sales_approval), such as a strategic formal notice.",
    no_args_is_help=True,
    epilog=epilog("collectbot step approve ACME --step formal_notice"),
)
REASON_HELP = "Why, in a few words: kept in the timeline and told to the debtor."
PLAN_STATUSES = tuple(PlanStatus)


def register(app: typer.Typer) -> None:
    """Add `timeline`, `plan ...` and `step ...` to the top-level app."""
    app.command(
        "timeline",
        epilog=epilog("collectbot timeline ACME", "collectbot timeline ACME --format json"),
    )(timeline)
    app.add_typer(plan_app, name="plan")
    app.add_typer(step_app, name="step")


def timeline(
    customer: str = typer.Argument(..., metavar="CUSTOMER", help="A ref, name or alias (matched leniently)."),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """The customer's history, oldest first: reminders, replies, claims, disputes, plans, holds, staff alerts."""
    from bot.services.timeline import customer_timeline

    the_app = build_app()
    with customer_errors():
        found = customer_timeline(the_app.engine, customer)
    note_lenient(customer, found.found)
    row, evs = found.found.customer, found.events
    doc = {
        "customer_ref": row.ref,
        "events": [
            {
                "at": e.at.isoformat(),
                "kind": e.kind,
                "actor": e.actor,
                "doc_refs": list(e.doc_refs or []),
                "text": e.text,
            }
            for e in evs
        ],
    }
    if fmt is Fmt.json:
        print_json(doc)
        return
    out.print(f"[bold]{escape(row.name)}[/] ({escape(row.ref)}): {len(evs)} event(s)")
    for e in doc["events"]:
        refs = f" [{', '.join(e['doc_refs'])}]" if e["doc_refs"] else ""
        out.print(f"{e['at']}  {e['kind']:<18} {e['actor']:<10}{escape(refs)} {escape(e['text'])}")


def _plan_json(p: PlanSummary) -> dict:
    return {
        "id": p.id,
        "customer_ref": p.customer_ref,
        "status": p.status,
        "currency": p.currency,
        "total": cents_str(p.total_cents),
        "installments": [{"due_date": due.isoformat(), "amount": cents_str(cents)} for due, cents in p.installments],
        "doc_refs": p.doc_refs,
    }


@plan_app.command(
    "list", epilog=epilog("collectbot plan list", "collectbot plan list --status proposed --format json")
)
def plan_list(
    status: str = typer.Option(None, "--status", help=f"Only plans in this status: {', '.join(PLAN_STATUSES)}."),
    fmt: Fmt = typer.Option(Fmt.text, "--format", help=FORMAT_HELP),
) -> None:
    """Payment plans, oldest first."""
    if status is not None and status not in PLAN_STATUSES:
        fail(f"--status {status!r} is not one of {', '.join(PLAN_STATUSES)}")
    the_app = build_app()
    plans = [_plan_json(p) for p in list_plans(the_app.engine, status)]
    if fmt is Fmt.json:
        print_json({"plans": plans})
        return
    t = Table()
    for col in ("id", "customer", "status", "total", "instalments", "documents"):
        t.add_column(col)
    for p in plans:
        t.add_row(
            str(p["id"]),
            escape(p["customer_ref"]),
            p["status"],
            f"{p['total']} {p['currency']}",
            str(len(p["installments"])),
            escape(", ".join(p["doc_refs"])),
        )
    out.print(t)


def _decide(plan_id: int, approve: bool, reason: str | None) -> None:
    from bot.cli_debtor import told
    from bot.services.plan_decisions import decide

    the_app = build_app()
    try:
        done = decide(
            the_app.engine, plan_id, approve=approve, actor="cli", now=the_app.now(), today=the_app.today(),
            reason=reason or "",
        )
    except (LookupError, ValueError) as exc:
        fail(str(exc))
    out.print(f"plan {plan_id} {done.status}; {told(the_app, done.notice_id)}", markup=False)


@plan_app.command("approve", epilog=epilog("collectbot plan approve 3", 'collectbot plan approve 3 --reason "agreed"'))
def plan_approve(
    plan_id: int = typer.Argument(..., metavar="PLAN_ID", max=MAX_ID, help="The plan's id (collectbot plan list)."),
    reason: str = typer.Option(None, "--reason", help=REASON_HELP),
) -> None:
    """Approve a proposed plan: monthly instalments, the first one month from today."""
    _decide(plan_id, True, reason)


@plan_app.command("reject", epilog=epilog('collectbot plan reject 3 --reason "the first instalment is too small"'))
def plan_reject(
    plan_id: int = typer.Argument(..., metavar="PLAN_ID", max=MAX_ID, help="The plan's id (collectbot plan list)."),
    reason: str = typer.Option(None, "--reason", help=REASON_HELP),
) -> None:
    """Reject a proposed plan (dunning resumes)."""
    _decide(plan_id, False, reason)


@step_app.command(
    "approve",
    epilog=epilog(
        "collectbot step approve ACME --step formal_notice",
        "collectbot step approve INV-1087 --step formal_notice",
        notes=("Until sales agree, the step waits and the sales rep is asked for approval in a staff alert.",),
    ),
)
def step_approve(
    target: str = typer.Argument(
        ..., metavar="CUSTOMER|DOC", help="A customer's exact ref, name or alias (all its invoices), or one document."
    ),
    step: str = typer.Option(..., "--step", help="The gated step's name in the policy, e.g. formal_notice."),
) -> None:
    """Agree that a gated step may go out, for one invoice or every invoice of a customer."""
    from bot.services.approvals import NothingToApprove, approve

    the_app = build_app()
    try:
        with customer_errors():
            done = approve(the_app.engine, target, step, policy=the_app.policy, actor="cli", now=the_app.now())
    except NothingToApprove as exc:
        fail(str(exc))
    said = "agreed" if done.new else "was already agreed"
    out.print(f"{done.step} {said} for {done.subject}", markup=False)
