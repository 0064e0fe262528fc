"""Statement: the open items with every credit note, withholding, debit note and payment that touched
them, as a message, with the same as a CSV file (bot.domain.statement: the balance rules, traced)."""

from __future__ import annotations

from enum import StrEnum

from bot.handlers.telegram.conversation import Flow, Turn, add_flow
from bot.services.statements import customer_statement, statement_csv


class State(StrEnum):
    DONE = "done"  # never entered: the statement is one answer


def begin(t: Turn) -> None:
    assert t.chat is not None
    today = t.today
    statement = customer_statement(t.conn, t.chat.customer, today)
    if not statement.lines and not any(x.unapplied_credit_cents for x in statement.totals):
        t.say("statement.nothing_open", as_of=today)
        return None
    reply = t.say("statement.statement", lines=statement.lines, totals=statement.totals, as_of=today)
    reply.document = (f"statement-{today.isoformat()}.csv", statement_csv(statement).encode("utf-8"))
    return None


def ask(t: Turn, state: State) -> None:  # pragma: no cover - no question is ever asked
    raise AssertionError("the statement asks nothing")


def answer(t: Turn, state: State) -> None:  # pragma: no cover
    return None


FLOW = add_flow(Flow("statement", "statement", "statement", State, begin, ask, answer))
