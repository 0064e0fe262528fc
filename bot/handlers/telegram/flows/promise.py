"""Promise a date: an invoice (or the whole account), an amount, a date -> a promise to pay.

Dunning waits until the promised date; a promise not kept by then is broken and the sweep
escalates (bot.scheduler.sweep). Written only on the final confirmation.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from bot.handlers.telegram import choose
from bot.handlers.telegram.answers import read_amount, read_date
from bot.handlers.telegram.conversation import Flow, Turn, add_flow
from bot.services.cases import make_promise

MAX_PROMISE_DAYS = 90  # a promise further away than this is a payment plan
QUICK_DAYS = (7, 14, 30)


class State(StrEnum):
    INVOICE = "invoice"
    AMOUNT = "amount"
    OVER = "over"
    DATE = "date"
    CONFIRM = "confirm"


def begin(t: Turn) -> State | None:
    """The first question (None: nothing to ask, the debtor was told why)."""
    t.data["items"] = choose.snapshot(t)
    if not t.data["items"]:
        t.say("promise.nothing_open")
        return None
    return State.INVOICE


def _what(t: Turn) -> dict:
    items = choose.chosen(t)
    return {
        "invoices": [] if t.data.get("account") else [i["ref"] for i in items],
        "open_cents": choose.chosen_total(t),
        "currency": choose.chosen_currency(t),
    }


def ask(t: Turn, state: State) -> None:
    """Ask the question of `state` (one message, its buttons, any note about the last answer)."""
    d = t.data
    if state is State.INVOICE:
        choose.ask_items(t, "promise.ask_invoice", multi=False, account=True)
    elif state is State.AMOUNT:
        w = _what(t)
        t.say(
            "promise.ask_amount",
            buttons=[[t.button("paid.whole_button", "whole", open_cents=w["open_cents"], currency=w["currency"])],
                     t.cancel_row()],
            **w,
        )
    elif state is State.OVER:
        w = _what(t)
        choose.ask_yes_no(t, "promise.over", amount_cents=d["amount"], open_cents=w["open_cents"],
                          currency=w["currency"])
    elif state is State.DATE:
        quick = [t.button("promise.in_days_button", f"d{n}", days=n) for n in QUICK_DAYS]
        t.say("promise.ask_date", buttons=[quick, t.cancel_row()], days=MAX_PROMISE_DAYS)
    elif state is State.CONFIRM:
        choose.ask_yes_no(
            t,
            "promise.confirm",
            yes="common.confirm_button",
            no="promise.change_button",
            amount_cents=d["amount"],
            promised=date.fromisoformat(d["date"]),
            **{k: v for k, v in _what(t).items() if k != "open_cents"},
        )


def answer(t: Turn, state: State) -> State | None:
    """Take the answer to `state`: the next state, the same one (asked again), or None when done."""
    d = t.data
    if state is State.INVOICE:
        return State.AMOUNT if choose.answer_items(t, multi=False, account=True) else State.INVOICE
    if state is State.AMOUNT:
        cents = choose.chosen_total(t) if t.code == "whole" else read_amount(t, choose.chosen_currency(t))
        if cents is None:
            return State.AMOUNT
        d["amount"] = cents
        return State.OVER if cents > choose.chosen_total(t) else State.DATE
    if state is State.OVER:
        yes = choose.yes_no(t)
        return State.OVER if yes is None else (State.DATE if yes else State.AMOUNT)
    if state is State.DATE:
        today = t.today
        code = t.code or ""
        day = today + timedelta(days=int(code[1:])) if code[:1] == "d" and code[1:].isdigit() else read_date(t)
        if day is None:
            return State.DATE
        if day < today:
            t.note("promise.date_past")
            return State.DATE
        if (day - today).days > MAX_PROMISE_DAYS:
            t.note("promise.date_too_far", days=MAX_PROMISE_DAYS)
            return State.DATE
        d["date"] = day.isoformat()
        return State.CONFIRM
    if state is State.CONFIRM:
        return choose.confirmed(t, State.CONFIRM, State.INVOICE, _record, forget=("sel", "account"))
    return None


def _record(t: Turn) -> None:
    assert t.chat is not None
    d = t.data
    items = choose.chosen(t)
    if not choose.still_theirs(t, [i["ref"] for i in items]):
        return None
    promised = date.fromisoformat(d["date"])
    refs: list[str | None] = [None] if d.get("account") or len(items) > 1 else [items[0]["ref"]]
    for ref in refs:
        make_promise(
            t.conn, ref, promised=promised, amount_cents=d["amount"], actor=t.chat.actor, now=t.now,
            customer_id=t.chat.customer.id, currency=items[0]["cur"],
        )
    t.say("promise.recorded", amount_cents=d["amount"], promised=promised, **{
        k: v for k, v in _what(t).items() if k not in ("open_cents", "amount_cents")})
    return None


FLOW = add_flow(Flow("promise", "promise", "promise", State, begin, ask, answer))
