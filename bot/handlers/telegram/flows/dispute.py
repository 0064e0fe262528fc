"""Dispute: the invoice, a reason, the debtor's own words -> an open dispute; dunning pauses on it.

Written on the final confirmation only, in one transaction: the dispute, the event
`dispute_opened` and the staff alert with Valid / Not valid (bot.services.disputes).
"""

from __future__ import annotations

from enum import StrEnum

from bot.handlers.telegram import choose
from bot.handlers.telegram.conversation import Flow, Turn, add_flow
from bot.services.disputes import REASONS, open_debtor_dispute

MAX_TEXT = 2000


class State(StrEnum):
    INVOICE = "invoice"
    REASON = "reason"
    DETAILS = "details"
    CONFIRM = "confirm"


def begin(t: Turn) -> State | None:
    """The first question (None: nothing to ask, the debtor was told why)."""
    t.data["items"] = choose.snapshot(t, exclude=frozenset({"disputed"}))
    if not t.data["items"]:
        t.say("dispute.nothing_open")
        return None
    return State.INVOICE


def ask(t: Turn, state: State) -> None:
    """Ask the question of `state` (one message, its buttons, any note about the last answer)."""
    if state is State.INVOICE:
        choose.ask_items(t, "dispute.ask_invoice", multi=False)
    elif state is State.REASON:
        buttons = [t.button(f"dispute.reason_{r}", f"r{i}") for i, r in enumerate(REASONS)]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        t.say("dispute.ask_reason", buttons=[*rows, t.cancel_row()], invoice=choose.chosen(t)[0]["ref"])
    elif state is State.DETAILS:
        t.say("dispute.ask_details", buttons=[[t.button("common.skip_button", "skip")], t.cancel_row()])
    elif state is State.CONFIRM:
        item = choose.chosen(t)[0]
        choose.ask_yes_no(
            t,
            "dispute.confirm",
            yes="common.confirm_button",
            no="dispute.change_button",
            invoice=item["ref"],
            reason=t.data["reason"],
            details=t.data.get("details", ""),
        )


def answer(t: Turn, state: State) -> State | None:
    """Take the answer to `state`: the next state, the same one (asked again), or None when done."""
    if state is State.INVOICE:
        return State.REASON if choose.answer_items(t, multi=False) else State.INVOICE
    if state is State.REASON:
        code = t.code or ""
        if code.startswith("r") and code[1:].isdigit() and int(code[1:]) < len(REASONS):
            t.data["reason"] = REASONS[int(code[1:])]
            return State.DETAILS
        t.note("common.use_buttons")
        return State.REASON
    if state is State.DETAILS:
        if t.is_skip():
            t.data["details"] = ""
            return State.CONFIRM
        if not t.text or t.text.startswith("/"):
            t.note("dispute.details_needed")
            return State.DETAILS
        t.data["details"] = t.text[:MAX_TEXT]
        return State.CONFIRM
    if state is State.CONFIRM:
        return choose.confirmed(t, State.CONFIRM, State.INVOICE, _record)
    return None


def _record(t: Turn) -> None:
    assert t.chat is not None
    ref = choose.chosen(t)[0]["ref"]
    if not choose.still_theirs(t, [ref]):
        return None
    dispute_id = open_debtor_dispute(
        t.conn, t.chat.customer, ref, reason=t.data["reason"], text=t.data.get("details", ""),
        actor=t.chat.actor, now=t.now,
    )
    t.say("dispute.recorded", invoice=ref, number=dispute_id)
    return None


FLOW = add_flow(Flow("dispute", "dispute", "dispute", State, begin, ask, answer))
