"""Durations as people type them, and the one hint they get when it is not one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.alerting.durations import describe, parse_duration
from core.errors import InvalidInputError

HINT = "Give a duration like 30m, 2h or 1d (up to 30d)."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("1w", timedelta(weeks=1)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 2H ", timedelta(hours=2)),
        ("30m30m", timedelta(hours=1)),
        ("30d", timedelta(days=30)),
        ("720h", timedelta(days=30)),
        ("1s", timedelta(seconds=1)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "0m",
        "0s0h",
        "31d",
        "30d1s",
        "43201m",
        "5w",
        "1234567m",
        "garbage",
        "",
        "   ",
        "2 hours",
        "1h 30m",
        "0",
        "90",
        "-1h",
        "1.5h",
        "h",
        "1y",
    ],
)
def test_bad_durations_get_the_hint(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_duration(text)
    assert str(caught.value) == HINT


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=1), "1d"),
        (timedelta(days=2, seconds=5), "2d5s"),
        (timedelta(0), "0s"),
    ],
)
def test_describe(delta: timedelta, text: str) -> None:
    assert describe(delta) == text


@pytest.mark.parametrize("text", ["30m", "1h30m", "1d2h", "29d23h59m59s"])
def test_describe_says_back_what_parses(text: str) -> None:
    assert describe(parse_duration(text)) == text
