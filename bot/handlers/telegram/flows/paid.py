"""I paid: which invoices, how much, when, the reference, a receipt (optional) -> a claimed payment.

Nothing is written until the debtor confirms the summary; then, in one transaction, the claim
(status claimed, source debtor, allocated to the chosen invoices: dunning pauses on them until
credit staff decide), the event `payment_claimed` and the staff alert (bot.services.payments).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from bot.domain.parsing import ParseError, not_in_future
from bot.handlers.telegram import choose
from bot.handlers.telegram.answers import read_amount, read_date
from bot.handlers.telegram.conversation import Flow, Turn, add_flow
from bot.services.payments import Claim, claim_payment

MAX_REFERENCE = 255


class State(StrEnum):
    INVOICES = "invoices"
    AMOUNT = "amount"
    OVER = "over"  # more than the chosen invoices' open amount: is that right?
    DATE = "date"
    REFERENCE = "reference"
    RECEIPT = "receipt"
    CONFIRM = "confirm"


def begin(t: Turn) -> State | None:
    """The first question (None: nothing to ask, the debtor was told why)."""
    t.data["items"] = choose.snapshot(t)
    if not t.data["items"]:
        t.say("paid.nothing_open")
        return None
    return State.INVOICES


def ask(t: Turn, state: State) -> None:
    """Ask the question of `state` (one message, its buttons, any note about the last answer)."""
    d = t.data
    if state is State.INVOICES:
        choose.ask_items(t, "paid.ask_invoices", multi=True)
    elif state is State.AMOUNT:
        t.say(
            "paid.ask_amount",
            buttons=[[t.button("paid.whole_button", "whole", open_cents=choose.chosen_total(t),
                               currency=choose.chosen_currency(t))], t.cancel_row()],
            invoices=[i["ref"] for i in choose.chosen(t)],
            open_cents=choose.chosen_total(t),
            currency=choose.chosen_currency(t),
        )
    elif state is State.OVER:
        choose.ask_yes_no(
            t, "paid.over", amount_cents=d["amount"], open_cents=choose.chosen_total(t),
            currency=choose.chosen_currency(t),
        )
    elif state is State.DATE:
        t.say(
            "paid.ask_date",
            buttons=[[t.button("common.today_button", "today"), t.button("common.yesterday_button", "yday")],
                     t.cancel_row()],
        )
    elif state is State.REFERENCE:
        t.say("paid.ask_reference", buttons=[t.cancel_row()])
    elif state is State.RECEIPT:
        t.say("paid.ask_receipt", buttons=[[t.button("common.skip_button", "skip")], t.cancel_row()])
    elif state is State.CONFIRM:
        choose.ask_yes_no(
            t,
            "paid.confirm",
            yes="common.confirm_button",
            no="paid.change_button",
            invoices=[i["ref"] for i in choose.chosen(t)],
            amount_cents=d["amount"],
            currency=choose.chosen_currency(t),
            paid_on=date.fromisoformat(d["date"]),
            reference=d["reference"],
            receipt=d.get("receipt_kind", ""),
        )


def answer(t: Turn, state: State) -> State | None:
    """Take the answer to `state`: the next state, the same one (asked again), or None when done."""
    d = t.data
    if state is State.INVOICES:
        return State.AMOUNT if choose.answer_items(t, multi=True) else State.INVOICES
    if state is State.AMOUNT:
        cents = choose.chosen_total(t) if t.code == "whole" else read_amount(t, choose.chosen_currency(t))
        if cents is None:
            return State.AMOUNT
        d["amount"] = cents
        return State.OVER if cents > choose.chosen_total(t) else State.DATE
    if state is State.OVER:
        answer_ = choose.yes_no(t)
        return State.OVER if answer_ is None else (State.DATE if answer_ else State.AMOUNT)
    if state is State.DATE:
        return _answer_date(t)
    if state is State.REFERENCE:
        text = t.text
        if not text or text.startswith("/"):
            t.note("paid.reference_needed")
            return State.REFERENCE
        d["reference"] = text[:MAX_REFERENCE]
        return State.RECEIPT
    if state is State.RECEIPT:
        if t.inbound.kind in ("photo", "document"):
            d["receipt"], d["receipt_kind"] = t.inbound.file_id, t.inbound.kind
            return State.CONFIRM
        if t.is_skip():
            d["receipt"], d["receipt_kind"] = "", ""
            return State.CONFIRM
        t.note("paid.receipt_needed")
        return State.RECEIPT
    if state is State.CONFIRM:
        return choose.confirmed(t, State.CONFIRM, State.INVOICES, _record)
    return None


def _answer_date(t: Turn) -> State:
    today = t.today
    if t.code in ("today", "yday"):
        day: date | None = today if t.code == "today" else today - timedelta(days=1)
    else:
        day = read_date(t)
    if day is None:
        return State.DATE
    try:
        not_in_future(day, today)
    except ParseError:
        t.note("paid.date_in_future")
        return State.DATE
    t.data["date"] = day.isoformat()
    return State.REFERENCE


def _record(t: Turn) -> None:
    assert t.chat is not None
    d = t.data
    items = choose.chosen(t)
    if not choose.still_theirs(t, [i["ref"] for i in items]):
        return None
    claim = Claim(
        items=tuple((i["ref"], i["open"]) for i in items),
        amount_cents=d["amount"],
        currency=items[0]["cur"],
        paid_on=date.fromisoformat(d["date"]),
        reference=d["reference"],
        receipt_file_id=d.get("receipt", ""),
        receipt_kind=d.get("receipt_kind", ""),
    )
    claim_payment(t.conn, t.chat.customer, claim, actor=t.chat.actor, now=t.now)
    t.say("paid.recorded", invoices=[i["ref"] for i in items], amount_cents=claim.amount_cents,
          currency=claim.currency)
    return None


FLOW = add_flow(Flow("paid", "paid", "paid", State, begin, ask, answer))
