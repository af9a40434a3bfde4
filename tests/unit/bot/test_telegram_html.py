"""Telegram HTML as the emulator checks it; render helpers stay within it, invisibles out."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.playground.telegram_html import EntityParseError, parse_html, utf16_length
from bot.render.html import (
    BIDI_CONTROLS,
    INVISIBLE,
    MAX_MESSAGE_CHARS,
    ZERO_WIDTH,
    esc,
    fit_lines,
    link,
    literal,
    pack_blocks,
    pieces,
    truncate,
    visible_length,
)


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


# --- invisible characters: nothing supplied by a sender or a person may reorder a line ---

#: every character the brief names, listed by hand so the sets cannot drift unnoticed
NAMED = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
NAMED_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
#: text that leans on the dangerous characters: them, HTML's own, letters of both directions,
#: and any character at all (drawn as separate choices: a merged alphabet would make the
#: dangerous ones as rare as any other code point)
hostile_text = st.lists(
    st.sampled_from(NAMED + NAMED_ZERO_WIDTH)
    | st.sampled_from("<>&\"' ab\u05d0\u0627🔥\n")
    | st.characters(codec="utf-8"),
    max_size=80,
).map("".join)


#: the same examples on every run, and no time limit on a busy machine
same_examples = settings(derandomize=True, deadline=None, max_examples=150)


def test_the_sets_hold_exactly_the_named_characters() -> None:
    assert set(NAMED) == BIDI_CONTROLS
    assert set(NAMED_ZERO_WIDTH) == ZERO_WIDTH
    assert INVISIBLE == BIDI_CONTROLS | ZERO_WIDTH


def test_a_right_to_left_override_does_not_reach_the_card() -> None:
    assert esc("pod=\u202egnp.exe <b>") == "pod=gnp.exe &lt;b&gt;"
    assert truncate("ad\u200bmin\u2066x\u2069", 4) == "adm…"


@same_examples
@given(hostile_text)
def test_esc_leaves_no_invisible_character_and_is_valid_telegram_html(text: str) -> None:
    escaped = esc(text)
    assert not INVISIBLE & set(escaped)
    expected = "".join(c for c in text if c not in INVISIBLE)
    assert parse_html(f"<b>{escaped}</b>") == expected
    assert visible_length(escaped) == utf16_length(expected)


@same_examples
@given(hostile_text, st.integers(min_value=1, max_value=50))
def test_truncate_leaves_no_invisible_character_and_stays_within_its_limit(
    text: str, limit: int
) -> None:
    cut = truncate(text, limit)
    assert not INVISIBLE & set(cut)
    assert len(parse_html(f"<i>{cut}</i>")) <= limit


@same_examples
@given(hostile_text, st.integers(min_value=2, max_value=40))
def test_pieces_keep_every_visible_character_within_the_size(text: str, size: int) -> None:
    parts = pieces(text, size)
    plain = [parse_html(part) for part in parts]
    assert all(utf16_length(p) <= size for p in plain)
    assert not INVISIBLE & set("".join(parts))
    visible = "".join(c for c in text if c not in INVISIBLE)
    assert "".join(plain).replace("\n", "") == visible.replace("\n", "")


@same_examples
@given(
    st.lists(
        st.lists(st.text(alphabet="ab <&🔥", max_size=140).map(esc), min_size=1, max_size=4),
        max_size=12,
    )
)
def test_packed_messages_are_valid_and_within_the_limit(blocks: list[list[str]]) -> None:
    lines = [f"<b>{line}</b>" for block in blocks for line in block]
    messages = pack_blocks([[f"<b>{line}</b>" for line in block] for block in blocks], limit=300)
    for message in messages:
        assert utf16_length(parse_html(message)) <= 300
    assert "\n".join(messages).split("\n") == "\n".join(lines).split("\n")


def test_a_block_starts_a_new_message_rather_than_straddle_two() -> None:
    assert pack_blocks([["a" * 5], ["b" * 3, "c" * 3]], limit=8) == ["aaaaa", "bbb\nccc"]
    assert pack_blocks([["a" * 5, "b" * 5]], limit=8) == ["aaaaa", "bbbbb"]


def test_a_line_longer_than_a_message_is_refused() -> None:
    with pytest.raises(ValueError, match="a line of 9 characters cannot fit a message"):
        pack_blocks([["x" * 9]], limit=8)


@pytest.mark.parametrize(
    ("url", "anchor"),
    [
        (
            'https://x.example/a?b=1&c="2"',
            '<a href="https://x.example/a?b=1&amp;c=&quot;2&quot;">L</a>',
        ),
        ("HTTP://X.EXAMPLE/A", '<a href="http://X.EXAMPLE/A">L</a>'),
        ("javascript:alert(1)", None),
        ("https://x.example/\u202e", None),
        ("https://x.example/a b", None),
        ("https://x.example/\x07", None),
        ("https:///nohost", None),
        ("https://x.example/" + "a" * 2100, None),
        ("", None),
    ],
)
def test_link(url: str, anchor: str | None) -> None:
    assert link(url, "L") == anchor
    if anchor:
        parse_html(anchor)


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_literal_shows_a_value_exactly_on_one_line(value: str) -> None:
    """Valid HTML, nothing invisible or line-breaking, and it reads back as the value."""
    shown = parse_html(literal(value, 1000))
    assert not any(char in INVISIBLE or not char.isprintable() for char in shown)
    # the spelling is Python's: quotes, backslashes and the rest escaped, so it is unambiguous
    read = shown if not shown.startswith('"') else ast.literal_eval(shown)
    assert read == value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("api-1", "api-1"),
        ("", '""'),
        ("a, b=c", '"a, b=c"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("x\u202e\u200b\n\t", '"x\\u202e\\u200b\\n\\t"'),
        ("服務", '"服務"'),
    ],
)
def test_literal_quotes_what_is_not_a_plain_token(value: str, shown: str) -> None:
    assert parse_html(literal(value, 100)) == shown


def _fits(text: str, limit: int) -> bool:
    return utf16_length(parse_html(text)) <= limit


@same_examples
@given(
    st.lists(hostile_text.map(lambda t: f"<b>{esc(t)}</b> {esc(t[::-1])}"), max_size=30),
    st.integers(min_value=60, max_value=900),
)
def test_fit_lines_keeps_the_longest_prefix_that_fits_beside_its_note(
    lines: list[str], limit: int
) -> None:
    text = fit_lines(lines, limit=limit)
    assert _fits(text, limit)
    cut = "\n\n<i>… {n} more line(s) not shown (message limit)</i>"
    [kept] = [
        k
        for k in range(len(lines) + 1)
        if text == "\n".join(lines[:k]) + (cut.format(n=len(lines) - k) if k < len(lines) else "")
    ]
    if kept < len(lines):  # one more line would not have fitted beside the note it leaves
        rest = len(lines) - kept - 1
        longer = "\n".join(lines[: kept + 1]) + (cut.format(n=rest) if rest else "")
        assert not _fits(longer, limit)
