"""The Slack Web API methods an app like collectbot calls, with the refusals Slack gives.

Each function takes the fake and the call's arguments (already checked against the method's
table in spec.py) and returns the answer's fields, or raises SlackError. Error codes are
Slack's own (docs.slack.dev/reference/methods/...): ``channel_not_found``, ``not_in_channel``,
``is_archived``, ``no_text``, ``msg_too_long`` (text over 40,000 characters),
``invalid_blocks`` / ``invalid_blocks_format``, ``invalid_thread_ts`` (a malformed ts),
``thread_not_found``, ``message_not_found``, ``cant_update_message`` (not the app's own),
``user_not_found``, ``user_not_in_channel``, ``invalid_trigger_id`` / ``expired_trigger_id``
(a trigger lives 3 seconds), ``file_not_found``.

One choice is the fake's: a ``thread_ts`` of the right form that names no message is refused
with ``thread_not_found`` (``unknown_thread="refuse"``); Slack has been seen both to refuse it
and to accept the post and show it nowhere. Either way it is a bug in the app.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from tests.fakes.slack_blocks import block_errors
from tests.fakes.slack_state import SlackChannel, SlackMessage

if TYPE_CHECKING:
    from tests.fakes.slack_api import FakeSlack

TS = re.compile(r"\d{9,10}\.\d{6}")
MAX_TEXT = 40_000


class SlackError(Exception):
    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.status, self.extra = error, status, extra


def channel_of(sl: FakeSlack, value: Any, *, posting: bool = False) -> SlackChannel:
    """A channel by id, or by name (``#name`` or ``name``) as chat.postMessage accepts."""
    name = str(value or "").lstrip("#")
    ch = sl.channels.get(name) or next((c for c in sl.channels.values() if c.name == name and not c.is_im), None)
    if ch is None and name.startswith("U") and name in sl.users and posting:
        ch = sl.dm_channel(name)  # posting to a user id opens the DM, as Slack does
    if ch is None:
        raise SlackError("channel_not_found")
    if posting and ch.is_archived:
        raise SlackError("is_archived")
    if posting and not ch.bot_is_member:
        raise SlackError("not_in_channel")
    return ch


def _blocks(args: dict[str, Any], limit: int = 50) -> list[dict[str, Any]] | None:
    blocks = args.get("blocks")
    if blocks is None or blocks == "":
        return None
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            raise SlackError("invalid_blocks_format") from None
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    errors = block_errors(blocks, limit=limit)
    if errors:
        raise SlackError("invalid_blocks", errors=errors, response_metadata={"messages": errors})
    return blocks


def _content(args: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    text = str(args.get("text") or args.get("markdown_text") or "")
    blocks = _blocks(args)
    if not text and not blocks and not args.get("attachments"):
        raise SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    return text, blocks


def _thread(sl: FakeSlack, channel: str, thread_ts: Any) -> str | None:
    if thread_ts in (None, ""):
        return None
    ts = str(thread_ts)
    if not TS.fullmatch(ts):
        messages = [f"[ERROR] {ts} is not a valid thread_ts"]
        raise SlackError("invalid_thread_ts", response_metadata={"messages": messages})
    root = sl.find(channel, ts)
    if root is None:
        if sl.unknown_thread == "refuse":
            raise SlackError("thread_not_found")
        return ts
    return root.thread_ts or root.ts  # a reply's ts threads under its parent


def post_message(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    ch = channel_of(sl, args["channel"], posting=True)
    text, blocks = _content(args)
    thread_ts = _thread(sl, ch.id, args.get("thread_ts"))
    sl.charge_channel(ch.id)
    metadata = args.get("metadata")
    msg = SlackMessage(ch.id, sl.next_ts(), sl.bot_user_id, text, blocks, thread_ts, bot=True,
                       reply_broadcast=str(args.get("reply_broadcast")).lower() in ("true", "1"),
                       metadata=json.loads(metadata) if isinstance(metadata, str) else metadata)
    sl.history[ch.id].append(msg)
    return {"channel": ch.id, "ts": msg.ts, "message": msg.to_api()}


def update(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    ch = channel_of(sl, args["channel"])
    msg = sl.find(ch.id, str(args["ts"]))
    if msg is None:
        raise SlackError("message_not_found")
    if not msg.bot:
        raise SlackError("cant_update_message")
    text, blocks = _content(args)
    msg.edits.append({"text": msg.text, "blocks": msg.blocks})
    msg.text, msg.blocks = text, blocks
    return {"channel": ch.id, "ts": msg.ts, "text": text, "message": msg.to_api()}


def delete(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    ch = channel_of(sl, args["channel"])
    msg = sl.find(ch.id, str(args["ts"]))
    if msg is None:
        raise SlackError("message_not_found")
    if not msg.bot:
        raise SlackError("cant_delete_message")
    msg.deleted = True
    return {"channel": ch.id, "ts": msg.ts}


def post_ephemeral(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    ch = channel_of(sl, args["channel"], posting=True)
    user = args["user"]
    if user not in sl.users:
        raise SlackError("user_not_found")
    if ch.members is not None and user not in ch.members:
        raise SlackError("user_not_in_channel")
    text, blocks = _content(args)
    ts = sl.next_ts()
    sl.ephemerals.append({"channel": ch.id, "user": user, "text": text, "blocks": blocks, "message_ts": ts,
                          "thread_ts": args.get("thread_ts")})
    return {"message_ts": ts}


def get_permalink(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    ch = channel_of(sl, args["channel"])
    ts = str(args["message_ts"])
    if sl.find(ch.id, ts) is None:
        raise SlackError("message_not_found")
    return {"channel": ch.id, "permalink": f"https://fake-team.slack.com/archives/{ch.id}/p{ts.replace('.', '')}"}


def _page(items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    limit = int(args.get("limit") or 100)
    start = int(base64.b64decode(args["cursor"]).decode().split(":")[1]) if args.get("cursor") else 0
    page = items[start:start + limit]
    more = start + limit < len(items)
    cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return {"messages": page, "has_more": more, "response_metadata": {"next_cursor": cursor}}


def _window(messages: list[SlackMessage], args: dict[str, Any]) -> list[SlackMessage]:
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or 1e12)
    inclusive = str(args.get("inclusive")).lower() in ("true", "1")

    def inside(m: SlackMessage) -> bool:
        t = float(m.ts)
        return oldest <= t <= latest if inclusive else oldest < t < latest

    return [m for m in messages if inside(m)]


def history(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    ch = channel_of(sl, args["channel"])
    top = [m for m in sl.history[ch.id] if not m.deleted and (m.thread_ts in (None, m.ts) or m.reply_broadcast)]
    newest_first = sorted(_window(top, args), key=lambda m: m.ts, reverse=True)
    return _page([m.to_api(sl.replies(ch.id, m.ts)) for m in newest_first], args)


def replies(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    ch = channel_of(sl, args["channel"])
    msg = sl.find(ch.id, str(args["ts"]))
    if msg is None:
        raise SlackError("thread_not_found")
    root = sl.find(ch.id, msg.thread_ts) if msg.thread_ts and msg.thread_ts != msg.ts else msg
    assert root is not None
    thread = [root, *_window(sl.replies(ch.id, root.ts), args)]
    return _page([m.to_api(sl.replies(ch.id, root.ts) if m is root else None) for m in thread], args)


def conversation_info(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"channel": channel_of(sl, args["channel"]).to_api()}


def conversation_open(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if len(users) != 1:
        raise SlackError("users_list_not_supplied" if not users else "not_enough_users")
    if users[0] not in sl.users:
        raise SlackError("user_not_found")
    return {"channel": {"id": sl.dm_channel(users[0]).id}}


def user_info(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    user = sl.users.get(args["user"])
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user.to_api()}


def get_upload_url(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    file_id = f"F{secrets.token_hex(5).upper()}"
    sl.uploads[file_id] = {"id": file_id, "name": args["filename"], "length": int(args["length"]), "data": None}
    return {"upload_url": f"{sl.base_url}/upload/v1/{file_id}", "file_id": file_id}


def complete_upload(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    try:
        files = json.loads(args["files"]) if isinstance(args["files"], str) else args["files"]
    except ValueError:
        raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] files must be JSON"]}) from None
    done = []
    for item in files:
        upload = sl.uploads.get(item.get("id"))
        if upload is None or upload["data"] is None:
            raise SlackError("file_not_found")
        upload["title"] = item.get("title") or upload["name"]
        done.append({"id": upload["id"], "name": upload["name"], "title": upload["title"],
                     "size": len(upload["data"]), "permalink": f"https://fake-team.slack.com/files/{upload['id']}"})
    if args.get("channel_id"):
        ch = channel_of(sl, args["channel_id"], posting=True)
        thread_ts = _thread(sl, ch.id, args.get("thread_ts"))
        msg = SlackMessage(ch.id, sl.next_ts(), sl.bot_user_id, str(args.get("initial_comment") or ""),
                           thread_ts=thread_ts, bot=True, files=done)
        sl.history[ch.id].append(msg)
    return {"files": done}


def views_open(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    created = sl.triggers.pop(str(args["trigger_id"]), None)
    if created is None:
        raise SlackError("invalid_trigger_id")
    if sl.now() - created > 3:
        raise SlackError("expired_trigger_id")
    view = json.loads(args["view"]) if isinstance(args["view"], str) else args["view"]
    if view.get("type") != "modal" or len(((view.get("title") or {}).get("text")) or "") > 24:
        raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] a modal needs a type "
                                                                              "and a title of up to 24 characters"]})
    _blocks({"blocks": view.get("blocks", [])}, limit=100)
    stored = dict(view, id=f"V{secrets.token_hex(5).upper()}", team_id=sl.team_id)
    sl.views.append(stored)
    return {"view": stored}


def auth_test(sl: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"url": "https://fake-team.slack.com/", "team": "Fake Team", "user": "collectbot", "team_id": sl.team_id,
            "user_id": sl.bot_user_id, "bot_id": "B0BOT", "is_enterprise_install": False}


METHODS = {
    "auth.test": auth_test, "chat.postMessage": post_message, "chat.update": update, "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral, "chat.getPermalink": get_permalink,
    "conversations.history": history, "conversations.replies": replies, "conversations.info": conversation_info,
    "conversations.open": conversation_open, "users.info": user_info,
    "files.getUploadURLExternal": get_upload_url, "files.completeUploadExternal": complete_upload,
    "views.open": views_open,
}
