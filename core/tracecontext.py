"""W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/): made, parsed, logged.

Each run gets its own trace (a fresh 16-byte trace id) when it is created;
`bound_to_run` puts it into structlog's context variables, so every log line
written while a worker handles the run carries `run_id` and `traceparent`, and
a provider call made then can forward the same header.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import structlog

from core.errors import InvalidInputError

_HEADER = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
SAMPLED = 0x01


@dataclass(frozen=True)
class TraceParent:
    """The four fields of a `traceparent` header, version 00."""

    trace_id: str
    parent_id: str
    flags: int = SAMPLED
    version: str = "00"

    def __str__(self) -> str:
        return f"{self.version}-{self.trace_id}-{self.parent_id}-{self.flags:02x}"

    @property
    def sampled(self) -> bool:
        return bool(self.flags & SAMPLED)


def make_traceparent(random: bytes, *, sampled: bool = True) -> TraceParent:
    """A traceparent from 24 random bytes (16 for the trace id, 8 for the parent id).

    >>> str(make_traceparent(bytes(range(1, 25))))
    '00-0102030405060708090a0b0c0d0e0f10-1112131415161718-01'
    """
    if len(random) != 24:
        raise ValueError("a traceparent needs 24 random bytes")
    if not any(random[:16]) or not any(random[16:]):
        raise ValueError("trace and parent ids must not be all zeros")
    return TraceParent(random[:16].hex(), random[16:].hex(), SAMPLED if sampled else 0)


def new_traceparent() -> TraceParent:
    """A fresh trace for a new run."""
    while True:  # all-zero ids are invalid; at 2**-64 odds, one more draw
        random = os.urandom(24)
        if any(random[:16]) and any(random[16:]):
            return make_traceparent(random)


def parse_traceparent(header: str) -> TraceParent:
    """The header's fields, or InvalidInputError saying what is wrong.

    A version above 00 may carry more fields after the fourth (the spec's
    forward compatibility); version 00 must have exactly four, and `ff` is
    never valid.

    >>> parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").sampled
    True
    >>> parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")
    Traceback (most recent call last):
    core.errors.InvalidInputError: traceparent: the trace id is all zeros
    """
    match = _HEADER.match(header)
    if match is None:
        raise InvalidInputError("traceparent: expected 00-<32 hex>-<16 hex>-<2 hex>")
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff":
        raise InvalidInputError("traceparent: version ff is invalid")
    if version == "00" and rest is not None:
        raise InvalidInputError("traceparent: version 00 has exactly four fields")
    if set(trace_id) == {"0"}:
        raise InvalidInputError("traceparent: the trace id is all zeros")
    if set(parent_id) == {"0"}:
        raise InvalidInputError("traceparent: the parent id is all zeros")
    return TraceParent(trace_id, parent_id, int(flags, 16), version)


def outgoing_traceparent() -> str | None:
    """The `traceparent` for a call made now on behalf of the bound run: the run's trace,
    a fresh parent id (the call is a span of its own); None outside a run.

    >>> with bound_to_run("r", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"):
    ...     outgoing_traceparent().startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    True
    >>> outgoing_traceparent() is None
    True
    """
    header = structlog.contextvars.get_contextvars().get("traceparent")
    if not isinstance(header, str):
        return None
    try:
        run = parse_traceparent(header)
    except InvalidInputError:
        return None
    while True:
        parent = os.urandom(8)
        if any(parent):
            return str(TraceParent(run.trace_id, parent.hex(), run.flags, "00"))


@contextlib.contextmanager
def bound_to_run(run_id: object, traceparent: str) -> Iterator[None]:
    """Every structlog line inside carries this run's id and traceparent."""
    with structlog.contextvars.bound_contextvars(run_id=str(run_id), traceparent=traceparent):
        yield
