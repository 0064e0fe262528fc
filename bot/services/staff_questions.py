"""Staff questions from Slack as plain data: what the asker may see, and the facts of the answer.

Each function opens its own read-only connection (storage.engine.reading) and returns plain
data; the Slack handlers (bot.handlers.slack.questions) only word it in Block Kit and post it,
so they own no connection and run no SQL (STYLE "a pure core, thin edges"; the import contract
`thin-edges`). Who sees what is bot.services.visibility's and bot.services.asking's rule:
credit staff any customer, a sales rep their own, anyone else a refusal that names nothing.
Blocking: call them through bot.scheduler.dbpool.run_db from the event loop.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from bot.domain.months import Month
from bot.domain.policy import Policy
from bot.services import asking
from bot.services.customers import CustomerRow
from bot.services.owe import owe_facts
from bot.services.report_post import Report, ReportKind, build_report
from bot.services.slack_reports import report_for
from bot.services.visibility import visibility_for
from storage.engine import reading


@dataclass(frozen=True)
class Refused:
    """The asker may not see this customer; `everything`: they see no customer at all."""

    everything: bool


@dataclass(frozen=True)
class Choices:
    """Customers to pick from, (ref, name), all visible to the asker: a tie, or (`unknown`) near names
    for a name that matched none; `more` visible candidates left out."""

    choices: tuple[tuple[str, str], ...]
    more: int = 0
    unknown: bool = False


@dataclass(frozen=True)
class Answer:
    """The owe facts of one customer (bot.services.owe.owe_facts); `exact`: the name matched exactly."""

    facts: dict
    exact: bool = True


@dataclass(frozen=True)
class Asked:
    """What every question needs besides the engine: who credit staff are, the instant and the policy."""

    credit_staff: Collection[str]
    now: datetime
    policy: Policy
    company_tz: ZoneInfo


def _facts(conn: Connection, customer: CustomerRow, asked: Asked) -> dict:
    return owe_facts(conn, customer, now=asked.now, policy=asked.policy, company_tz=asked.company_tz)


def owe(engine: Engine, user: str, query: str, asked: Asked) -> Refused | Choices | Answer:
    """"What does `query` owe?" from Slack user `user`: the facts, a choice, or a refusal."""
    with reading(engine) as conn:
        vis = visibility_for(conn, user, asked.credit_staff)
        found = asking.find_visible(conn, query, vis)
        if isinstance(found, asking.NoAccess):
            return Refused(vis.sees_nothing)
        if isinstance(found, asking.Ambiguous):
            return Choices(tuple((c.ref, c.name) for c in found.choices), found.more)
        if isinstance(found, asking.NotFound):
            return Choices(tuple((c.ref, c.name) for c in found.suggestions), 0, unknown=True)
        return Answer(_facts(conn, found.customer, asked), found.exact)


def clicked(engine: Engine, user: str, ref: str, asked: Asked) -> Refused | Answer:
    """A button naming customer `ref`, access checked again (a button value can be forged)."""
    with reading(engine) as conn:
        vis = visibility_for(conn, user, asked.credit_staff)
        customer = asking.customer_for_click(conn, ref, vis)
        if customer is None:
            return Refused(vis.sees_nothing)
        return Answer(_facts(conn, customer, asked))


def bare(engine: Engine, user: str, text: str, asked: Asked) -> Refused | Answer | None:
    """A message that is no known phrasing: a customer's exact ref, name or alias is the owe question
    (its facts); None when it names no customer exactly (not understood)."""
    with reading(engine) as conn:
        vis = visibility_for(conn, user, asked.credit_staff)
        if vis.sees_nothing:
            return Refused(True)
        found = asking.find_visible(conn, text, vis) if len(text) <= 255 else None
        if isinstance(found, asking.NoAccess):
            return Refused(False)
        if isinstance(found, asking.Found) and found.exact:
            return Answer(_facts(conn, found.customer, asked))
    return None


def report(
    engine: Engine, user: str, kind: str, *, credit_staff: Collection[str], day: date, tz: ZoneInfo,
    month: Month | None = None,
) -> Refused | dict:
    """Report `kind`'s document as Slack user `user` may see it (bot.services.slack_reports), or a
    refusal for someone who sees nothing. Raises ValueError for an unknown kind."""
    with reading(engine) as conn:
        vis = visibility_for(conn, user, credit_staff)
        if vis.sees_nothing:
            return Refused(True)
        return report_for(conn, kind, vis, day=day, tz=tz, month=month)


def scheduled_report(engine: Engine, kind: ReportKind, *, day: date, tz: ZoneInfo) -> Report:
    """The whole company's `kind` report for the channel (the weekly one with its aging chart)."""
    with reading(engine) as conn:
        return build_report(conn, kind, day=day, tz=tz, chart=kind == "weekly")
