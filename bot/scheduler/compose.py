"""Turning a plan into words: the template context for reminders and staff alerts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.balances import OpenItem
from bot.domain.fees import early_discount, late_fee, statutory_interest
from bot.domain.money import cents_str
from bot.domain.plans import Installment, PlanFacts
from bot.domain.policy import Policy, Step
from bot.services.customers import CustomerRow
from messages.formatting import format_money
from messages.formatting import slack_escape as slack_escape  # the sweep escapes through compose


def _link(policy: Policy, c: CustomerRow, item: OpenItem) -> str | None:
    if not policy.payment_link_template:
        return None
    from urllib.parse import quote

    return policy.payment_link_template.format(
        doc_ref=quote(item.ref, safe=""),
        customer_ref=quote(c.ref, safe=""),
        amount=cents_str(item.open_cents),
        currency=item.currency,
    )


def reminder_context(policy: Policy, c: CustomerRow, due: list, tone: Step, now: datetime, company_name: str) -> dict:
    """`due` is a list of ladder.DueItem; every value is plain data for the template."""
    seg = policy.segment(c.segment)
    today = now.astimezone(ZoneInfo(c.timezone)).date()
    items = []
    totals: dict[str, int] = {}
    for d in due:
        i = d.item
        disc = early_discount(seg.discount, i.issue_date, i.open_cents, today) if d.step.offset_days < 0 else None
        items.append(
            {
                "doc_ref": i.ref,
                "due_date": i.due_date,
                "open_cents": i.open_cents,
                "currency": i.currency,
                "days_overdue": i.days_overdue,
                "fee_cents": late_fee(d.step.late_fee, i.open_cents, i.currency),
                "interest_cents": statutory_interest(seg.interest_annual_rate, i.open_cents, i.days_overdue),
                "payment_link": _link(policy, c, i),
                "discount": None if disc is None else {"cents": disc[0], "until": disc[1]},
            }
        )
        totals[i.currency] = totals.get(i.currency, 0) + i.open_cents
    return {
        "customer": {"ref": c.ref, "name": c.name},
        "contact_name": "",
        "tone": tone.name,
        "items": items,
        "totals": [{"currency": k, "open_cents": v} for k, v in sorted(totals.items())],
        "company_name": company_name,
    }


def reminder_text(
    renderer,
    policy: Policy,
    c: CustomerRow,
    due: list,
    tone: Step,
    locale: str,  # noqa: ANN001
    now: datetime,
    company_name: str = "collectbot",
) -> str:
    ctx = reminder_context(policy, c, due, tone, now, company_name)
    return renderer.render(tone.template, locale, **ctx)


def staff_text(
    renderer,
    name: str,
    c: CustomerRow,
    items: list[OpenItem],
    step: str,  # noqa: ANN001
    when: date | None,
    extra: str = "",
    **more: object,
) -> str:
    """Staff alerts are Slack mrkdwn: every value from the ledger is escaped first (`more`: further
    template values, escaped by the caller)."""
    ctx = {
        "customer": {"ref": slack_escape(c.ref), "name": slack_escape(c.name)},
        "sales_rep": c.sales_rep_slack_id,
        "items": [
            {
                "doc_ref": slack_escape(i.ref),
                "due_date": i.due_date,
                "open_cents": i.open_cents,
                "currency": i.currency,
                "days_overdue": i.days_overdue,
                "fee_cents": None,
                "interest_cents": None,
                "payment_link": None,
                "discount": None,
            }
            for i in items
        ],
        "step": step,
        "step_date": when,
        "text": slack_escape(extra),
    }
    return renderer.render(f"staff/{name}", "en", **ctx, **more)


def heads_up_text(renderer, c: CustomerRow, heads_ups: list) -> str:  # noqa: ANN001
    """One message to the sales rep for all of a customer's new heads-ups in a sweep.

    `heads_ups`: (OpenItem, Step, projected local date) triples, soonest first. The template
    `staff/heads_up` gets them as `heads_ups` (each with doc_ref, step, date, iso, open_cents,
    currency, due_date, days_overdue) besides the usual staff context (items, step, step_date:
    the soonest).
    """
    items = list({i.ref: i for i, _, _ in heads_ups}.values())
    first = heads_ups[0]
    text = staff_text(renderer, "heads_up", c, items, first[1].name, first[2], heads_ups=[
        {
            "doc_ref": slack_escape(i.ref),
            "step": s.name,
            "date": when,
            "iso": when.isoformat(),
            "open_cents": i.open_cents,
            "currency": i.currency,
            "due_date": i.due_date,
            "days_overdue": i.days_overdue,
        }
        for i, s, when in heads_ups
    ])
    return text


def heads_up_summary(heads_ups: list) -> str:
    """The timeline's words for a heads-up message: each step with its projected date (YYYY-MM-DD)
    and the invoices it concerns, e.g. "sales told: final on 2026-03-19 (INV-1, INV-2)"."""
    groups: dict[tuple[date, str], list[str]] = {}
    for i, s, when in heads_ups:
        groups.setdefault((when, s.name), []).append(i.ref)
    parts = [f"{step} on {when.isoformat()} ({', '.join(refs)})" for (when, step), refs in groups.items()]
    return "sales told: " + "; ".join(parts)


def installment_context(c: CustomerRow, plan: PlanFacts, inst: Installment, company_name: str) -> dict:
    return {
        "customer": {"ref": c.ref, "name": c.name},
        "contact_name": "",
        "company_name": company_name,
        "installment": {
            "plan_id": plan.id,
            "seq": inst.seq,
            "count": len(plan.installments),
            "due_date": inst.due_date,
            "amount_cents": inst.amount_cents,
            "currency": plan.currency,
        },
    }


def installment_text(
    renderer,  # noqa: ANN001
    c: CustomerRow,
    plan: PlanFacts,
    inst: Installment,
    locale: str,
    company_name: str = "collectbot",
) -> str:
    return renderer.render("reminder/installment", locale, **installment_context(c, plan, inst, company_name))


def installment_note(plan: PlanFacts, inst: Installment) -> str:
    """One line for staff (English, like every staff text): which instalment of which plan."""
    return (
        f"Payment plan {plan.id}: instalment {inst.seq} of {len(plan.installments)}, "
        f"{format_money(inst.amount_cents, plan.currency, 'en')} due {inst.due_date.isoformat()} "
        f"(invoices {', '.join(plan.doc_refs)})."
    )
