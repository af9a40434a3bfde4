"""The emulator checks HTML the way Telegram does; the renderer's helpers stay within it."""

from __future__ import annotations

import pytest

from bot.playground.telegram_html import EntityParseError, parse_html, utf16_length
from bot.render.html import MAX_MESSAGE_CHARS, esc, fit_lines, visible_length


@pytest.mark.parametrize(
    ("source", "plain"),
    [
        ("<b>bold</b> &amp; <i>it</i>", "bold & it"),
        ('<a href="https://x.example/a?b=1&amp;c=2">link</a>', "link"),
        ("<pre><code>x &lt; 1</code></pre>", "x < 1"),
        ('<span class="tg-spoiler">s</span>', "s"),
        ("a > b", "a > b"),
    ],
)
def test_valid(source: str, plain: str) -> None:
    assert parse_html(source) == plain


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("AT&T", "Character '&' is reserved"),
        ("1 < 2", "Unsupported start tag"),
        ('<a href="javascript:alert(1)">x</a>', "Wrong HTTP URL"),
    ],
)
def test_invalid(source: str, reason: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_html(source)
    assert reason in str(raised.value)
    assert str(raised.value).startswith("Bad Request: can't parse entities")


def test_escaped_hostile_text_is_valid() -> None:
    hostile = '<script>alert("x")</script> & <b>'
    assert parse_html(f"<b>{esc(hostile)}</b>") == hostile


def test_fit_lines_cuts_whole_lines_with_a_note() -> None:
    lines = [f"<b>line {n}</b> " + "x" * 90 for n in range(200)]
    text = fit_lines(lines)
    plain = parse_html(text)
    assert utf16_length(plain) <= MAX_MESSAGE_CHARS
    assert "more line(s) not shown" in plain
    assert visible_length(text) == utf16_length(plain)


def test_fit_lines_counts_emoji_as_telegram_does() -> None:
    lines = ["🔥" * 100 for _ in range(30)]  # 200 UTF-16 units a line
    assert utf16_length(parse_html(fit_lines(lines))) <= MAX_MESSAGE_CHARS
