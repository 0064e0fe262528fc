"""Talk to a person: everything the debtor writes until Done goes to staff, and pauses reminders.

Each message is in the timeline (`message_in`), keeps the customer's conversation open (reminders
pause for the policy's `conversation_pause_days` after the last one) and raises a staff alert the
Slack adapter threads (bot.services.talk).
"""

from __future__ import annotations

from enum import StrEnum

from bot.handlers.telegram.conversation import Flow, Turn, add_flow
from bot.handlers.telegram.dispatch import describe
from bot.services.talk import talk_to_person

DONE = "done"


class State(StrEnum):
    TALK = "talk"


def begin(t: Turn) -> State:
    """The first question (None: nothing to ask, the debtor was told why)."""
    t.data["sent"] = 0
    return State.TALK


def ask(t: Turn, state: State) -> None:
    """Ask the question of `state` (one message, its buttons, any note about the last answer)."""
    done = [[t.button("person.done_button", DONE)]]
    if t.data.get("sent"):
        t.say("person.passed_on", buttons=done)
    else:
        t.say("person.ask_message", buttons=done)


def answer(t: Turn, state: State) -> State | None:
    """Take the answer to `state`: the next state, the same one (asked again), or None when done."""
    assert t.chat is not None
    if t.code == DONE:
        t.say("person.done" if t.data.get("sent") else "person.done_nothing")
        return None
    if t.inbound.kind not in ("text", "photo", "document") or not (t.text or t.inbound.file_id):
        t.note("person.write_something")
        return State.TALK
    talk_to_person(
        t.conn,
        t.chat.customer,
        chat_id=t.chat.chat_id,
        contact_id=t.chat.contact_id,
        message_key=f"{t.chat.chat_id}:{t.inbound.update_id}",
        text=describe(t),
        now=t.now,
    )
    t.data["sent"] = t.data.get("sent", 0) + 1
    return State.TALK


FLOW = add_flow(Flow("person", "person", "person", State, begin, ask, answer))
