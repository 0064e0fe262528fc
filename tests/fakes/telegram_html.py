"""Telegram's ``parse_mode=HTML``, checked as the Bot API checks it, with the stdlib's HTML parser.

The rules and error texts copy tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp), which
the Bot API server calls; errors come back as
``Bad Request: can't parse entities: <reason> at byte offset N`` (offsets in UTF-8 bytes):

- supported tags only: b strong i em u ins s strike del a code pre blockquote tg-spoiler
  tg-emoji, and span only as ``<span class="tg-spoiler">``; anything else is
  ``Unsupported start tag "x"``; a ``<`` that starts no tag (``a < b``, ``<3``) too;
- every tag closed, in order: ``Unexpected end tag``, ``Unmatched end tag ... expected
  "</b>", found "</i>"``, ``Can't find end tag corresponding to start tag b``;
- entities: ``&lt; &gt; &amp; &quot;`` and numeric references.

One rule is STRICTER than tdlib, on purpose: tdlib keeps an ``&`` that starts no known
entity as a literal character, but the fake refuses it (``strict_ampersand``), because a
bare ``&`` in a message means user text went out unescaped, and the next user's ``<`` will
break the send for real.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

SUPPORTED = {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
             "span", "pre", "code", "blockquote"}
ENTITY_TYPES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
                "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
                "span": "spoiler", "code": "code", "pre": "pre", "a": "text_link", "blockquote": "blockquote",
                "tg-emoji": "custom_emoji"}
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlEntityError(ValueError):
    """``str()`` is what follows "can't parse entities: " in Telegram's answer."""


@dataclass
class ParsedText:
    """The text as the user sees it, and its entities (offsets and lengths in UTF-16 units)."""

    text: str
    entities: list[dict] = field(default_factory=list)


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


class _TelegramHtml(HTMLParser):
    def __init__(self, source: str, strict_ampersand: bool) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.stack: list[tuple[str, int, str]] = []  # (tag, utf16 start, argument)
        self.entities: list[dict] = []
        self._line_starts = [0]
        for i, ch in enumerate(source):
            if ch == "\n":
                self._line_starts.append(i + 1)

    # ---- positions
    def _here(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def _byte_offset(self, char_index: int) -> int:
        return len(self.source[:char_index].encode("utf-8"))

    def _fail(self, message: str) -> None:
        raise HtmlEntityError(message)

    def _utf16_pos(self) -> int:
        return utf16_len("".join(self.out))

    # ---- parser events
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        at = self._byte_offset(self._here())
        raw = self.get_starttag_text() or ""
        if tag not in SUPPORTED:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {at}')
        argument = ""
        for name, value in attrs:
            if value is None and not (tag == "blockquote" and name == "expandable"):
                self._fail(f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {at}')
            if tag == "a" and name == "href":
                argument = value or ""
            elif tag == "span" and name == "class" and (value or "").startswith("tg-"):
                argument = (value or "")[3:]
            elif tag == "tg-emoji" and name == "emoji-id":
                argument = value or ""
        if tag == "span" and argument != "spoiler":
            self._fail(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        if raw.endswith("/>"):
            self._fail(f'Unsupported start tag "{tag}/" at byte offset {at}')
        self.stack.append((tag, self._utf16_pos(), argument))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        at = self._byte_offset(self._here())
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {at}")
        open_tag, start, argument = self.stack[-1]
        if tag != open_tag:
            self._fail(f'Unmatched end tag at byte offset {at}, expected "</{open_tag}>", found "</{tag}>"')
        self.stack.pop()
        if open_tag == "tg-emoji" and not argument.isdigit():
            self._fail("Invalid custom emoji identifier specified")
        length = self._utf16_pos() - start
        if length > 0:
            entity = {"type": ENTITY_TYPES[open_tag], "offset": start, "length": length}
            if open_tag == "a":
                entity["url"] = argument
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        start = self._here()
        for i, ch in enumerate(data):
            if ch == "<":
                self._bare_lt(start + i)
            elif ch == "&" and self.strict_ampersand:
                self._fail(f'Unescaped "&" at byte offset {self._byte_offset(start + i)}: write &amp;')
        self.out.append(data)

    def _bare_lt(self, index: int) -> None:
        # tdlib reads a tag name up to a space or ">"; reaching the end means an unclosed tag.
        rest = self.source[index + 1:]
        name_end = next((j for j, c in enumerate(rest) if c.isspace() or c == ">"), None)
        at = self._byte_offset(index)
        if name_end is None:
            self._fail(f"Unclosed start tag at byte offset {at}")
        self._fail(f'Unsupported start tag "{rest[:name_end].lower()}" at byte offset {at}')

    def handle_entityref(self, name: str) -> None:
        here = self._here()
        terminated = self.source[here + 1 + len(name):][:1] == ";"
        if name in NAMED:
            self.out.append(NAMED[name])
        elif not self.strict_ampersand:
            self.out.append(f"&{name};" if terminated else f"&{name}")
        elif terminated:
            self._fail(f'Unsupported HTML entity "&{name};" at byte offset {self._byte_offset(here)}')
        else:
            self._fail(f'Unescaped "&" at byte offset {self._byte_offset(here)}: write &amp;')

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
            if not 0 < code < 0x10FFFF:
                raise ValueError
            self.out.append(chr(code))
        except ValueError:
            self._fail(f'Unsupported HTML entity "&#{name};" at byte offset {self._byte_offset(self._here())}')

    def handle_comment(self, data: str) -> None:
        self._fail(f'Unsupported start tag "!--" at byte offset {self._byte_offset(self._here())}')

    def handle_decl(self, decl: str) -> None:
        name = decl.split()[0].lower() if decl.split() else ""
        self._fail(f'Unsupported start tag "!{name}" at byte offset {self._byte_offset(self._here())}')

    def unknown_decl(self, data: str) -> None:
        self.handle_decl(data)

    def handle_pi(self, data: str) -> None:
        self._fail(f'Unsupported start tag "?{data.split()[0] if data.split() else ""}" '
                   f"at byte offset {self._byte_offset(self._here())}")


def parse_html(source: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse Telegram HTML into plain text and entities, or raise HtmlEntityError."""
    parser = _TelegramHtml(source, strict_ampersand)
    parser.feed(source)
    # Not parser.close(): at the end of input it silently drops the "&" of "AT&T". What feed()
    # keeps back is an incomplete "<..." or "&..." at the very end; judge it here.
    tail = parser.rawdata
    if tail.startswith("<"):
        parser._bare_lt(len(source) - len(tail))
    elif tail and parser.strict_ampersand:
        raise HtmlEntityError(f'Unescaped "&" at byte offset {len(source[: len(source) - len(tail)].encode())}: '
                              "write &amp;")
    elif tail:
        parser.out.append(tail)
    if parser.stack:
        raise HtmlEntityError(f"Can't find end tag corresponding to start tag {parser.stack[-1][0]}")
    parser.entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(parser.out), parser.entities)
