"""Where one update goes: linking, the menu, `/language`, `/cancel`, a flow's start or its next answer.

Callback data are short opaque codes, never a customer's or an invoice's id:
- `a:<action>` the six reminder (and menu) buttons: start that flow for the chat's OWN customer;
- `f:<nonce>:<code>` a flow's buttons: only the current flow of this chat knows the nonce, so a
  button from an older flow, another chat, or a forged one matches nothing;
- `l:<language>` the `/language` choices (this chat's contacts only).
A chat nobody linked gets one answer to everything (the same as a wrong, used or expired link):
it learns nothing about any customer.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from bot.handlers.telegram import conversation, linking
from bot.handlers.telegram.conversation import FLOWS, Inbound, Outcome, Turn, TurnServices, menu_buttons
from bot.services.chats import ChatContact, Session, chat_step, set_chat_locale
from bot.services.keyboards import CALLBACK_PREFIX
from bot.services.talk import record_inbound
from messages.chat import label
from messages.locales import SUPPORTED_LOCALES

LANGUAGE_PREFIX = "l:"
MENU_COMMANDS = ("menu", "help")


def process(services: TurnServices, inbound: Inbound) -> Outcome:
    """Handle one update in one transaction (blocking: call it through run_db); the replies to send
    after the commit (none for an update delivered again after a crash)."""
    now = services.now()

    def step(conn: Connection, session: Session, chat: ChatContact | None) -> Outcome:
        turn = Turn(conn, services, session, chat, inbound, now)
        route(turn)
        turn.flush_notes()
        return turn.outcome

    outcome = chat_step(services.engine, chat_id=inbound.chat_id, update_id=inbound.update_id, now=now, step=step)
    return outcome if outcome is not None else Outcome()


def route(t: Turn) -> None:
    """Send one update where it belongs (see the module). A flow's answers are not timeline events one by
    one: the flow's record carries them when the debtor confirms, and a cancelled flow leaves nothing;
    messages outside a flow, and everything said to a person, are `message_in` events."""
    inbound = t.inbound
    if inbound.kind == "command" and inbound.command == "start" and inbound.text:
        linking.start_with_token(t, inbound.text.split()[0])
        return
    if t.chat is None:
        linking.stranger(t)
        return
    data = inbound.data if inbound.kind == "button" else ""
    command = inbound.command if inbound.kind == "command" else ""
    by_command = {f.command: f for f in FLOWS.values()}
    by_action = {f.action: f for f in FLOWS.values()}
    if command == "start" or command in MENU_COMMANDS:
        t.say("menu.menu", buttons=menu_buttons(t.locale), name=t.chat.contact_name, customer=t.chat.customer.name)
    elif command == "cancel" and not t.session.flow:
        conversation.cancel(t)
    elif command == "language":
        ask_language(t)
    elif data.startswith(LANGUAGE_PREFIX):
        set_language(t, data[len(LANGUAGE_PREFIX) :])
    elif command in by_command:
        conversation.start_flow(t, by_command[command])
    elif data.startswith(CALLBACK_PREFIX):
        flow = by_action.get(data[len(CALLBACK_PREFIX) :])
        if flow is None:
            t.say("common.stale_button")
        else:
            conversation.start_flow(t, flow)
    elif data:
        t.outcome.clear_keyboard = True
        if t.session.flow and t.code is not None:
            conversation.continue_flow(t)
        else:
            t.say("common.stale_button")
    elif t.session.flow:
        conversation.continue_flow(t)
    else:
        idle(t)


def idle(t: Turn) -> None:
    """A message outside any flow: in the timeline (every inbound message is), and the menu as an answer."""
    assert t.chat is not None
    if t.inbound.kind in ("text", "photo", "document"):
        record_inbound(t.conn, t.chat.customer, actor=t.chat.actor, text=describe(t), now=t.now)
    t.say("menu.idle", buttons=menu_buttons(t.locale))


def describe(t: Turn) -> str:
    """The timeline's text of an inbound message: its text, or what it carried."""
    kind, text = t.inbound.kind, t.inbound.text
    if kind in ("photo", "document"):
        return f"[{kind} {t.inbound.file_id}]" + (f" {text}" if text else "")
    if kind == "command":
        return f"/{t.inbound.command}" + (f" {text}" if text else "")
    return text


def ask_language(t: Turn) -> None:
    rows = [[(label("menu.language_name", code), f"{LANGUAGE_PREFIX}{code}")] for code in SUPPORTED_LOCALES]
    t.say("menu.choose_language", buttons=rows)


def set_language(t: Turn, code: str) -> None:
    t.outcome.clear_keyboard = True
    if code not in SUPPORTED_LOCALES:
        t.say("common.stale_button")
        return
    assert t.chat is not None
    set_chat_locale(t.conn, t.chat.chat_id, code)
    t.chat = replace(t.chat, locale=code)
    t.say("menu.language_set", buttons=menu_buttons(code))
