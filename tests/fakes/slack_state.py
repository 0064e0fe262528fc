"""The fake Slack workspace: users, channels, messages by ``ts``, and what people do in it.

Test-side helpers build the payloads Slack sends to an app, and record the user's message in
the channel (so ``conversations.replies`` and thread replies see it), exactly as Slack does:

- ``message(user, channel, text, thread_ts=None)``: an ``event_callback`` of type ``message``
  (``channel_type`` ``im`` for a DM channel); ``dm(user, text)`` writes in the user's DM;
- ``mention(user, channel, text, thread_ts=None)``: an ``app_mention`` (``<@BOTID>`` prefixed
  to the text unless it is there);
- ``slash_command(user, channel, "/owe", "ACME")``: the form fields of a slash command;
- ``block_action(user, message, action_id)``: a ``block_actions`` payload for a button that
  is on ``message`` (``forge=True`` for one that is not: a forged click).

Each carries a fresh ``event_id`` / ``trigger_id`` / ``response_url``; deliver it with a
SlackEventsClient (HTTP, signed) or ``socket_send`` (Socket Mode).
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SlackUser:
    id: str
    name: str
    real_name: str = ""
    tz: str = "UTC"
    locale: str = "en-US"
    is_bot: bool = False
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        real = self.real_name or self.name
        return {"id": self.id, "team_id": "T0FAKE", "name": self.name, "deleted": self.deleted, "real_name": real,
                "tz": self.tz, "tz_offset": 0, "is_bot": self.is_bot, "is_admin": False, "locale": self.locale,
                "profile": {"real_name": real, "display_name": self.name, "team": "T0FAKE"}}


@dataclass
class SlackChannel:
    id: str
    name: str
    is_im: bool = False
    is_private: bool = False
    members: set[str] | None = None  # None: everyone
    bot_is_member: bool = True
    is_archived: bool = False

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "created": 1700000000, "is_archived": self.is_archived,
                               "is_member": self.bot_is_member}
        if self.is_im:
            out.update(is_im=True, user=next(iter(self.members or {""})))
        else:
            out.update(name=self.name, is_channel=not self.is_private, is_group=self.is_private, is_im=False,
                       is_private=self.is_private)
        return out


@dataclass
class SlackMessage:
    """A message in a channel (``bot`` True: posted through the Web API by the app)."""

    channel: str
    ts: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    bot: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)  # earlier (text, blocks), oldest first
    reply_broadcast: bool = False
    metadata: dict[str, Any] | None = None
    deleted: bool = False

    def to_api(self, replies: list[SlackMessage] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text}
        if self.bot:
            out.update(bot_id="B0BOT", app_id="A0FAKE")
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.files:
            out["files"] = self.files
        if self.edits:
            out["edited"] = {"user": self.user, "ts": self.ts}
        if replies:
            out.update(thread_ts=self.ts, reply_count=len(replies), latest_reply=replies[-1].ts,
                       reply_users=sorted({r.user for r in replies}))
        return out

    def button(self, action_id: str | None = None, *, text: str | None = None) -> tuple[str, dict[str, Any]]:
        """(block_id, element) of the button with that action_id or label (KeyError if none)."""
        for block in self.blocks or []:
            elements = block.get("elements", []) + ([block["accessory"]] if "accessory" in block else [])
            for el in elements:
                label = el.get("text")
                label = label.get("text") if isinstance(label, dict) else None  # a context's mrkdwn is a string
                if el.get("type") == "button" and (el.get("action_id") == action_id or (text and label == text)):
                    return block.get("block_id", ""), el
        raise KeyError(f"no button {action_id or text!r} on message {self.ts}")


class SlackWorld:
    """State and user-side helpers; mixed into FakeSlack (which provides lock, now, notify, base_url)."""

    lock: Any  # these three come from FakeServer
    now: Any
    base_url: str

    def __init__(self) -> None:
        self.team_id, self.bot_user_id, self.app_id = "T0FAKE", "U0BOT", "A0FAKE"
        self.users: dict[str, SlackUser] = {"U0BOT": SlackUser("U0BOT", "collectbot", is_bot=True)}
        self.channels: dict[str, SlackChannel] = {}
        self.history: dict[str, list[SlackMessage]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []  # what the app POSTed to response_url
        self.views: list[dict[str, Any]] = []
        self.uploads: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, float] = {}
        self._seq = itertools.count(1)
        self._last_ts = 0.0

    # ---- directory
    def add_user(self, user_id: str, name: str, *, real_name: str = "", tz: str = "UTC",
                 locale: str = "en-US") -> SlackUser:
        with self.lock:
            self.users[user_id] = SlackUser(user_id, name, real_name, tz, locale)
            return self.users[user_id]

    def add_channel(self, channel_id: str, name: str, *, members: set[str] | None = None, is_private: bool = False,
                    bot_is_member: bool = True) -> SlackChannel:
        with self.lock:
            self.channels[channel_id] = SlackChannel(channel_id, name, False, is_private, members, bot_is_member)
            self.history.setdefault(channel_id, [])
            return self.channels[channel_id]

    def dm_channel(self, user_id: str) -> SlackChannel:
        """The bot's DM channel with a user (``D...``), created on first use as Slack does."""
        with self.lock:
            for ch in self.channels.values():
                if ch.is_im and ch.members == {user_id}:
                    return ch
            ch = SlackChannel("D" + user_id.lstrip("U"), user_id, is_im=True, members={user_id})
            self.channels[ch.id] = ch
            self.history.setdefault(ch.id, [])
            return ch

    # ---- messages
    def next_ts(self) -> str:
        """Slack's ``ts``: seconds.microseconds, unique and increasing."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def find(self, channel: str, ts: str) -> SlackMessage | None:
        return next((m for m in self.history.get(channel, []) if m.ts == ts and not m.deleted), None)

    def replies(self, channel: str, ts: str) -> list[SlackMessage]:
        return [m for m in self.history.get(channel, []) if m.thread_ts == ts and m.ts != ts and not m.deleted]

    def posts(self, channel: str | None = None, *, thread_ts: str | None = None) -> list[SlackMessage]:
        """Messages the app posted (in ``channel``, in the thread ``thread_ts``), in order."""
        with self.lock:
            chans = [channel] if channel else list(self.history)
            out = [m for c in chans for m in self.history.get(c, []) if m.bot]
            if thread_ts is not None:
                out = [m for m in out if m.thread_ts == thread_ts]
            return sorted(out, key=lambda m: m.ts)

    def thread(self, channel: str, ts: str) -> list[SlackMessage]:
        """The thread root and its replies as people see them."""
        with self.lock:
            root = self.find(channel, ts)
            return ([root] if root else []) + self.replies(channel, ts)

    # ---- what people do
    def _user_message(self, user: str, channel: str, text: str, thread_ts: str | None) -> SlackMessage:
        if channel not in self.channels:
            raise AssertionError(f"no channel {channel}: add_channel() it first")
        msg = SlackMessage(channel, self.next_ts(), user, text, thread_ts=thread_ts)
        self.history[channel].append(msg)
        return msg

    def _event(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"token": "fake-verification-token", "team_id": self.team_id, "api_app_id": self.app_id,
                "event": event, "type": "event_callback", "event_id": f"Ev{next(self._seq):08d}{secrets.token_hex(3)}",
                "event_time": int(time.time()), "event_context": secrets.token_hex(8),
                "authorizations": [{"enterprise_id": None, "team_id": self.team_id, "user_id": self.bot_user_id,
                                    "is_bot": True, "is_enterprise_install": False}]}

    def message(self, user: str, channel: str, text: str, *, thread_ts: str | None = None) -> dict[str, Any]:
        with self.lock:
            msg = self._user_message(user, channel, text, thread_ts)
            ch = self.channels[channel]
            event = {"type": "message", "user": user, "text": text, "ts": msg.ts, "channel": channel,
                     "event_ts": msg.ts, "channel_type": "im" if ch.is_im else "group" if ch.is_private else "channel",
                     "team": self.team_id}
            if thread_ts:
                event["thread_ts"] = thread_ts
            return self._event(event)

    def dm(self, user: str, text: str) -> dict[str, Any]:
        """The user writes to the app in their DM (``channel_type`` ``im``)."""
        return self.message(user, self.dm_channel(user).id, text)

    def mention(self, user: str, channel: str, text: str, *, thread_ts: str | None = None) -> dict[str, Any]:
        with self.lock:
            if f"<@{self.bot_user_id}>" not in text:
                text = f"<@{self.bot_user_id}> {text}"
            msg = self._user_message(user, channel, text, thread_ts)
            event = {"type": "app_mention", "user": user, "text": text, "ts": msg.ts, "channel": channel,
                     "event_ts": msg.ts, "team": self.team_id}
            if thread_ts:
                event["thread_ts"] = thread_ts
            return self._event(event)

    def _interaction_ids(self) -> tuple[str, str]:
        trigger = f"{next(self._seq)}.{secrets.token_hex(6)}"
        self.triggers[trigger] = self.now()
        return trigger, f"{self.base_url}/response/{secrets.token_hex(8)}"

    def slash_command(self, user: str, channel: str, command: str, text: str = "") -> dict[str, str]:
        with self.lock:
            trigger, response_url = self._interaction_ids()
            ch = self.channels[channel]
            return {"token": "fake-verification-token", "team_id": self.team_id, "team_domain": "fake-team",
                    "channel_id": channel, "channel_name": "directmessage" if ch.is_im else ch.name, "user_id": user,
                    "user_name": self.users[user].name if user in self.users else user, "command": command,
                    "text": text, "api_app_id": self.app_id, "is_enterprise_install": "false",
                    "response_url": response_url, "trigger_id": trigger}

    def block_action(self, user: str, message: SlackMessage, action_id: str | None = None, *, text: str | None = None,
                     value: str | None = None, forge: bool = False) -> dict[str, Any]:
        """A click on a button of ``message``; ``forge`` lets the test send an action_id/value not on it."""
        with self.lock:
            try:
                block_id, button = message.button(action_id, text=text)
            except KeyError:
                if not forge:
                    raise
                block_id, button = "forged", {"type": "button", "action_id": action_id,
                                              "text": {"type": "plain_text", "text": text or "x"}}
            trigger, response_url = self._interaction_ids()
            action = {"type": "button", "action_id": button.get("action_id"), "block_id": block_id,
                      "text": button.get("text"), "action_ts": self.next_ts()}
            if forge and value is not None:
                action["value"] = value  # a forged value on a real button, or on a made-up one
            elif "value" in button:
                action["value"] = button["value"]
            return {"type": "block_actions", "user": {"id": user, "username": user, "name": user,
                                                      "team_id": self.team_id},
                    "api_app_id": self.app_id, "token": "fake-verification-token", "trigger_id": trigger,
                    "team": {"id": self.team_id, "domain": "fake-team"},
                    "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel,
                                  "is_ephemeral": False},
                    "channel": {"id": message.channel, "name": self.channels[message.channel].name},
                    "message": message.to_api(self.replies(message.channel, message.ts)),
                    "response_url": response_url, "actions": [action]}
