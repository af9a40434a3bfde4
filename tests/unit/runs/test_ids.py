"""Run ids are RFC 9562 UUIDv7, time-ordered; traceparents are valid W3C headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInputError
from core.runs import new_run_id, uuid7
from core.tracecontext import (
    TraceParent,
    bound_to_run,
    make_traceparent,
    new_traceparent,
    parse_traceparent,
)

T0 = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
)


@given(instants, st.binary(min_size=10, max_size=10))
def test_uuid7_fields(at: datetime, random: bytes) -> None:
    made = uuid7(at, random)
    assert made.version == 7
    assert made.variant == "specified in RFC 4122"
    assert made.int >> 80 == (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert made.int & ((1 << 62) - 1) == int.from_bytes(random[2:], "big") & ((1 << 62) - 1)


@given(instants, instants, st.binary(min_size=10, max_size=10), st.binary(min_size=10, max_size=10))
def test_uuid7_sorts_by_time_to_the_microsecond(
    a: datetime, b: datetime, ra: bytes, rb: bytes
) -> None:
    a, b = sorted((a, b))
    if b - a >= timedelta(microseconds=1):
        assert str(uuid7(a, ra)) < str(uuid7(b, rb)), "text order is time order"


def test_uuid7_known_value_and_bad_input() -> None:
    # 2026-01-01T00:00:00Z is 0x19b76daa800 ms since the epoch
    assert str(uuid7(datetime(2026, 1, 1, tzinfo=UTC), b"\xff" * 10)) == (
        "019b76da-a800-7000-bfff-ffffffffffff"
    )
    with pytest.raises(ValueError, match="10 random bytes"):
        uuid7(T0, bytes(9))
    with pytest.raises(ValueError, match="aware"):
        uuid7(T0.replace(tzinfo=None), bytes(10))


def test_fresh_run_ids_differ_and_follow_the_clock() -> None:
    ids = [new_run_id(T0 + timedelta(microseconds=i)) for i in range(50)]
    assert len(set(ids)) == 50
    assert [str(i) for i in ids] == sorted(str(i) for i in ids)


def test_a_traceparent_is_made_from_its_random_bytes() -> None:
    made = make_traceparent(bytes(range(1, 25)))
    assert str(made) == "00-0102030405060708090a0b0c0d0e0f10-1112131415161718-01"
    assert str(make_traceparent(bytes(range(1, 25)), sampled=False)).endswith("-00")
    with pytest.raises(ValueError, match="24 random bytes"):
        make_traceparent(bytes(23))
    with pytest.raises(ValueError, match="all zeros"):
        make_traceparent(bytes(16) + b"\x01" * 8)


def test_fresh_traceparents_are_valid_and_distinct() -> None:
    made = {str(new_traceparent()) for _ in range(20)}
    assert len(made) == 20
    for header in made:
        assert str(parse_traceparent(header)) == header


@given(st.binary(min_size=24, max_size=24), st.booleans())
def test_parse_is_the_inverse_of_str(random: bytes, sampled: bool) -> None:
    if not any(random[:16]) or not any(random[16:]):
        return
    made = make_traceparent(random, sampled=sampled)
    assert parse_traceparent(str(made)) == made
    assert parse_traceparent(str(made)).sampled is sampled


W3C_EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_spec_example_parses() -> None:
    assert parse_traceparent(W3C_EXAMPLE) == TraceParent(
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1, "00"
    )
    # a later version may append fields; we keep the four we know
    later = parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra")
    assert later.version == "01" and not later.sampled


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("", "expected 00-"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "expected 00-"),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "expected 00-"),
        ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", "expected 00-"),
        ("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", "expected 00-"),
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", "exactly four"),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "trace id is all zeros"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "parent id is all zeros"),
    ],
)
def test_bad_headers_are_refused_saying_why(header: str, why: str) -> None:
    with pytest.raises(InvalidInputError, match=why):
        parse_traceparent(header)


def test_log_lines_of_a_run_carry_its_traceparent() -> None:
    lines: list[str] = []
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.JSONRenderer()],
        logger_factory=lambda *_: _Collect(lines),
        cache_logger_on_first_use=False,
    )
    try:
        log = structlog.get_logger()
        with bound_to_run("0190-run", W3C_EXAMPLE):
            log.info("inside")
        log.info("outside")
    finally:
        structlog.reset_defaults()
    inside, outside = map(json.loads, lines)
    assert inside == {"event": "inside", "run_id": "0190-run", "traceparent": W3C_EXAMPLE}
    assert outside == {"event": "outside"}


class _Collect:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def msg(self, line: str) -> None:
        self.lines.append(line)

    info = msg
