"""Staff questions in Slack: "what does ACME owe?" and the reports, by mention, DM, `/owe` and `/collect`.

`register(bolt_app, app)` adds the listeners. Each acknowledges at once (Slack wants an
answer within 3 seconds; events are acknowledged by Bolt itself), then does its database
work in bot.scheduler.dbpool's threads, never on the loop, and answers:

- a mention: in the thread it was asked in (a case thread), or in a new thread under the
  question in the channel; a DM: in the DM. Answers are posted messages, so their
  buttons work in threads (slash commands do not);
- `/owe ACME`, `/collect <what>`: privately to the asker (ephemeral, through the
  command's response_url), as Slack's own commands answer;
- a button: "pick this customer" replaces the chooser with the answer; "Show more items"
  posts the next page beside it. Access is checked again on every click, and button values
  carry a customer ref and an offset only, never an amount.

Who sees what (bot.services.visibility, DESIGN): credit staff any customer, a sales rep
their own, anyone else a polite refusal and no amount, not even in a list of names.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.domain.months import MonthError, parse_month
from bot.handlers.slack import owe_blocks as ob
from bot.handlers.slack.phrasing import Intent, Owe, Report, Unknown, parse, slash_collect, slash_owe
from bot.handlers.slack.report_blocks import help_blocks, report_blocks
from bot.scheduler.dbpool import run_db
from bot.scheduler.ratelimit import SharedBudget, slack_slots
from bot.services import staff_questions

log = logging.getLogger("collectbot.slack.questions")
PICK_ACTION = re.compile(rf"^{ob.PICK}_\d+$")
NOT_UNDERSTOOD = (
    "Sorry, I didn't understand that. Ask me `what does ACME owe?` (or `balance of ACME`, `cuánto debe ACME`, "
    "`quanto deve ACME`), or one of `prospects`, `scorecard [YYYY-MM]`, `aging`, `digest`, `help`."
)
FAILED = "Sorry, I could not answer that just now; please try again in a minute."

Answer = tuple[str, list[dict]]  # (fallback text, blocks)


class Private(tuple):
    """An answer for the clicker alone (a refusal of a click): ephemeral, the clicked message left as it is."""


@dataclass(frozen=True)
class Where:
    """Where an answer goes: a channel (and thread), or a response_url (ephemeral)."""

    channel: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    replace_ts: str | None = None  # update this message of ours instead of posting


class Asker:
    """The work behind the listeners: plain methods, so a test or benchmark can call them too."""

    def __init__(self, app: App, budget: SharedBudget | None = None) -> None:
        self.app = app
        self.budget = budget  # the shared Slack rate budget (None: post at once)

    # -- the services' plain data, worded here (runs in a dbpool thread) ------------------------

    def _asked(self) -> staff_questions.Asked:
        app = self.app
        return staff_questions.Asked(app.settings.credit_staff_ids, app.now(), app.policy, app.company_tz)

    def owe(self, user: str, query: str) -> Answer:
        """The answer to "what does `query` owe?" for Slack user `user` (blocking: call through run_db)."""
        got = staff_questions.owe(self.app.engine, user, query, self._asked())
        if isinstance(got, staff_questions.Refused):
            return ob.refusal(got.everything)
        if isinstance(got, staff_questions.Choices):
            return ob.chooser(query, list(got.choices), got.more, unknown=got.unknown)
        return ob.owe_answer(got.facts, chosen_from=None if got.exact else query)

    def picked(self, user: str, ref: str, offset: int | None = None) -> Answer:
        """A click naming customer `ref` (the answer, or a page of items from `offset`), access checked again."""
        got = staff_questions.clicked(self.app.engine, user, ref, self._asked())
        if isinstance(got, staff_questions.Refused):
            return Private(ob.refusal(got.everything))
        return ob.owe_answer(got.facts) if offset is None else ob.items_page(got.facts, offset)

    def report(self, user: str, kind: str, month: str | None = None) -> Answer:
        """A report as `user` may see it; `help` for everyone (it holds no amount)."""
        if kind == "help":
            return help_blocks()
        chosen = None
        if month is not None:
            try:
                chosen = parse_month(month)
            except MonthError as exc:
                return str(exc), [ob.section(ob.esc(str(exc)))]
        got = staff_questions.report(
            self.app.engine, user, kind, credit_staff=self.app.settings.credit_staff_ids,
            day=self.app.today(), tz=self.app.company_tz, month=chosen,
        )
        if isinstance(got, staff_questions.Refused):
            return ob.refusal(True)
        return report_blocks(kind, got)

    def answer(self, user: str, intent: Intent) -> Answer:
        """The answer to any message or command (blocking: call through run_db)."""
        if isinstance(intent, Owe):
            return self.owe(user, intent.query)
        if isinstance(intent, Report):
            return self.report(user, intent.kind, intent.month)
        assert isinstance(intent, Unknown)
        return self.bare(user, intent.text)

    def bare(self, user: str, text: str) -> Answer:
        """A message that is no phrasing: a customer's exact ref, name or alias ("ACME" in a DM) is
        the owe question; anything else is not understood. Someone who sees nothing is refused."""
        got = staff_questions.bare(self.app.engine, user, text, self._asked())
        if isinstance(got, staff_questions.Refused):
            return ob.refusal(got.everything)
        if got is not None:
            return ob.owe_answer(got.facts)
        return NOT_UNDERSTOOD, [ob.section(NOT_UNDERSTOOD)]


async def _deliver(client: AsyncWebClient, where: Where, answer: Answer, respond=None, budget=None) -> None:  # noqa: ANN001
    """Post, update or respond; a post waits for the channel's slot in the shared budget (1/s per channel)."""
    text, blocks = answer
    if isinstance(answer, Private) and respond is not None:
        await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        return
    if where.response_url is not None and respond is not None:
        await respond(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=where.replace_ts is not None
        )
        return
    if where.replace_ts is not None:
        await client.chat_update(channel=where.channel, ts=where.replace_ts, text=text, blocks=blocks)
        return
    slots = slack_slots(where.channel)
    if budget is not None:
        await budget.acquire(wait_for=slots)
    try:
        await client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts, text=text, blocks=blocks)
    finally:
        if budget is not None:  # a post that left late must not arrive too close to the next one
            for key, interval in slots:
                await budget.pause(key, interval)


async def _work(asker: Asker, client: AsyncWebClient, where: Where, fn, *args, respond=None) -> None:  # noqa: ANN001
    """Run the blocking `fn(*args)` in a database thread and deliver its answer; a failure is one polite line."""
    try:
        answer = await run_db(fn, *args)
    except Exception:
        log.exception("answering a Slack question failed")
        answer = (FAILED, [ob.section(FAILED)])
    await _deliver(client, where, answer, respond, asker.budget)


def _is_dm(event: dict) -> bool:
    return event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id")


def _value(action: dict) -> dict:
    try:
        value = json.loads(action.get("value") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _click_place(body: dict[str, Any], *, replace: bool) -> Where:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    if container.get("is_ephemeral") or not channel:
        return Where(response_url=body.get("response_url"), replace_ts="ephemeral" if replace else None)
    message = body.get("message") or {}
    ours = any(
        el.get("action_id", "").startswith((ob.PICK, ob.MORE))
        for b in message.get("blocks") or []
        for el in b.get("elements") or []
    )
    ts = container.get("message_ts") or message.get("ts")
    if replace and ours:
        return Where(channel=channel, replace_ts=ts)
    is_dm = str(channel).startswith("D")
    return Where(channel=channel, thread_ts=None if is_dm else (message.get("thread_ts") or ts))


def register(bolt_app: AsyncApp, app: App) -> None:
    """Add the question listeners: app_mention, DMs (message.im), /owe, /collect and the owe buttons."""
    asker = Asker(app, SharedBudget(app.engine))

    @bolt_app.event("app_mention")
    async def on_mention(event: dict, client: AsyncWebClient) -> None:
        where = Where(channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"])
        await _work(asker, client, where, asker.answer, event.get("user", ""), parse(event.get("text", "")))

    async def dm_only(event: dict) -> bool:
        return _is_dm(event)

    @bolt_app.event("message", matchers=[dm_only])
    async def on_dm(event: dict, client: AsyncWebClient) -> None:
        where = Where(channel=event["channel"], thread_ts=event.get("thread_ts"))
        await _work(asker, client, where, asker.answer, event.get("user", ""), parse(event.get("text", "")))

    @bolt_app.command("/owe")
    async def on_owe(ack, command: dict, client: AsyncWebClient, respond) -> None:  # noqa: ANN001
        await ack()
        where = Where(response_url=command.get("response_url"))
        intent = slash_owe(command.get("text", ""))
        await _work(asker, client, where, asker.answer, command.get("user_id", ""), intent, respond=respond)

    @bolt_app.command("/collect")
    async def on_collect(ack, command: dict, client: AsyncWebClient, respond) -> None:  # noqa: ANN001
        await ack()
        where = Where(response_url=command.get("response_url"))
        intent = slash_collect(command.get("text", ""))
        await _work(asker, client, where, asker.answer, command.get("user_id", ""), intent, respond=respond)

    @bolt_app.action(PICK_ACTION)
    async def on_pick(ack, body: dict, action: dict, client: AsyncWebClient, respond) -> None:  # noqa: ANN001
        await ack()
        ref = str(_value(action).get("c") or "")
        where = _click_place(body, replace=True)
        await _work(asker, client, where, asker.picked, body["user"]["id"], ref, respond=respond)

    @bolt_app.action(ob.MORE)
    async def on_more(ack, body: dict, action: dict, client: AsyncWebClient, respond) -> None:  # noqa: ANN001
        await ack()
        value = _value(action)
        ref = str(value.get("c") or "")
        try:
            offset = max(0, int(value.get("o") or 0))
        except (TypeError, ValueError):
            offset = 0
        where = _click_place(body, replace=False)
        await _work(asker, client, where, asker.picked, body["user"]["id"], ref, offset, respond=respond)
