"""Posting to Slack within the shared rate budget, and Block Kit pieces the adapter's messages share.

DESIGN "Reliability": Slack under 1 message/s per channel across every process on the
database (bot.scheduler.ratelimit: `slack_slots`, SharedBudget). A 429 that slack_sdk's own
AsyncRateLimitErrorRetryHandler could not absorb pushes the channel's slot back by its
Retry-After for every process and comes back as NotPosted(retry_after=...).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.scheduler.channels import NotPosted
from bot.scheduler.ratelimit import SharedBudget, slack_slots

log = logging.getLogger("collectbot.slack")

SECTION_LIMIT = 3000  # characters of a section's text (Block Kit)
MAX_TEXT = 39_000  # chat.postMessage refuses text over 40,000 characters
MAX_SECTIONS = 40  # of 50 blocks: room for the buttons and a context line


class PostUncertain(Exception):
    """The request left and no answer came (a timeout): the post may be in Slack. Posting it again
    could show it twice, so it is deliberately not a NotPosted: the alert poster records an alert
    whose post raised anything else `unknown` and never posts it again."""


def sections(text: str) -> list[dict]:
    """`text` (mrkdwn, already escaped) as section blocks of at most SECTION_LIMIT characters, cut at lines."""
    text = text.strip() or " "
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > SECTION_LIMIT:  # a single very long line: cut it hard
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:SECTION_LIMIT])
            line = line[SECTION_LIMIT:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_LIMIT:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current or " ")
    if len(chunks) > MAX_SECTIONS:
        chunks = chunks[: MAX_SECTIONS - 1] + ["… (the rest is cut: see `collectbot timeline`)"]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c if c.strip() else " "}} for c in chunks]


def fallback_text(text: str) -> str:
    """The message's top-level `text` (notifications, screen readers), within Slack's limit."""
    text = text.strip() or " "
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def _retry_after(exc: SlackApiError) -> float | None:
    value = (exc.response.headers or {}).get("Retry-After") or (exc.response.headers or {}).get("retry-after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def post_message(client: AsyncWebClient, budget: SharedBudget | None, **kwargs: Any) -> dict:
    """chat.postMessage in the channel's slot of the shared budget; the API's answer (`ts`, `channel`).

    Raises NotPosted (may be retried: Slack refused it, or was out of reach before the request
    left; retry_after set for a 429) or PostUncertain (timed out after the request left).
    """
    channel = str(kwargs["channel"])
    slot = slack_slots(channel)
    if budget is not None:
        await budget.acquire(wait_for=slot)
    try:
        response = await client.chat_postMessage(**kwargs)
        return dict(response.data)  # type: ignore[arg-type]
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if exc.response.status_code == 429:
            wait = _retry_after(exc) or 1.0
            if budget is not None:
                await budget.pause(slot[0][0], wait)
            raise NotPosted(f"Slack rate limit (retry after {wait:g} s)", retry_after=wait) from None
        raise NotPosted(f"Slack refused the post: {error or exc.response.status_code}") from None
    except aiohttp.ConnectionTimeoutError as exc:  # never connected: nothing left
        raise NotPosted(f"Slack out of reach: {type(exc).__name__}") from None
    except TimeoutError as exc:
        raise PostUncertain(f"no answer from Slack in time ({type(exc).__name__})") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise NotPosted(f"Slack out of reach: {type(exc).__name__}: {exc}") from None
    finally:
        if budget is not None:
            # the channel's next post waits a full interval from when this one was done
            await budget.pause(*slot[0])
