"""A stand-in for the Telegram Bot API inside one process, for `collectbot demo`.

python-telegram-bot sends every Bot API call through a `BaseRequest`; `LocalBotAPI` is one
that answers the calls the debtor's bot makes (getMe, setMyCommands, sendMessage,
editMessageText, editMessageReplyMarkup, answerCallbackQuery, sendDocument, ...) from memory,
the way Telegram answers them, so the real handlers (bot.handlers.telegram) run unchanged
with no network and no account. It also plays the debtors: `user_sends` and `user_taps`
build the updates Telegram would deliver, and `transcript` is each chat as its debtor saw it.

Not a test double for the product's tests (those use tests/fakes over real HTTP); the demo's
only. Refusals kept, because the handlers rely on them: an unknown chat is 403, HTML that
Telegram would not parse is 400, an edit that changes nothing is 400 "message is not
modified", callback data over 64 bytes is 400, and a method this stand-in does not know is
404 rather than a silent success.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from telegram.request import BaseRequest, RequestData

_TAG = re.compile(r"<[^>]+>")
BOT_ID = 7000000001


# The tags Telegram's HTML parse mode knows (core.telegram.org/bots/api#html-style).
TELEGRAM_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)


class _Checker(HTMLParser):
    """Refuses what Telegram refuses in parse_mode HTML: an unknown tag, or tags that do not nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problem = self.problem or f'unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problem = self.problem or f'unexpected end tag "{tag}"'


def html_problem(text_html: str) -> str:
    """Why Telegram would refuse `text_html` with parse_mode HTML ("" when it would take it)."""
    checker = _Checker()
    checker.feed(text_html)
    checker.close()
    if not checker.problem and checker.open:
        return f'can\'t find end tag corresponding to start tag "{checker.open[-1]}"'
    return checker.problem


def plain(text_html: str) -> str:
    """Telegram HTML as the debtor reads it: tags gone, entities unescaped."""
    return html.unescape(_TAG.sub("", text_html))


@dataclass
class ChatLine:
    """One thing that happened in a chat, as its debtor saw it.

    who: "bot" or "debtor"; `text` is plain text; `buttons` the inline keyboard's labels by row;
    `tap`: the debtor pressed the button labelled `text`; `edit`: the bot replaced the text of
    the message whose button was pressed; `document`: the name of a file the bot sent.
    """

    who: str
    text: str
    buttons: list[list[str]] = field(default_factory=list)
    tap: bool = False
    edit: bool = False
    document: str | None = None


@dataclass
class _User:
    chat_id: int
    first_name: str
    language_code: str

    def as_dict(self) -> dict:
        return {"id": self.chat_id, "is_bot": False, "first_name": self.first_name, "language_code": self.language_code}


class LocalBotAPI(BaseRequest):
    """The Bot API in memory (see the module). One instance serves one bot; not thread-safe: use it
    from the event loop the Application runs on."""

    def __init__(self, username: str = "collectbot_demo_bot") -> None:
        self.username = username
        self.users: dict[int, _User] = {}
        self.messages: dict[int, dict] = {}  # message_id -> the message as Telegram returns it
        self.transcripts: dict[int, list[ChatLine]] = {}
        self.calls: list[str] = []
        self._next_message = 1
        self._next_update = 1

    # -- BaseRequest ------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(  # noqa: PLR0913
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Answer one Bot API call: (HTTP status, the JSON body Telegram would send)."""
        name = url.rsplit("/", 1)[-1]
        self.calls.append(name)
        params = dict(request_data.parameters) if request_data is not None else {}
        files = request_data.multipart_data if request_data is not None and request_data.contains_files else {}
        handler = getattr(self, f"_m_{name}", None)
        if handler is None:
            return self._error(404, f"Not Found: {name} is not answered by the demo's Bot API")
        try:
            result = handler(params, files)
        except _Refused as exc:
            return self._error(exc.code, exc.description)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    @staticmethod
    def _error(code: int, description: str) -> tuple[int, bytes]:
        return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()

    # -- the debtors --------------------------------------------------------------------------

    def add_user(self, chat_id: int, first_name: str, language_code: str) -> None:
        """A Telegram user who opened the bot (their private chat's id is their user id)."""
        self.users[chat_id] = _User(chat_id, first_name, language_code)
        self.transcripts.setdefault(chat_id, [])

    def user_sends(self, chat_id: int, text: str) -> dict:
        """The debtor writes `text`: the update (as JSON) Telegram would deliver to the bot."""
        user = self.users[chat_id]
        message = self._message(chat_id, user.as_dict(), text)
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self._line(chat_id, ChatLine("debtor", text))
        return self._update({"message": message})

    def user_taps(self, chat_id: int, label: str) -> dict:
        """The debtor presses the button labelled `label` (or starting with it) on the newest message that has it."""
        for message in sorted(self.messages.values(), key=lambda m: -m["message_id"]):
            if message["chat"]["id"] != chat_id:
                continue
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label or button["text"].startswith(label):
                        self._line(chat_id, ChatLine("debtor", button["text"], tap=True))
                        query = {
                            "id": str(self._next_update),
                            "from": self.users[chat_id].as_dict(),
                            "message": message,
                            "chat_instance": str(chat_id),
                            "data": button["callback_data"],
                        }
                        return self._update({"callback_query": query})
        raise LookupError(f"no button {label!r} in chat {chat_id}: {self.buttons(chat_id)}")

    def buttons(self, chat_id: int) -> list[list[str]]:
        """The labels on the newest message of the chat that has buttons."""
        for line in reversed(self.transcripts.get(chat_id, [])):
            if line.who == "bot" and line.buttons:
                return line.buttons
        return []

    def transcript(self, chat_id: int) -> list[ChatLine]:
        return list(self.transcripts.get(chat_id, []))

    # -- the methods ---------------------------------------------------------------------------

    def _bot_user(self) -> dict:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "collectbot",
            "username": self.username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_getMe(self, params: dict, files: dict) -> dict:  # noqa: N802 (the Bot API's method names)
        return self._bot_user()

    def _m_setMyCommands(self, params: dict, files: dict) -> bool:  # noqa: N802
        return True

    def _m_deleteMyCommands(self, params: dict, files: dict) -> bool:  # noqa: N802
        return True

    def _m_sendChatAction(self, params: dict, files: dict) -> bool:  # noqa: N802
        return True

    def _m_answerCallbackQuery(self, params: dict, files: dict) -> bool:  # noqa: N802
        return True

    def _m_sendMessage(self, params: dict, files: dict) -> dict:  # noqa: N802
        chat_id = self._chat(params)
        text = str(params.get("text", ""))
        if not text.strip():
            raise _Refused(400, "Bad Request: message text is empty")
        self._check_html(params, text)
        markup = self._markup(params)
        message = self._message(chat_id, self._bot_user(), plain(text), markup)
        self._line(chat_id, ChatLine("bot", plain(text), _labels(markup)))
        return message

    def _m_sendDocument(self, params: dict, files: dict) -> dict:  # noqa: N802
        chat_id = self._chat(params)
        name = next((f[0] for f in files.values() if isinstance(f, tuple) and f), None) or "document"
        message = self._message(chat_id, self._bot_user(), "")
        message.pop("text")
        message["document"] = {
            "file_id": f"demo-file-{message['message_id']}",
            "file_unique_id": f"u{message['message_id']}",
            "file_name": name,
        }
        self._line(chat_id, ChatLine("bot", "", document=name))
        return message

    def _m_editMessageText(self, params: dict, files: dict) -> dict:  # noqa: N802
        message = self._target(params)
        self._check_html(params, str(params.get("text", "")))
        text, markup = plain(str(params.get("text", ""))), self._markup(params)
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise _Refused(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message["text"] = text
        _set_markup(message, markup)
        self._line(message["chat"]["id"], ChatLine("bot", text, _labels(markup), edit=True))
        return message

    def _m_editMessageReplyMarkup(self, params: dict, files: dict) -> dict:  # noqa: N802
        message = self._target(params)
        markup = self._markup(params)
        if message.get("reply_markup") == markup:
            raise _Refused(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        _set_markup(message, markup)
        return message

    def _m_deleteMessage(self, params: dict, files: dict) -> bool:  # noqa: N802
        self.messages.pop(int(params.get("message_id", 0)), None)
        return True

    # -- plumbing ------------------------------------------------------------------------------

    def _chat(self, params: dict) -> int:
        chat_id = int(params.get("chat_id", 0))
        if chat_id not in self.users:
            raise _Refused(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _target(self, params: dict) -> dict:
        message = self.messages.get(int(params.get("message_id", 0)))
        if message is None or message["chat"]["id"] != int(params.get("chat_id", 0)):
            raise _Refused(400, "Bad Request: message to edit not found")
        return message

    @staticmethod
    def _check_html(params: dict, text: str) -> None:
        if str(params.get("parse_mode", "")).upper() == "HTML":
            problem = html_problem(text)
            if problem:
                raise _Refused(400, f"Bad Request: can't parse entities: {problem}")

    @staticmethod
    def _markup(params: dict) -> dict | None:
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if not markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > 64:
                    raise _Refused(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _message(self, chat_id: int, sender: dict, text: str, markup: dict | None = None) -> dict:
        user = self.users[chat_id]
        message = {
            "message_id": self._next_message,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": user.first_name},
            "from": sender,
            "text": text,
        }
        _set_markup(message, markup)
        self._next_message += 1
        if sender.get("is_bot"):
            self.messages[message["message_id"]] = message
        return message

    def _update(self, body: dict) -> dict:
        update = {"update_id": self._next_update, **body}
        self._next_update += 1
        return update

    def _line(self, chat_id: int, line: ChatLine) -> None:
        self.transcripts.setdefault(chat_id, []).append(line)


class _Refused(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


def _set_markup(message: dict, markup: dict | None) -> None:
    if markup:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _labels(markup: dict | None) -> list[list[str]]:
    return [[b["text"] for b in row] for row in (markup or {}).get("inline_keyboard", [])]


__all__ = ["ChatLine", "LocalBotAPI", "html_problem", "plain"]
