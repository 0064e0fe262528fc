"""The fake Bot API's world: users and their private chats, messages, files, updates, and the record.

Everything a test does "as the user" lives here (``add_user``, ``user_sends``, ``user_clicks``,
``user_sends_photo``, ``user_sends_document``, ``user_blocks_bot``...), and everything it asserts
on (``sent``, ``last``, ``transcript``, ``calls``, ``callback_answers``, ``commands``).

Copied from the real service: a private chat's id is the user's id; message ids count up per
chat across both sides; a user must have started the bot before the bot can write first
("bot can't initiate conversation with a user"); a callback query carries the message its
button belongs to and can be answered once, within ``callback_answer_timeout`` seconds.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.spec import UploadedFile


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": code, "description": description}``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


FORBIDDEN = {
    "blocked": "Forbidden: bot was blocked by the user",
    "deactivated": "Forbidden: user is deactivated",
    "not_started": "Forbidden: bot can't initiate conversation with a user",
}


@dataclass
class TgUser:
    """A Telegram user; ``started`` = pressed Start (or wrote) in the private chat with the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started: bool = True
    blocked: bool = False
    deactivated: bool = False

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out

    def chat(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            out["username"] = self.username
        return out


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.data),
                "file_path": self.file_path}


@dataclass
class ChatMessage:
    """One message in a chat, from the bot (``outgoing``) or from the user."""

    chat_id: int
    message_id: int
    outgoing: bool
    api: dict[str, Any]  # the Message object as the API returns it
    method: str = ""  # the call that made it (sendMessage, sendDocument...)
    text: str | None = None  # as sent: with its HTML when parse_mode was HTML
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    file: StoredFile | None = None
    at: float = field(default_factory=time.monotonic)
    edits: list[dict[str, Any]] = field(default_factory=list)  # earlier versions, oldest first
    deleted: bool = False

    @property
    def plain_text(self) -> str:
        """What the user reads: text or caption with the markup parsed away."""
        return self.api.get("text") or self.api.get("caption") or ""

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard rows (each button a dict with text and callback_data or url)."""
        return (self.reply_markup or {}).get("inline_keyboard", [])

    @property
    def button_texts(self) -> list[list[str]]:
        return [[b["text"] for b in row] for row in self.buttons]

    def callback_data(self, text: str) -> str:
        """The callback_data of the button labelled ``text`` (KeyError if there is none)."""
        for row in self.buttons:
            for button in row:
                if button["text"] == text and "callback_data" in button:
                    return button["callback_data"]
        raise KeyError(f"no button {text!r} in {self.button_texts}")


@dataclass
class CallbackQuery:
    id: str
    chat_id: int
    message_id: int
    data: str
    user_id: int
    created: float
    answer: dict[str, Any] | None = None


@dataclass
class CallRecord:
    method: str
    args: dict[str, Any]
    status: int
    description: str | None = None


class TelegramWorld:
    """State and user-side helpers; mixed into FakeTelegram (which provides lock, now, notify)."""

    lock: Any  # these three come from FakeServer
    now: Any
    notify: Any
    callback_answer_timeout: float

    def __init__(self, token: str, bot_username: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.users: dict[int, TgUser] = {}
        self.chats: dict[int, dict[int, ChatMessage]] = {}
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackQuery] = {}
        self.updates: list[dict[str, Any]] = []  # not yet confirmed by getUpdates' offset
        self.calls: list[CallRecord] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self._update_ids = itertools.count(secrets.randbelow(10**6) + 1)
        self._message_ids: dict[int, itertools.count] = {}
        self._file_seq = itertools.count(1)

    # ---- users
    def add_user(self, user_id: int | None = None, first_name: str = "Ana", *, last_name: str | None = None,
                 username: str | None = None, language_code: str | None = "en", started: bool = True) -> TgUser:
        """A user who (by default) has started the bot; their private chat has the same id."""
        with self.lock:
            uid = user_id if user_id is not None else 10**9 + len(self.users) + 1
            user = TgUser(uid, first_name, last_name, username, language_code, started)
            self.users[uid] = user
            self.chats.setdefault(uid, {})
            return user

    def user_blocks_bot(self, chat_id: int) -> None:
        with self.lock:
            self.users[chat_id].blocked = True

    def user_deactivated(self, chat_id: int) -> None:
        with self.lock:
            self.users[chat_id].deactivated = True

    def _user_for(self, chat_id: int, from_user: TgUser | int | None, language_code: str | None) -> TgUser:
        uid = from_user.id if isinstance(from_user, TgUser) else (from_user or chat_id)
        user = self.users.get(uid) or self.add_user(uid, f"User{uid}", started=False)
        if language_code is not None:
            user.language_code = language_code
        user.started, user.blocked = True, False  # writing to the bot (re)starts the chat
        return user

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    # ---- what the user does
    def user_sends(self, chat_id: int, text: str, *, from_user: TgUser | int | None = None,
                   language_code: str | None = None) -> int:
        """The user writes ``text`` (``/command args`` gets its bot_command entity). Returns the message id."""
        with self.lock:
            user = self._user_for(chat_id, from_user, language_code)
            api: dict[str, Any] = {"text": text}
            if text.startswith("/"):
                api["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            return self._user_message(user, chat_id, api)

    def user_sends_photo(self, chat_id: int, data: bytes = b"\xff\xd8\xff\xe0fake-jpeg", *, caption: str | None = None,
                         from_user: TgUser | int | None = None) -> StoredFile:
        """The user sends a photo (Telegram gives several sizes; the last is the largest)."""
        with self.lock:
            user = self._user_for(chat_id, from_user, None)
            big = self.store_file(data, "photos", "jpg")
            small = self.store_file(data[: max(1, len(data) // 4)], "photos", "jpg")
            sizes = [dict(small.to_api(), width=90, height=90), dict(big.to_api(), width=800, height=800)]
            for size in sizes:
                size.pop("file_path")
            api: dict[str, Any] = {"photo": sizes}
            if caption:
                api["caption"] = caption
            self._user_message(user, chat_id, api)
            return big

    def user_sends_document(self, chat_id: int, data: bytes, file_name: str = "receipt.pdf",
                            mime_type: str = "application/pdf", *, caption: str | None = None,
                            from_user: TgUser | int | None = None) -> StoredFile:
        with self.lock:
            user = self._user_for(chat_id, from_user, None)
            stored = self.store_file(data, "documents", file_name.rsplit(".", 1)[-1], file_name, mime_type)
            doc = {k: v for k, v in stored.to_api().items() if k != "file_path"}
            api: dict[str, Any] = {"document": dict(doc, file_name=file_name, mime_type=mime_type)}
            if caption:
                api["caption"] = caption
            self._user_message(user, chat_id, api)
            return stored

    def user_clicks(self, chat_id: int, message_id: int, data: str | None = None, *, button: str | None = None,
                    forge: bool = False, from_user: TgUser | int | None = None) -> str:
        """The user taps an inline button of a bot message (by ``data`` or by its label ``button``).

        A real client can only send data of a button that is on the message; ``forge=True``
        sends any data (a modified client), as a forged-callback test needs. Returns the query id.
        """
        with self.lock:
            message = self.chats.get(chat_id, {}).get(message_id)
            if message is None or not message.outgoing or message.deleted:
                raise AssertionError(f"chat {chat_id} has no bot message {message_id} to click on")
            if button is not None:
                data = message.callback_data(button)
            on_message = [b.get("callback_data") for row in message.buttons for b in row]
            if data not in on_message and not forge:
                raise AssertionError(f"message {message_id} has no button with data {data!r}: {message.button_texts}")
            user = self._user_for(chat_id, from_user, None)
            query = CallbackQuery(secrets.token_hex(8), chat_id, message_id, data or "", user.id, self.now())
            self.callbacks[query.id] = query
            self._push({"callback_query": {"id": query.id, "from": user.to_api(), "message": message.api,
                                           "chat_instance": str(-chat_id), "data": query.data}})
            return query.id

    def _user_message(self, user: TgUser, chat_id: int, content: dict[str, Any]) -> int:
        mid = self._next_message_id(chat_id)
        api = {"message_id": mid, "from": user.to_api(), "chat": self.users[chat_id].chat(), "date": int(time.time()),
               **content}
        self.chats.setdefault(chat_id, {})[mid] = ChatMessage(chat_id, mid, False, api, text=content.get("text"))
        self._push({"message": api})
        return mid

    def _push(self, update: dict[str, Any]) -> None:
        self.updates.append({"update_id": next(self._update_ids), **update})
        self.notify()

    def store_file(self, data: bytes, folder: str, ext: str, file_name: str | None = None,
                   mime_type: str | None = None) -> StoredFile:
        n = next(self._file_seq)
        stored = StoredFile(f"FAKE{folder[:3].upper()}{n:06d}{secrets.token_hex(6)}", f"u{n:06d}",
                            f"{folder}/file_{n}.{ext}", data, file_name, mime_type)
        self.files[stored.file_id] = stored
        return stored

    def stored_upload(self, upload: UploadedFile, folder: str) -> StoredFile:
        ext = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
        return self.store_file(upload.data, folder, ext, upload.filename, upload.content_type)

    # ---- the record
    def sent(self, chat_id: int | None = None) -> list[ChatMessage]:
        """Every message the bot sent (to ``chat_id``, or to anyone), in order, deleted ones included."""
        with self.lock:
            chats = [chat_id] if chat_id is not None else list(self.chats)
            out = [m for c in chats for m in self.chats.get(c, {}).values() if m.outgoing]
            return sorted(out, key=lambda m: (m.at, m.chat_id, m.message_id))

    def last(self, chat_id: int) -> ChatMessage:
        sent = self.sent(chat_id)
        if not sent:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return sent[-1]

    def transcript(self, chat_id: int) -> list[tuple[str, str]]:
        """The chat as the user saw it: ``("user"|"bot", text)`` in order (edited messages as they are now)."""
        with self.lock:
            out = []
            for m in self.chats.get(chat_id, {}).values():
                if m.deleted:
                    continue
                if "document" in m.api:
                    body = m.plain_text or f"[file {m.api['document'].get('file_name')}]"
                else:
                    body = m.plain_text or ("[photo]" if "photo" in m.api else "")
                out.append(("bot" if m.outgoing else "user", body))
            return out

    @property
    def callback_answers(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {q.id: q.answer for q in self.callbacks.values() if q.answer is not None}

    def calls_to(self, method: str) -> list[CallRecord]:
        with self.lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]
