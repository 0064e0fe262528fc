"""Block Kit limits, checked as Slack checks ``blocks`` (answer: ``invalid_blocks`` with reasons).

Limits copied from Slack's Block Kit reference (docs.slack.dev/reference/block-kit):
50 blocks in a message, 100 in a modal; block_id up to 255 characters and unique; section
text up to 3,000 characters and up to 10 fields of 2,000; header text 150 (plain_text
only); context up to 10 elements; actions up to 25 elements; button text 75 (plain_text
only), action_id 255 and unique within its block, value 2,000, url 3,000, style primary or
danger; select placeholder 150, up to 100 options of text 75 and value 150; overflow 1 to 5
options; checkboxes and radio buttons up to 10 options; a text object is ``plain_text`` or
``mrkdwn`` with at least one character; image alt_text 2,000 and image_url 3,000.

Each problem is phrased as Slack phrases it in ``response_metadata.messages``:
``[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]``.
"""

from __future__ import annotations

from typing import Any

BLOCK_TYPES = {"section", "divider", "image", "actions", "context", "header", "input", "rich_text", "video",
               "file", "markdown", "table", "context_actions"}
SELECTS = {"static_select", "external_select", "users_select", "conversations_select", "channels_select",
           "multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select",
           "multi_channels_select"}
ELEMENTS = SELECTS | {"button", "overflow", "datepicker", "datetimepicker", "timepicker", "checkboxes",
                      "radio_buttons", "plain_text_input", "image", "email_text_input", "url_text_input",
                      "number_input", "rich_text_input", "file_input", "workflow_button", "feedback_buttons",
                      "icon_button"}


class _Check:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def length(self, value: Any, limit: int, pointer: str, required: bool = False) -> None:
        if value is None:
            if required:
                self.fail("must provide a string", pointer)
            return
        if not isinstance(value, str):
            self.fail("must provide a string", pointer)
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)
        elif required and not value:
            self.fail("must be more than 0 characters", pointer)

    def text(self, obj: Any, limit: int, pointer: str, *, plain_only: bool = False, required: bool = True) -> None:
        if obj is None:
            if required:
                self.fail("must provide an object", pointer)
            return
        if not isinstance(obj, dict):
            self.fail("must provide an object", pointer)
            return
        kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.fail(f"must be one of {', '.join(kinds)}", pointer + "/type")
        self.length(obj.get("text"), limit, pointer + "/text", required=True)

    def items(self, value: Any, limit: int, pointer: str, minimum: int = 0) -> list:
        if value is None:
            value = []
        if not isinstance(value, list):
            self.fail("must provide an array", pointer)
            return []
        if len(value) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        if len(value) < minimum:
            self.fail(f"must provide at least {minimum} items", pointer)
        return value

    def options(self, options: Any, limit: int, pointer: str, minimum: int = 1) -> None:
        for i, option in enumerate(self.items(options, limit, pointer, minimum)):
            p = f"{pointer}/{i}"
            self.text((option or {}).get("text"), 75, p + "/text")
            self.length((option or {}).get("value"), 150, p + "/value")
            self.text((option or {}).get("description"), 75, p + "/description", required=False)

    def confirm(self, obj: Any, pointer: str) -> None:
        if obj is None:
            return
        self.text(obj.get("title"), 100, pointer + "/title", plain_only=True)
        self.text(obj.get("text"), 300, pointer + "/text")
        self.text(obj.get("confirm"), 30, pointer + "/confirm", plain_only=True)
        self.text(obj.get("deny"), 30, pointer + "/deny", plain_only=True)

    def element(self, el: Any, pointer: str, action_ids: set[str]) -> None:
        if not isinstance(el, dict) or el.get("type") not in ELEMENTS:
            self.fail(f"unsupported type: {el.get('type') if isinstance(el, dict) else el!r}", pointer + "/type")
            return
        kind = el["type"]
        action_id = el.get("action_id")
        if action_id is not None:
            self.length(action_id, 255, pointer + "/action_id")
            if action_id in action_ids:
                self.fail(f"non-unique action_id: {action_id!r}", pointer + "/action_id")
            action_ids.add(action_id)
        if kind == "button":
            self.text(el.get("text"), 75, pointer + "/text", plain_only=True)
            self.length(el.get("value"), 2000, pointer + "/value")
            self.length(el.get("url"), 3000, pointer + "/url")
            self.length(el.get("accessibility_label"), 75, pointer + "/accessibility_label")
            if el.get("style") not in (None, "primary", "danger"):
                self.fail("must be one of primary, danger", pointer + "/style")
        elif kind in SELECTS or kind in ("datepicker", "timepicker", "plain_text_input"):
            self.text(el.get("placeholder"), 150, pointer + "/placeholder", plain_only=True, required=False)
            if kind in ("static_select", "multi_static_select") and "option_groups" not in el:
                self.options(el.get("options"), 100, pointer + "/options")
        elif kind == "overflow":
            self.options(el.get("options"), 5, pointer + "/options")
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(el.get("options"), 10, pointer + "/options")
        elif kind == "image":
            self.length(el.get("alt_text"), 2000, pointer + "/alt_text", required=True)
        self.confirm(el.get("confirm"), pointer + "/confirm")

    def block(self, block: Any, pointer: str, block_ids: set[str]) -> None:
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            kind = block.get("type") if isinstance(block, dict) else block
            self.fail(f"unsupported type: {kind!r}", pointer + "/type")
            return
        kind = block["type"]
        if "block_id" in block:
            self.length(block["block_id"], 255, pointer + "/block_id")
            if block["block_id"] in block_ids:
                self.fail(f"duplicate block_id: {block['block_id']!r}", pointer + "/block_id")
            block_ids.add(block["block_id"])
        action_ids: set[str] = set()
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail("must provide either text or fields", pointer)
            self.text(block.get("text"), 3000, pointer + "/text", required=False)
            for i, f in enumerate(self.items(block.get("fields"), 10, pointer + "/fields")):
                self.text(f, 2000, f"{pointer}/fields/{i}")
            if "accessory" in block:
                self.element(block["accessory"], pointer + "/accessory", action_ids)
        elif kind == "header":
            self.text(block.get("text"), 150, pointer + "/text", plain_only=True)
        elif kind == "context":
            for i, el in enumerate(self.items(block.get("elements"), 10, pointer + "/elements", 1)):
                if isinstance(el, dict) and el.get("type") == "image":
                    self.length(el.get("alt_text"), 2000, f"{pointer}/elements/{i}/alt_text", required=True)
                else:
                    self.text(el, 3000, f"{pointer}/elements/{i}")
        elif kind == "actions":
            for i, el in enumerate(self.items(block.get("elements"), 25, pointer + "/elements", 1)):
                self.element(el, f"{pointer}/elements/{i}", action_ids)
        elif kind == "image":
            self.length(block.get("image_url"), 3000, pointer + "/image_url", required="slack_file" not in block)
            self.length(block.get("alt_text"), 2000, pointer + "/alt_text", required=True)
            self.text(block.get("title"), 2000, pointer + "/title", plain_only=True, required=False)
        elif kind == "markdown":
            self.length(block.get("text"), 12000, pointer + "/text", required=True)
        elif kind == "input":
            self.text(block.get("label"), 2000, pointer + "/label", plain_only=True)
            self.element(block.get("element"), pointer + "/element", action_ids)


def block_errors(blocks: Any, *, limit: int = 50) -> list[str]:
    """Slack's ``[ERROR] ...`` lines for ``blocks`` (a decoded JSON value); empty when valid."""
    check = _Check()
    block_ids: set[str] = set()
    for i, block in enumerate(check.items(blocks, limit, "/blocks")):
        check.block(block, f"/blocks/{i}", block_ids)
    return check.errors
