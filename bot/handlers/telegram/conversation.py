"""The debtor's flows as state machines whose state lives in our database.

PTB's ConversationHandler keeps its state in memory (STYLE: flows that must survive a restart
keep state in our database), so each update is handled here instead, in ONE short transaction
run off the event loop (bot.scheduler.dbpool.run_db; the transaction is bot.services.chats.chat_step,
the routing bot.handlers.telegram.dispatch.process):

1. lock the chat's session row (storage.tables.ChatSession) and drop an update seen before
   (Telegram redelivers updates a crashed process had fetched but not confirmed);
2. find the chat's verified contact: a chat nobody linked sees nothing of any customer;
3. run one step of the chat's flow: answer the current question, or start a flow;
4. save the session; a flow's record is written only by its last step, in this transaction.

The replies are returned as plain values and sent after the commit (no network call inside a
transaction). A flow is a module (bot.handlers.telegram.flows.*) with its states as an Enum,
`begin` (the first state), `ask` (the question of a state) and `answer` (the next state).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Connection, Engine

from bot.domain.policy import Policy
from bot.services.chats import ChatContact, Session
from bot.services.keyboards import reminder_keyboard
from messages.chat import label, say


class TurnServices(Protocol):
    """What a turn may reach of the app (bot.handlers.telegram.context.ChatServices is one)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def policy(self) -> Policy: ...

    def now(self) -> datetime: ...

Buttons = list[list[tuple[str, str]]]  # rows of (label, callback data)
CANCEL = "x"  # a flow button's code for Cancel


@dataclass(frozen=True)
class Inbound:
    """One update from a private chat, as plain values.

    kind: command | text | button | photo | document | other. `text` is the message text or
    caption (a command's argument for a command); `command` is its name without "/" or "@bot";
    `data` a button's callback data; `file_id` a photo's (largest size) or document's file id.
    """

    update_id: int
    chat_id: int
    kind: str
    text: str = ""
    command: str = ""
    data: str = ""
    file_id: str = ""
    language_code: str = ""
    first_name: str = ""


@dataclass
class Reply:
    """A message to send after the commit: Telegram HTML, inline buttons, an optional file.

    `edit`: replace the message whose button was pressed (a multiple choice being ticked).
    """

    text: str
    buttons: Buttons | None = None
    document: tuple[str, bytes] | None = None
    edit: bool = False


@dataclass
class Outcome:
    """The replies to one update; `clear_keyboard`: take the buttons off the message that was pressed
    (a flow's question once answered), unless a reply edits that message anyway."""

    replies: list[Reply] = field(default_factory=list)
    clear_keyboard: bool = False


@dataclass(frozen=True)
class Flow:
    """One debtor flow: `name` (stored in the session), its /command and its reminder-button action."""

    name: str
    command: str
    action: str
    states: type[StrEnum]
    begin: Callable[[Turn], StrEnum | None]  # the first state, or None when the flow is done at once
    ask: Callable[[Turn, StrEnum], None]
    answer: Callable[[Turn, StrEnum], StrEnum | None]  # the next state (the same: asked again), None: done


FLOWS: dict[str, Flow] = {}


def add_flow(flow: Flow) -> Flow:
    """Make a flow known by name, command and action (each flow module calls this at import)."""
    FLOWS[flow.name] = flow
    return flow


class Turn:
    """One step of one chat: the connection of the update's transaction, the chat, its session, the input."""

    def __init__(
        self,
        conn: Connection,
        services: TurnServices,
        session: Session,
        chat: ChatContact | None,
        inbound: Inbound,
        now: datetime,
    ) -> None:
        self.conn = conn
        self.services = services
        self.session = session
        self.chat = chat
        self.inbound = inbound
        self.now = now
        self.outcome = Outcome()
        self._notes: list[str] = []
        self.edit_next = False

    # -- who and when
    @property
    def locale(self) -> str:
        if self.chat is not None:
            return self.chat.locale
        return self.inbound.language_code or "en"

    @property
    def today(self) -> date:
        """The debtor's local date (the customer's zone)."""
        assert self.chat is not None
        return self.chat.today(self.now)

    @property
    def data(self) -> dict:
        return self.session.data

    # -- input
    @property
    def code(self) -> str | None:
        """The code of a button of the current flow that was pressed, else None."""
        parts = self.inbound.data.split(":", 2) if self.inbound.kind == "button" else []
        if len(parts) == 3 and parts[0] == "f" and self.session.nonce and parts[1] == self.session.nonce:
            return parts[2]
        return None

    @property
    def text(self) -> str:
        return self.inbound.text.strip() if self.inbound.kind == "text" else ""

    def is_skip(self) -> bool:
        """`/skip`, "skip", or the word for it in the contact's language (or the Skip button)."""
        if self.code == "skip" or (self.inbound.kind == "command" and self.inbound.command == "skip"):
            return True
        words = {"skip", label("common.skip_word", self.locale).casefold()}
        return self.text.casefold() in words

    # -- output
    def note(self, phrase: str, **ctx: object) -> None:
        """A line said before the next question (e.g. why an answer was not taken)."""
        self._notes.append(say(phrase, self.locale, **ctx))

    def say(self, phrase: str, *, buttons: Buttons | None = None, **ctx: object) -> Reply:
        text = say(phrase, self.locale, **ctx)
        if self._notes:
            text = "\n\n".join([*self._notes, text])
            self._notes.clear()
        reply = Reply(text, buttons, edit=self.edit_next)
        self.edit_next = False
        self.outcome.replies.append(reply)
        return reply

    def button(self, phrase: str, code: str, **ctx: object) -> tuple[str, str]:
        """A button of the current flow: its callback data is `f:<flow nonce>:<code>` (at most 64 bytes)."""
        data = f"f:{self.session.nonce}:{code}"
        if len(data.encode()) > 64:
            raise ValueError(f"callback data over 64 bytes: {data!r}")
        return (label(phrase, self.locale, **ctx), data)

    def cancel_row(self) -> list[tuple[str, str]]:
        return [self.button("common.cancel_button", CANCEL)]

    def flush_notes(self) -> None:
        if self._notes:
            self.outcome.replies.append(Reply("\n\n".join(self._notes)))
            self._notes.clear()


# -- running flows -----------------------------------------------------------------------


def start_flow(t: Turn, flow: Flow) -> None:
    """Begin `flow`; a flow the chat was in ends (nothing of it was written) unless the new one is
    over at once (the statement, or nothing to choose from): then the debtor is still where they were."""
    before = (t.session.flow, t.session.step, t.session.nonce, dict(t.session.data))
    t.session.clear()
    t.session.flow = flow.name
    t.session.nonce = secrets.token_urlsafe(6)
    state = flow.begin(t)
    if state is None:
        t.session.flow, t.session.step, t.session.nonce, t.session.data = before
        return
    _enter(t, flow, state)


def continue_flow(t: Turn) -> None:
    """Give the input to the current question of the chat's flow."""
    flow = FLOWS.get(t.session.flow)
    if flow is None:
        t.session.clear()
        return
    if t.code == CANCEL or (t.inbound.kind == "command" and t.inbound.command == "cancel"):
        cancel(t)
        return
    try:
        state = flow.states(t.session.step)
    except ValueError:
        t.session.clear()  # a step this version no longer has
        t.say("common.expired")
        return
    _enter(t, flow, flow.answer(t, state))


def _enter(t: Turn, flow: Flow, state: StrEnum | None) -> None:
    if state is None:
        t.session.clear()
        return
    t.session.step = state.value
    flow.ask(t, state)


def cancel(t: Turn) -> None:
    """`/cancel` or the Cancel button: the flow ends and nothing of it is recorded; the menu again."""
    phrase = "common.cancelled" if t.session.flow else "common.nothing_to_cancel"
    t.session.clear()
    t.say(phrase, buttons=menu_buttons(t.locale))


def menu_buttons(locale: str) -> Buttons:
    """The six reminder buttons, for the menu too (DESIGN order, two per row)."""
    return [[(b["text"], b["callback_data"]) for b in row] for row in reminder_keyboard(locale)]
