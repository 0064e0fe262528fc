"""The Bot API methods a bot like collectbot calls, with the checks the real server makes.

Each function takes the fake (its world) and the typed arguments (already checked against the
method's table in spec.py) and returns the ``result`` or raises ApiError. Limits and texts
copied from the Bot API documentation and the server (tdlib/telegram-bot-api):

- text 1-4096 characters after entity parsing ("message text is empty", "message is too long");
  captions up to 1024 ("message caption is too long");
- inline keyboards: callback_data 1-64 bytes ("BUTTON_DATA_INVALID"), a button needs exactly
  one action ("Text buttons are unallowed in the inline keyboard"), at most 100 buttons
  ("reply markup is too long") and, in the fake, at most 8 per row (Telegram's clients show
  no more; the server's exact limit is not documented);
- edits: "message to edit not found", "message can't be edited", "there is no text in the
  message to edit", "message is not modified: ..." when text, entities and keyboard are the
  same; an edit without reply_markup removes the keyboard, as on Telegram;
- callback queries: answered once, within the timeout, else "query is too old and response
  timeout expired or query ID is invalid".
"""

from __future__ import annotations

import copy
import json
import time
from typing import TYPE_CHECKING, Any

from tests.fakes.spec import UploadedFile
from tests.fakes.telegram_html import HtmlEntityError, ParsedText, parse_html
from tests.fakes.telegram_state import FORBIDDEN, ApiError, ChatMessage, StoredFile, TgUser, bad_request

if TYPE_CHECKING:
    from tests.fakes.telegram_api import FakeTelegram

NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message")
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF", b"BM")
MAX_UPLOAD = {"document": 50 * 2**20, "photo": 10 * 2**20}


def resolve_chat(tg: FakeTelegram, chat_id: Any) -> TgUser:
    """The private chat's user, or the errors Telegram gives for a chat the bot cannot write to.

    A bot cannot reach a user by @username (only channels and groups have usable ones): "chat not found".
    """
    user = tg.users.get(chat_id) if isinstance(chat_id, int) else None
    if user is None:
        raise bad_request("chat not found")
    if user.deactivated:
        raise ApiError(403, FORBIDDEN["deactivated"])
    if user.blocked:
        raise ApiError(403, FORBIDDEN["blocked"])
    if not user.started:
        raise ApiError(403, FORBIDDEN["not_started"])
    return user


def formatted(text: str, parse_mode: str | None, entities: list | None, tg: FakeTelegram) -> ParsedText:
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return parse_html(text, strict_ampersand=tg.strict_ampersand)
        except HtmlEntityError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    if mode not in ("", "markdown", "markdownv2"):
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    return ParsedText(text, list(entities or []))  # Markdown modes are passed through unchecked


def message_text(args: dict[str, Any], tg: FakeTelegram, key: str = "text", limit: int = 4096) -> ParsedText:
    parsed = formatted(args.get(key) or "", args.get("parse_mode"), args.get("entities"), tg)
    if key == "text" and not parsed.text.strip():
        raise bad_request("message text is empty")
    if len(parsed.text) > limit:
        raise bad_request("message is too long" if key == "text" else "message caption is too long")
    return parsed


def check_markup(markup: dict[str, Any] | None) -> None:
    if not markup or "inline_keyboard" not in markup:
        return
    count = 0
    for row in markup["inline_keyboard"]:
        if len(row) > 8:
            raise bad_request("too many buttons in a row (the fake allows 8)")
        for button in row:
            count += 1
            if not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            actions = [k for k in button if k not in ("text", "style", "icon_custom_emoji_id")]
            if not actions:
                raise bad_request("can't parse inline keyboard button: "
                                  "Text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad_request("BUTTON_TYPE_INVALID")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not url.startswith(("http://", "https://", "tg://")):
                raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    if count > 100:
        raise bad_request("reply markup is too long")


def _bot_message(tg: FakeTelegram, user: TgUser, method: str, args: dict[str, Any], content: dict[str, Any],
                 file: StoredFile | None = None) -> dict[str, Any]:
    mid = tg._next_message_id(user.id)
    api = {"message_id": mid, "from": tg.bot_user(), "chat": user.chat(), "date": int(time.time()), **content}
    markup = args.get("reply_markup")
    if markup and "inline_keyboard" in markup:
        api["reply_markup"] = markup
    text = args.get("text") if "text" in args else args.get("caption")
    tg.chats.setdefault(user.id, {})[mid] = ChatMessage(user.id, mid, True, api, method, text, args.get("parse_mode"),
                                                        api.get("reply_markup"), file)
    return api


def _with_entities(parsed: ParsedText, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {key: parsed.text}
    if parsed.entities:
        out["entities" if key == "text" else "caption_entities"] = parsed.entities
    return out


def send_message(tg: FakeTelegram, args: dict[str, Any]) -> dict[str, Any]:
    parsed = message_text(args, tg)
    check_markup(args.get("reply_markup"))
    user = resolve_chat(tg, args["chat_id"])
    tg.charge(user.id)
    return _bot_message(tg, user, "sendMessage", args, _with_entities(parsed, "text"))


def _send_file(tg: FakeTelegram, args: dict[str, Any], kind: str) -> dict[str, Any]:
    parsed = message_text(args, tg, "caption", 1024) if args.get("caption") else None
    check_markup(args.get("reply_markup"))
    value = args[kind]
    if isinstance(value, UploadedFile):
        if not value.data:
            raise bad_request("file must be non-empty")
        if len(value.data) > MAX_UPLOAD[kind]:
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photo" and not value.data.startswith(IMAGE_MAGIC):
            raise bad_request("IMAGE_PROCESS_FAILED")
    elif value.startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")  # the fake fetches nothing
    elif value not in tg.files:
        raise bad_request("wrong file identifier/HTTP URL specified")
    user = resolve_chat(tg, args["chat_id"])
    tg.charge(user.id)
    stored = tg.stored_upload(value, kind + "s") if isinstance(value, UploadedFile) else tg.files[value]
    described = {k: v for k, v in stored.to_api().items() if k != "file_path"}
    if kind == "photo":
        content: dict[str, Any] = {"photo": [dict(described, width=800, height=800)]}
    else:
        content = {"document": dict(described, file_name=stored.file_name or "file", mime_type=stored.mime_type
                                    or "application/octet-stream")}
    if parsed:
        content.update(_with_entities(parsed, "caption"))
    return _bot_message(tg, user, "send" + kind.title(), args, content, stored)


def send_document(tg: FakeTelegram, args: dict[str, Any]) -> dict[str, Any]:
    return _send_file(tg, args, "document")


def send_photo(tg: FakeTelegram, args: dict[str, Any]) -> dict[str, Any]:
    return _send_file(tg, args, "photo")


def _message_to_edit(tg: FakeTelegram, args: dict[str, Any]) -> ChatMessage:
    if "inline_message_id" in args:
        raise bad_request("MESSAGE_ID_INVALID")  # the fake has no inline messages
    if "chat_id" not in args or "message_id" not in args:
        raise bad_request("message identifier is not specified")
    user = resolve_chat(tg, args["chat_id"])
    message = tg.chats.get(user.id, {}).get(args["message_id"])
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.outgoing:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(message: ChatMessage, content: dict[str, Any], markup: dict[str, Any] | None,
                sent_text: str | None, parse_mode: str | None) -> dict[str, Any]:
    unchanged = all(message.api.get(k) == v for k, v in content.items())
    if unchanged and (markup or None) == (message.reply_markup or None):
        raise bad_request(NOT_MODIFIED)
    message.edits.append(copy.deepcopy(message.api))
    for key, value in content.items():
        if value is None:
            message.api.pop(key, None)
        else:
            message.api[key] = value
    message.api["edit_date"] = int(time.time())
    message.reply_markup = markup or None
    if markup:
        message.api["reply_markup"] = markup
    else:
        message.api.pop("reply_markup", None)
    if sent_text is not None:
        message.text, message.parse_mode = sent_text, parse_mode
    return message.api


def edit_message_text(tg: FakeTelegram, args: dict[str, Any]) -> dict[str, Any]:
    parsed = message_text(args, tg)
    check_markup(args.get("reply_markup"))
    message = _message_to_edit(tg, args)
    if tg.count_edits:
        tg.charge(message.chat_id)
    if "text" not in message.api:
        raise bad_request("there is no text in the message to edit")
    content = {"text": parsed.text, "entities": parsed.entities or None}
    return _apply_edit(message, content, args.get("reply_markup"), args["text"], args.get("parse_mode"))


def edit_message_reply_markup(tg: FakeTelegram, args: dict[str, Any]) -> dict[str, Any]:
    check_markup(args.get("reply_markup"))
    message = _message_to_edit(tg, args)
    if tg.count_edits:
        tg.charge(message.chat_id)
    return _apply_edit(message, {}, args.get("reply_markup"), None, None)


def delete_message(tg: FakeTelegram, args: dict[str, Any]) -> bool:
    user = resolve_chat(tg, args["chat_id"])
    message = tg.chats.get(user.id, {}).get(args["message_id"])
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    message.deleted = True
    return True


def answer_callback_query(tg: FakeTelegram, args: dict[str, Any]) -> bool:
    query = tg.callbacks.get(args["callback_query_id"])
    if query is None or query.answer is not None or tg.now() - query.created > tg.callback_answer_timeout:
        raise bad_request(QUERY_INVALID)
    if len(args.get("text") or "") > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = {k: args[k] for k in ("text", "show_alert", "url", "cache_time") if k in args}
    return True


def get_file(tg: FakeTelegram, args: dict[str, Any]) -> dict[str, Any]:
    stored = tg.files.get(args["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api()


def _commands_key(args: dict[str, Any]) -> tuple[str, str]:
    scope = args.get("scope") or {"type": "default"}
    language = args.get("language_code") or ""
    if language and not (len(language) == 2 and language.isalpha() and language.islower()):
        raise bad_request("invalid language code specified")
    return json.dumps(scope, sort_keys=True), language


def set_my_commands(tg: FakeTelegram, args: dict[str, Any]) -> bool:
    commands = args["commands"]
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    for c in commands:
        name = c["command"]
        if not (1 <= len(name) <= 32 and all(ch.isdigit() or ch == "_" or "a" <= ch <= "z" for ch in name)):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(c["description"]) <= 256:
            raise bad_request("command description must be non-empty")
    tg.commands[_commands_key(args)] = [{"command": c["command"], "description": c["description"]} for c in commands]
    return True


def get_my_commands(tg: FakeTelegram, args: dict[str, Any]) -> list[dict[str, str]]:
    return tg.commands.get(_commands_key(args), [])


def delete_my_commands(tg: FakeTelegram, args: dict[str, Any]) -> bool:
    tg.commands.pop(_commands_key(args), None)
    return True


def set_chat_menu_button(tg: FakeTelegram, args: dict[str, Any]) -> bool:
    tg.menu_buttons[args.get("chat_id")] = args.get("menu_button") or {"type": "default"}
    return True


def get_chat_menu_button(tg: FakeTelegram, args: dict[str, Any]) -> dict[str, Any]:
    return tg.menu_buttons.get(args.get("chat_id"), tg.menu_buttons.get(None, {"type": "default"}))


def send_chat_action(tg: FakeTelegram, args: dict[str, Any]) -> bool:
    if args["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    user = resolve_chat(tg, args["chat_id"])
    tg.chat_actions.append((user.id, args["action"]))
    return True


def get_chat(tg: FakeTelegram, args: dict[str, Any]) -> dict[str, Any]:
    user = tg.users.get(args["chat_id"]) if isinstance(args["chat_id"], int) else None
    if user is None:
        raise bad_request("chat not found")
    return dict(user.chat(), accent_color_id=0, max_reaction_count=11,
                accepted_gift_types={"unlimited_gifts": True, "limited_gifts": True, "unique_gifts": True,
                                     "premium_subscription": True, "gifts_from_channels": True})


METHODS = {
    "sendmessage": send_message, "senddocument": send_document, "sendphoto": send_photo,
    "editmessagetext": edit_message_text, "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message, "answercallbackquery": answer_callback_query, "getfile": get_file,
    "setmycommands": set_my_commands, "getmycommands": get_my_commands, "deletemycommands": delete_my_commands,
    "setchatmenubutton": set_chat_menu_button, "getchatmenubutton": get_chat_menu_button,
    "sendchataction": send_chat_action, "getchat": get_chat,
}
