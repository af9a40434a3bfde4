"""HTML building blocks that keep every message valid for Telegram's parser.

Every user- or alert-supplied string goes through `esc` or `truncate`, which
also drop the invisible characters that reorder or hide text (bidi controls,
zero-width characters): a right-to-left override inside an alert must not
reverse the rest of a card line, nor a zero-width space make two names look
the same.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

#: Telegram's limit on a message's text, counted after entity parsing
MAX_MESSAGE_CHARS = 4096
#: leave room for the note that says what was cut
_CUT_NOTE = "\n\n<i>… {n} more line(s) not shown (message limit)</i>"

#: bidi embeddings/overrides, isolates, marks, and the Arabic letter mark
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
#: zero-width space, non-joiner, joiner, word joiner, byte-order mark
ZERO_WIDTH = frozenset(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
INVISIBLE = BIDI_CONTROLS | ZERO_WIDTH
_DROP_INVISIBLE = str.maketrans(dict.fromkeys(INVISIBLE))
#: a value `literal` shows without quotes: nothing in it could be misread
PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._/:@+-]+")
_CONTROL_NAMES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: longer links are left out: nobody reads them and clients refuse some
MAX_URL_CHARS = 2048


def neutral(value: object) -> str:
    """The value as text without the characters that reorder or hide what follows.

    >>> neutral("abc\\u202edef\\u200b")
    'abcdef'
    """
    return str(value).translate(_DROP_INVISIBLE)


def esc(value: object) -> str:
    """Escape any user- or alert-supplied value for Telegram HTML.

    >>> esc("<b>&")
    '&lt;b&gt;&amp;'
    """
    return html.escape(neutral(value), quote=False)


def bold(value: object) -> str:
    return f"<b>{esc(value)}</b>"


def code(value: object) -> str:
    return f"<code>{esc(value)}</code>"


def utf16_units(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


#: a tag, or a `<` left open to the end of the text (which hides the rest too)
_TAG = re.compile(r"<[^>]*(?:>|$)")


def visible_length(text: str) -> int:
    """Characters Telegram counts: UTF-16 code units of the text without tags.

    >>> visible_length("<b>a &amp; b</b>")
    5
    """
    return utf16_units(html.unescape(_TAG.sub("", text)))


def fit_lines(lines: list[str], *, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Join whole lines (each valid HTML on its own) and cut at the limit with a note.

    Lines are never split, so a tag is never left open.

    >>> fit_lines(["a", "b"], limit=100)
    'a\\nb'
    """
    # Each line is measured once: a card is re-rendered on every change in a storm,
    # and measuring every prefix made that quadratic in its lines. Whole valid lines
    # joined by newlines measure as their sum plus the newlines.
    joined = -1
    for index, line in enumerate(lines):
        joined += 1 + visible_length(line)
        rest = len(lines) - index - 1
        budget = limit - (visible_length(_CUT_NOTE.format(n=rest)) if rest else 0)
        if joined > budget:
            return "\n".join(lines[:index]) + _CUT_NOTE.format(n=rest + 1)
    return "\n".join(lines)


def pack_blocks(blocks: Iterable[Sequence[str]], *, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Whole lines into as few messages as needed, each at most `limit` visible characters.

    A block (lines that belong together) starts a new message rather than
    straddle two, unless it is longer than a message on its own. Every line is
    valid HTML by itself, so every message is too.

    >>> pack_blocks([["a", "b"], ["c"]], limit=4)
    ['a\\nb', 'c']
    """
    messages: list[list[str]] = []
    used = 0
    for block in blocks:
        sizes = [visible_length(line) for line in block]
        if any(size > limit for size in sizes):
            raise ValueError(f"a line of {max(sizes)} characters cannot fit a message")
        whole = sum(sizes) + len(sizes) - 1
        if messages and used + 1 + whole > limit and whole <= limit:
            messages.append([])
            used = -1
        for line, size in zip(block, sizes, strict=True):
            if not messages or used + 1 + size > limit:
                messages.append([])
                used = -1
            messages[-1].append(line)
            used += 1 + size
    return ["\n".join(lines) for lines in messages if lines]


def pieces(value: object, size: int) -> list[str]:
    """Escaped parts of a long text, each at most `size` visible characters; cut at a line end
    when one is near, so a long annotation can span several messages.

    >>> pieces("abc\\nd&ef", 5)
    ['abc', 'd&amp;ef']
    """
    text = neutral(value)
    parts: list[str] = []
    while utf16_units(text) > size:
        cut = _cut_at(text, size)
        parts.append(text[:cut].rstrip("\n"))
        text = text[cut:].lstrip("\n")
    if text or not parts:
        parts.append(text)
    return [html.escape(part, quote=False) for part in parts]


def _cut_at(text: str, size: int) -> int:
    """The longest prefix of `text` within `size` UTF-16 units, ending at a newline if any."""
    end, units = 0, 0
    while end < len(text) and units + utf16_units(text[end]) <= size:
        units += utf16_units(text[end])
        end += 1
    newline = text.rfind("\n", 0, end)
    return newline + 1 if newline > end // 2 else max(end, 1)


def link(url: str | None, label: str) -> str | None:
    """`<a href>` for a web link (http or https, with a host), else None.

    A URL with spaces, control or invisible characters is refused rather than
    changed: an altered link would lead somewhere else.

    >>> link("https://grafana.example/d/1?a=1&b=2", "Dashboard")
    '<a href="https://grafana.example/d/1?a=1&amp;b=2">Dashboard</a>'
    >>> link("javascript:alert(1)", "x") is None
    True
    """
    if not url or len(url) > MAX_URL_CHARS:
        return None
    if any(char.isspace() or not char.isprintable() or char in INVISIBLE for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    # the same address; Telegram takes the scheme in lower case only
    url = scheme + url[len(parts.scheme) :]
    return f'<a href="{html.escape(url, quote=True)}">{esc(label)}</a>'


def truncate(value: object, limit: int) -> str:
    """Escape a value and cut it to `limit` visible characters with an ellipsis."""
    text = neutral(value)
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return html.escape(text, quote=False)


def literal(value: str, limit: int) -> str:
    """A value shown exactly (a command's argument, as an approver must see it): bare when
    it is a plain token, else quoted with every quote, backslash, line break and invisible
    character spelled out, so it can neither pose as more arguments nor hide a character.
    Escaped HTML, cut to `limit` visible characters.

    >>> literal("api-1", 20), literal("a, ns=kube-system", 30)
    ('api-1', '"a, ns=kube-system"')
    >>> print(literal('x\\u202e\\n"', 20))
    "x\\u202e\\n\\""
    """
    return truncate(spelled_out(value), limit)


def spelled_out(value: str) -> str:
    """`literal` before escaping and cutting: its length says whether `literal` cuts."""
    if PLAIN_TOKEN.fullmatch(value):
        return value
    return '"' + "".join(_spelled(char) for char in value) + '"'


def _spelled(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char == " " or (char.isprintable() and char not in INVISIBLE):
        return char
    if char in _CONTROL_NAMES:
        return _CONTROL_NAMES[char]
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
