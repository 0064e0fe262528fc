"""Payment plan: invoices, 2 to 12 monthly instalments or the debtor's own dates -> a proposed plan.

Before confirming, the debtor sees the cent-exact schedule that sums to the chosen balance
(bot.domain.plans). A monthly plan starts one month after credit staff approve it (DESIGN), so
its dates are shown as they would be if approved today. The proposal waits for credit staff
(`collectbot plan approve|reject`); the debtor is told their decision.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from bot.domain import parsing
from bot.domain.plans import (
    MAX_INSTALLMENTS,
    MIN_INSTALLMENTS,
    PlanDatesError,
    check_plan_dates,
    schedule,
    schedule_on_dates,
)
from bot.handlers.telegram import choose
from bot.handlers.telegram.conversation import Flow, Turn, add_flow
from bot.services.alerts import staff_alert
from bot.services.cases import propose_plan

OWN_DATES = "own"


class State(StrEnum):
    INVOICES = "invoices"
    HOW = "how"
    DATES = "dates"
    CONFIRM = "confirm"


def begin(t: Turn) -> State | None:
    """The first question (None: nothing to ask, the debtor was told why)."""
    taken = choose.proposed_plan_refs(t)
    items = [i for i in choose.snapshot(t, exclude=frozenset({"in_plan"})) if i["ref"] not in taken]
    t.data["items"] = items
    if not items:
        t.say("plan.nothing_open")
        return None
    return State.INVOICES


def _schedule(t: Turn) -> list[tuple[date, int]]:
    total = choose.chosen_total(t)
    if t.data.get("dates"):
        return schedule_on_dates(total, [date.fromisoformat(x) for x in t.data["dates"]])
    return schedule(total, t.data["count"], t.today)


def ask(t: Turn, state: State) -> None:
    """Ask the question of `state` (one message, its buttons, any note about the last answer)."""
    if state is State.INVOICES:
        choose.ask_items(t, "plan.ask_invoices", multi=True)
    elif state is State.HOW:
        counts = [t.button("plan.count_button", f"n{n}", count=n)
                  for n in range(MIN_INSTALLMENTS, MAX_INSTALLMENTS + 1)]
        rows = [counts[i : i + 4] for i in range(0, len(counts), 4)]
        rows.append([t.button("plan.own_dates_button", OWN_DATES)])
        t.say("plan.ask_how", buttons=[*rows, t.cancel_row()], open_cents=choose.chosen_total(t),
              currency=choose.chosen_currency(t), low=MIN_INSTALLMENTS, high=MAX_INSTALLMENTS)
    elif state is State.DATES:
        t.say("plan.ask_dates", buttons=[t.cancel_row()], low=MIN_INSTALLMENTS, high=MAX_INSTALLMENTS)
    elif state is State.CONFIRM:
        choose.ask_yes_no(
            t,
            "plan.confirm",
            yes="plan.propose_button",
            no="plan.change_button",
            invoices=[i["ref"] for i in choose.chosen(t)],
            installments=[{"due": due, "amount_cents": cents} for due, cents in _schedule(t)],
            total_cents=choose.chosen_total(t),
            currency=choose.chosen_currency(t),
            monthly=not t.data.get("dates"),
        )


def answer(t: Turn, state: State) -> State | None:
    """Take the answer to `state`: the next state, the same one (asked again), or None when done."""
    if state is State.INVOICES:
        return State.HOW if choose.answer_items(t, multi=True) else State.INVOICES
    if state is State.HOW:
        code = t.code or ""
        if code == OWN_DATES:
            return State.DATES
        typed = t.text
        count = int(code[1:]) if code[:1] == "n" and code[1:].isdigit() else _typed_count(typed)
        if count is None or not MIN_INSTALLMENTS <= count <= MAX_INSTALLMENTS:
            t.note("plan.count_invalid", low=MIN_INSTALLMENTS, high=MAX_INSTALLMENTS)
            return State.HOW
        t.data["count"], t.data["dates"] = count, None
        return State.CONFIRM
    if state is State.DATES:
        return _answer_dates(t)
    if state is State.CONFIRM:
        return choose.confirmed(t, State.CONFIRM, State.INVOICES, _record)
    return None


def _typed_count(text: str) -> int | None:
    """A typed number of instalments; int() reads any script's decimal digits (Persian ۶ too)."""
    try:
        return int(text.strip())
    except ValueError:
        return None


def _answer_dates(t: Turn) -> State:
    text = t.text
    for mark in (";", ",", "،", "؛"):  # Latin and Arabic-script commas and semicolons
        text = text.replace(mark, "\n")
    parts = [p.strip() for p in text.splitlines() if p.strip()]
    days: list[date] = []
    for part in parts:
        try:
            days.append(parsing.parse_date(part, t.locale))
        except parsing.ParseError:
            t.note("plan.date_unreadable", text=part)
            return State.DATES
    try:
        ordered = check_plan_dates(days, t.today)
    except PlanDatesError as exc:
        t.note(f"plan.dates_{exc.reason}", low=MIN_INSTALLMENTS, high=MAX_INSTALLMENTS)
        return State.DATES
    t.data["dates"], t.data["count"] = [d.isoformat() for d in ordered], len(ordered)
    return State.CONFIRM


def _record(t: Turn) -> None:
    assert t.chat is not None
    items = choose.chosen(t)
    refs = [i["ref"] for i in items]
    if not choose.still_theirs(t, refs):
        return None
    dates = [date.fromisoformat(x) for x in t.data["dates"]] if t.data.get("dates") else None
    total = choose.chosen_total(t)
    plan_id = propose_plan(
        t.conn, refs, total_cents=total, count=t.data["count"], actor=t.chat.actor, now=t.now, dates=dates
    )
    staff_alert(
        t.conn,
        key=f"plan_proposed:{plan_id}",
        customer=t.chat.customer,
        kind="plan_proposed",
        now=t.now,
        doc_refs=refs,
        payload={"decision": "plan", "id": plan_id},
        plan={
            "id": plan_id,
            "total_cents": total,
            "currency": items[0]["cur"],
            "count": t.data["count"],
            "dates": dates or [],
        },
        doc_list=refs,
    )
    t.say("plan.recorded", number=plan_id, total_cents=total, currency=items[0]["cur"])
    return None


FLOW = add_flow(Flow("plan", "plan", "plan", State, begin, ask, answer))
