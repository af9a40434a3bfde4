"""Telegram's HTML parse mode, checked the way the Bot API checks it.

Only Telegram's tags are allowed, every tag must close in order, and `<` and `&`
must be escaped outside tags. Lengths are counted after parsing, in UTF-16 code
units, as Telegram counts them.
"""

from __future__ import annotations

import html
import re

ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=\"[^\"]*\"|='[^']*'|=[^\s>]+)?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z-]+)(?:=(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's wording."""


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units.

    >>> utf16_length("ab🔥")
    4
    """
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """Validate Telegram HTML and return the plain text a client would show.

    >>> parse_html("<b>x &lt; y</b>")
    'x < y'
    """
    plain: list[str] = []
    stack: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            position = _take_tag(text, position, stack)
        elif char == "&":
            match = _ENTITY.match(text, position)
            if match is None:
                raise EntityParseError(
                    "Bad Request: can't parse entities: Character '&' is reserved and must be "
                    f"escaped with the preceding '\\' at byte offset {_offset(text, position)}"
                )
            plain.append(html.unescape(match.group(0)))
            position = match.end()
        else:
            plain.append(char)
            position += 1
    if stack:
        raise EntityParseError(
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1]}"'
        )
    return "".join(plain)


def _offset(text: str, position: int) -> int:
    return len(text[:position].encode("utf-8"))


def _take_tag(text: str, position: int, stack: list[str]) -> int:
    match = _TAG.match(text, position)
    if match is None:
        raise EntityParseError(
            "Bad Request: can't parse entities: Unsupported start tag at byte offset "
            f"{_offset(text, position)}"
        )
    closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
    if name not in ALLOWED_TAGS:
        raise EntityParseError(
            f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" at byte '
            f"offset {_offset(text, position)}"
        )
    if closing:
        if not stack or stack[-1] != name:
            raise EntityParseError(
                f"Bad Request: can't parse entities: Unmatched end tag at byte offset "
                f'{_offset(text, position)}, expected "</{stack[-1] if stack else ""}>", '
                f'found "</{name}>"'
            )
        stack.pop()
    else:
        _check_attributes(name, attrs, text, position)
        stack.append(name)
    return match.end()


def _check_attributes(name: str, attrs: str, text: str, position: int) -> None:
    values = {key.lower(): (value or "").strip("\"'") for key, value in _ATTR.findall(attrs or "")}
    if name == "a":
        href = values.get("href", "")
        if not href.startswith(("http://", "https://", "tg://", "mailto:")):
            raise EntityParseError(
                f"Bad Request: can't parse entities: Wrong HTTP URL at byte offset "
                f"{_offset(text, position)}"
            )
    if name == "span" and values.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Bad Request: can\'t parse entities: Unsupported start tag "span" at byte offset '
            f"{_offset(text, position)}"
        )
