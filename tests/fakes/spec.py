"""The official API descriptions as tables the fakes validate every call against.

Sources (copied verbatim, gzipped, in ``specs/``; see ``specs/SOURCES.md``):
- ``telegram-bot-api.json``: Bot API 10.1 methods and types, with each parameter's
  types and required flag (PaulSonOfLars/telegram-bot-api-spec, scraped from core.telegram.org).
- ``slack-web-api.json``: Slack's own OpenAPI 2.0 description of the Web API (2020).

Slack archived that description in 2020; ``SLACK_OVERLAY`` below is HAND-WRITTEN (not from
the spec) for what came later or what the 2020 file marks optional although the live API
refuses a call without it. Everything in it says where it comes from.

Telegram coercion copies the Bot API server (tdlib/telegram-bot-api): every argument arrives
as a string (query, form field, or a JSON body whose values it re-serialises), objects and
arrays are JSON inside that string, and a file is a multipart part or ``attach://<name>``.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SPECS = Path(__file__).resolve().parent / "specs"


class SpecError(Exception):
    """A call the real API would refuse; ``str()`` is the description after "Bad Request: "."""


@cache
def _load(name: str) -> dict[str, Any]:
    with gzip.open(SPECS / f"{name}.json.gz", "rt", encoding="utf-8") as fh:
        return json.load(fh)


# ------------------------------------------------------------------------------- Telegram
@dataclass(frozen=True)
class UploadedFile:
    """A multipart part: what the bot uploaded."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class TelegramMethod:
    name: str
    fields: dict[str, tuple[list[str], bool]]  # name -> (types, required)


@cache
def telegram_methods() -> dict[str, TelegramMethod]:
    """Method name (lower case: the server matches names without regard to case) -> description."""
    out = {}
    for name, method in _load("telegram-bot-api")["methods"].items():
        fields = {f["name"]: (f["types"], f["required"]) for f in method.get("fields", [])}
        out[name.lower()] = TelegramMethod(name, fields)
    return out


def telegram_types() -> dict[str, Any]:
    return _load("telegram-bot-api")["types"]


# What the server calls each JSON-typed argument in its "can't parse ... JSON object" errors.
_JSON_NAMES = {
    "reply_markup": "reply keyboard markup",
    "reply_parameters": "reply parameters",
    "link_preview_options": "link preview options",
    "scope": "BotCommandScope",
    "menu_button": "MenuButton",
}
_INT = re.compile(r"-?\d+")


def coerce_telegram_args(
    method: TelegramMethod, raw: dict[str, str], files: dict[str, UploadedFile]
) -> dict[str, Any]:
    """Check ``raw`` string arguments against the method's table and return typed values.

    Raises SpecError for a missing required argument or a value that is not of any of the
    argument's types. Arguments the table does not know are ignored, as the server does.
    """
    args: dict[str, Any] = {}
    for name, (types, required) in method.fields.items():
        if name in files and "InputFile" in types:
            args[name] = files[name]
            continue
        value = raw.get(name)
        if value is None or (value == "" and required):
            if required:
                raise SpecError(_missing_message(name))
            continue
        args[name] = _coerce(name, value, types, files)
    return args


def _missing_message(name: str) -> str:
    # The server's own words for the arguments a bot like ours sends; the rest use one form.
    known = {"chat_id": "chat_id is empty", "text": "message text is empty",
             "message_id": "message identifier is not specified", "file_id": "file_id not specified",
             "callback_query_id": "QUERY_ID_INVALID", "url": "bad webhook: URL must be provided"}
    return known.get(name, f'parameter "{name}" is required')


def _coerce(name: str, value: str, types: list[str], files: dict[str, UploadedFile]) -> Any:
    if "InputFile" in types and value.startswith("attach://"):
        part = value.removeprefix("attach://")
        if part not in files:
            raise SpecError(f'file "{part}" must be uploaded as a part of the multipart request')
        return files[part]
    if types == ["Integer", "String"] or types == ["String", "Integer"]:
        return int(value) if _INT.fullmatch(value) else value
    scalar = [t for t in types if t in ("Integer", "Float", "String", "Boolean", "True", "InputFile")]
    if scalar and len(scalar) == len(types):
        return _scalar(name, value, scalar)
    # Objects and arrays: JSON inside the string.
    try:
        decoded = json.loads(value)
    except ValueError:
        if "String" in types:
            return value
        raise SpecError(f"can't parse {_JSON_NAMES.get(name, name)} JSON object") from None
    errors = []
    for type_name in types:
        if type_name in ("String", "InputFile"):
            continue
        try:
            check_value(decoded, type_name, name)
            return decoded
        except SpecError as exc:
            errors.append(str(exc))
    if "String" in types:
        return value
    raise SpecError(errors[0] if len(errors) == 1 else f"can't parse {_JSON_NAMES.get(name, name)}: {errors[0]}")


def _scalar(name: str, value: str, types: list[str]) -> Any:
    if "String" in types or "InputFile" in types:
        return value
    if "Integer" in types and _INT.fullmatch(value):
        return int(value)
    if "Float" in types:
        try:
            return float(value)
        except ValueError:
            pass
    if ("Boolean" in types or "True" in types) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise SpecError(f'field "{name}" must be of type {" or ".join(types)}')


def check_value(value: Any, type_name: str, path: str) -> None:
    """Check a decoded JSON value against a type name of the table ("Array of X", "Integer", an object)."""
    if type_name.startswith("Array of "):
        if not isinstance(value, list):
            raise SpecError(f'field "{path}" must be of type Array')
        for i, item in enumerate(value):
            check_value(item, type_name.removeprefix("Array of "), f"{path}[{i}]")
        return
    simple = {"Integer": int, "String": str, "Float": (int, float), "Boolean": bool, "True": bool}
    if type_name in simple:
        ok = isinstance(value, simple[type_name]) and not (type_name == "Integer" and isinstance(value, bool))
        if not ok:
            raise SpecError(f'field "{path}" must be of type {type_name}')
        return
    spec = telegram_types().get(type_name)
    if spec is None:
        return  # a type the table does not describe: accept, as nothing can be checked
    if "subtypes" in spec:
        errors = []
        for sub in spec["subtypes"]:
            try:
                return check_value(value, sub, path)
            except SpecError as exc:
                errors.append(str(exc))
        raise SpecError(errors[0])
    if not isinstance(value, dict):
        raise SpecError(f'object expected as {path}')
    for field in spec.get("fields", []):
        fname, ftypes = field["name"], field["types"]
        if fname not in value:
            if field["required"]:
                raise SpecError(f'field "{fname}" of {path} is missing')
            continue
        errors = []
        for ftype in ftypes:
            try:
                check_value(value[fname], ftype, f"{path}.{fname}")
                break
            except SpecError as exc:
                errors.append(str(exc))
        else:
            raise SpecError(errors[0])


# ------------------------------------------------------------------------------- Slack
@dataclass(frozen=True)
class SlackArg:
    name: str
    type: str  # string | boolean | integer | number
    required: bool


# HAND-WRITTEN OVERLAY, not from slack-web-api.json. Each entry names its source.
SLACK_OVERLAY: dict[str, list[SlackArg]] = {
    # docs.slack.dev/reference/methods/files.getUploadURLExternal (2023): filename and length required.
    "files.getUploadURLExternal": [SlackArg("filename", "string", True), SlackArg("length", "integer", True),
                                   SlackArg("alt_txt", "string", False), SlackArg("snippet_type", "string", False)],
    # docs.slack.dev/reference/methods/files.completeUploadExternal (2023): files is a JSON array of {id, title}.
    "files.completeUploadExternal": [
        SlackArg("files", "string", True), SlackArg("channel_id", "string", False),
        SlackArg("channels", "string", False), SlackArg("initial_comment", "string", False),
        SlackArg("thread_ts", "string", False), SlackArg("blocks", "string", False)],
    # docs.slack.dev/reference/methods/apps.connections.open (2020-11, Socket Mode): app-level token only.
    "apps.connections.open": [],
}
# Arguments the 2020 file marks optional that the live API needs (its docs list them as Required).
SLACK_REQUIRED_OVERLAY: dict[str, tuple[str, ...]] = {
    "conversations.history": ("channel",),
    "conversations.replies": ("channel", "ts"),
    "conversations.info": ("channel",),
    "users.info": ("user",),
}
# Arguments added after 2020 to methods the file has (docs.slack.dev), so they are not "unknown".
SLACK_ARG_OVERLAY: dict[str, list[SlackArg]] = {
    "chat.postMessage": [SlackArg("metadata", "string", False), SlackArg("markdown_text", "string", False)],
    "chat.update": [SlackArg("metadata", "string", False), SlackArg("markdown_text", "string", False),
                    SlackArg("reply_broadcast", "boolean", False)],
    "chat.postEphemeral": [SlackArg("markdown_text", "string", False)],
    "conversations.replies": [SlackArg("include_all_metadata", "boolean", False)],
    "conversations.history": [SlackArg("include_all_metadata", "boolean", False)],
}


@cache
def slack_methods() -> dict[str, dict[str, SlackArg]]:
    """Method name -> argument name -> SlackArg (without ``token``, which is checked apart)."""
    out: dict[str, dict[str, SlackArg]] = {}
    for path, ops in _load("slack-web-api")["paths"].items():
        args: dict[str, SlackArg] = {}
        for op in ops.values():
            for p in op.get("parameters", []):
                if p["name"] != "token":
                    args[p["name"]] = SlackArg(p["name"], p.get("type", "string"), bool(p.get("required")))
        out[path.lstrip("/")] = args
    for method, extra in SLACK_OVERLAY.items():
        out[method] = {a.name: a for a in extra}
    for method, extra in SLACK_ARG_OVERLAY.items():
        out[method].update({a.name: a for a in extra})
    for method, names in SLACK_REQUIRED_OVERLAY.items():
        for n in names:
            out[method][n] = SlackArg(n, out[method][n].type, True)
    return out


def check_slack_args(method: str, args: dict[str, Any]) -> list[str]:
    """The ``[ERROR] ...`` lines Slack puts in ``response_metadata.messages`` (empty: the call is fine).

    Slack answers ``invalid_arguments`` with such lines for a missing required argument or a
    value of the wrong type; it ignores arguments it does not know.
    """
    problems = []
    for arg in slack_methods()[method].values():
        value = args.get(arg.name)
        if value is None or value == "":
            if arg.required:
                problems.append(f"[ERROR] missing required field: {arg.name}")
            continue
        if not _slack_type_ok(value, arg.type):
            problems.append(f"[ERROR] invalid type for field {arg.name}: expected {arg.type}")
    return problems


def _slack_type_ok(value: Any, type_name: str) -> bool:
    if type_name == "boolean":
        return isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0")
    if type_name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or bool(_INT.fullmatch(str(value)))
    if type_name == "number":
        try:
            float(value)
            return not isinstance(value, bool)
        except (TypeError, ValueError):
            return False
    return isinstance(value, str | int | float | list | dict)
