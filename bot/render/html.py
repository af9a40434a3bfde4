"""HTML building blocks that keep every message valid for Telegram's parser."""

from __future__ import annotations

import html

#: Telegram's limit on a message's text, counted after entity parsing
MAX_MESSAGE_CHARS = 4096
#: leave room for the note that says what was cut
_CUT_NOTE = "\n\n<i>… {n} more line(s) not shown (message limit)</i>"


def esc(value: object) -> str:
    """Escape any user- or alert-supplied value for Telegram HTML.

    >>> esc("<b>&")
    '&lt;b&gt;&amp;'
    """
    return html.escape(str(value), quote=False)


def bold(value: object) -> str:
    return f"<b>{esc(value)}</b>"


def code(value: object) -> str:
    return f"<code>{esc(value)}</code>"


def visible_length(text: str) -> int:
    """Characters Telegram counts: UTF-16 code units of the text without tags."""
    out, in_tag = [], False
    for char in text:
        if char == "<":
            in_tag = True
        elif char == ">" and in_tag:
            in_tag = False
        elif not in_tag:
            out.append(char)
    return len(html.unescape("".join(out)).encode("utf-16-le")) // 2


def fit_lines(lines: list[str], *, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Join whole lines (each valid HTML on its own) and cut at the limit with a note.

    Lines are never split, so a tag is never left open.

    >>> fit_lines(["a", "b"], limit=100)
    'a\\nb'
    """
    kept: list[str] = []
    for index, line in enumerate(lines):
        candidate = "\n".join([*kept, line])
        note = _CUT_NOTE.format(n=len(lines) - index - 1)
        budget = limit - (visible_length(note) if index < len(lines) - 1 else 0)
        if visible_length(candidate) > budget:
            return "\n".join(kept) + _CUT_NOTE.format(n=len(lines) - index)
        kept.append(line)
    return "\n".join(kept)


def truncate(value: object, limit: int) -> str:
    """Escape a value and cut it to `limit` visible characters with an ellipsis."""
    text = str(value)
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return esc(text)
