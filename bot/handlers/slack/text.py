"""Slack text in and out: the one mrkdwn escape, mentions, and what a person typed as plain text.

Every user value (customer names, refs, debtor text, notes, dispute text) goes out through
`escape` (bot.scheduler.compose.slack_escape, the same function the alert templates' callers
use), so `<!channel>` or `<http://x|click>` in a customer's name stays text. Text that comes in
from Slack arrives in Slack's own markup (`&lt;`, `<@U123>`, `<http://x|label>`): `to_plain`
turns it back into what the person typed, before it reaches the timeline or a debtor.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.scheduler.compose import slack_escape

escape = slack_escape  # the one mrkdwn escape (& < >), used for every user value in every field

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_MARKUP = re.compile(r"<([^<>]*)>")


def is_user_id(value: str) -> bool:
    """Whether `value` has the form of a Slack user id (safe to put in `<@...>`)."""
    return bool(_USER_ID.fullmatch(value or ""))


def mention(user_id: str) -> str:
    """`<@U123>` for a well-formed user id, else the value escaped as text."""
    return f"<@{user_id}>" if is_user_id(user_id) else escape(user_id)


def actor_mention(actor: str) -> str:
    """A timeline actor as people read it in Slack: `slack:U123` -> <@U123>, others (`cli`, `system`) as text."""
    if actor.startswith("slack:") and is_user_id(actor[6:]):
        return f"<@{actor[6:]}>"
    return escape(actor or "someone")


def when(at: datetime | None, tz: ZoneInfo) -> str:
    """`2026-11-30 09:15 UTC` in the company's time zone ("" for None)."""
    return "" if at is None else at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _plain(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^")[0])
    if label:
        return f"{label} ({target})" if label != target else target
    return target.removeprefix("mailto:")


def to_plain(text: str) -> str:
    """What a person typed in Slack, from the event's text: links, mentions and entities undone."""
    return html.unescape(_MARKUP.sub(_plain, text or ""))
