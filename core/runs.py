"""Runs: the state machine every debate (and later every action) runs on, as data.

A run never moves except through `transition()`, which refuses any move not in
`TRANSITIONS`; so no sequence of events can reach a state the table does not
allow, and a terminal run (completed, failed, cancelled, timed_out) never moves
again. Which runs the reaper touches, and what they become, is decided here
too, over values (`decide_reaping`); storage only applies the decision.

Pure: no I/O. The store that persists runs is the `RunStore` protocol below.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from core.errors import ConflictError


class RunState(StrEnum):
    PENDING = "pending"
    LEASED = "leased"
    RUNNING = "running"
    WAITING_APPROVAL = "waiting_approval"
    EXECUTING = "executing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class RunEvent(StrEnum):
    CLAIM = "claim"  # a worker took the lease
    START = "start"  # the worker began the work
    AWAIT_APPROVAL = "await_approval"  # the work proposes an action a person must approve
    EXECUTE = "execute"  # the action runs (approved, or needing no approval)
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"
    EXPIRE = "expire"  # the lease ran out: back in the queue for another attempt
    TIME_OUT = "time_out"  # out of attempts, or out of time: never retried


S, E = RunState, RunEvent

#: every legal move; anything else raises IllegalTransition
TRANSITIONS: dict[tuple[RunState, RunEvent], RunState] = {
    (S.PENDING, E.CLAIM): S.LEASED,
    (S.PENDING, E.CANCEL): S.CANCELLED,
    (S.PENDING, E.TIME_OUT): S.TIMED_OUT,
    (S.LEASED, E.START): S.RUNNING,
    (S.LEASED, E.EXPIRE): S.PENDING,
    (S.LEASED, E.FAIL): S.FAILED,
    (S.LEASED, E.CANCEL): S.CANCELLED,
    (S.LEASED, E.TIME_OUT): S.TIMED_OUT,
    (S.RUNNING, E.AWAIT_APPROVAL): S.WAITING_APPROVAL,
    (S.RUNNING, E.EXECUTE): S.EXECUTING,
    (S.RUNNING, E.COMPLETE): S.COMPLETED,
    (S.RUNNING, E.FAIL): S.FAILED,
    (S.RUNNING, E.CANCEL): S.CANCELLED,
    (S.RUNNING, E.EXPIRE): S.PENDING,
    (S.RUNNING, E.TIME_OUT): S.TIMED_OUT,
    (S.WAITING_APPROVAL, E.EXECUTE): S.EXECUTING,
    # rejected or expired approval: the run is over, nothing executed
    (S.WAITING_APPROVAL, E.COMPLETE): S.COMPLETED,
    (S.WAITING_APPROVAL, E.CANCEL): S.CANCELLED,
    (S.WAITING_APPROVAL, E.TIME_OUT): S.TIMED_OUT,
    # no EXPIRE from executing: an action that may have run is never run again
    (S.EXECUTING, E.COMPLETE): S.COMPLETED,
    (S.EXECUTING, E.FAIL): S.FAILED,
    (S.EXECUTING, E.TIME_OUT): S.TIMED_OUT,
}

TERMINAL: frozenset[RunState] = frozenset({S.COMPLETED, S.FAILED, S.CANCELLED, S.TIMED_OUT})
#: states in which a worker holds the run's lease (and must heartbeat)
LEASED_STATES: frozenset[RunState] = frozenset({S.LEASED, S.RUNNING, S.EXECUTING})


class IllegalTransition(ConflictError):
    """A run was asked to make a move the state machine does not allow."""

    def __init__(self, state: RunState, event: RunEvent) -> None:
        super().__init__(f"A run that is {state.value} cannot {event.value}.")
        self.state = state
        self.event = event


def transition(state: RunState, event: RunEvent) -> RunState:
    """The state after `event`, or IllegalTransition.

    >>> transition(RunState.PENDING, RunEvent.CLAIM).value
    'leased'
    >>> transition(RunState.COMPLETED, RunEvent.START)
    Traceback (most recent call last):
    core.runs.IllegalTransition: A run that is completed cannot start.
    """
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None


class Run(BaseModel):
    """One run of work for an incident, as it is stored."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    incident_id: int
    #: why the run exists, e.g. "opened" or "debate:<update id>"; unique per incident
    trigger: str
    state: RunState
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    traceparent: str
    reason: str | None
    #: bumped by every transition: a write based on an older read is refused
    version: int
    created_at: datetime
    updated_at: datetime
    #: higher is claimed first: in a storm a critical incident's debate goes before a warning's
    priority: int = 0
    #: where the work stands ("diagnosing", "solving", ...), shown on the incident card
    stage: str | None = None
    stage_at: datetime | None = None


class StaleRun(ConflictError):
    """The run changed since it was read (another worker or the reaper moved it)."""


@dataclass(frozen=True)
class Reaping:
    """What the reaper does to one run whose lease ran out."""

    run: Run
    event: RunEvent
    reason: str


def decide_reaping(
    runs: Sequence[Run],
    *,
    now: datetime,
    max_attempts: int,
    holder_gone: Callable[[str | None], bool] = lambda _owner: False,
) -> list[Reaping]:
    """For each leased run whose lease expired, or whose holder is known to be dead
    (`holder_gone`): another attempt, or time out.

    A run still within its lease with a live holder, or not leased, is left
    alone. One that was executing is never retried (the action may have run).
    """
    decisions: list[Reaping] = []
    for run in runs:
        if run.state not in LEASED_STATES or run.lease_expires_at is None:
            continue
        gone = holder_gone(run.lease_owner)
        if run.lease_expires_at > now and not gone:
            continue
        holder = run.lease_owner or "a worker"
        lost = f"{holder} died holding the lease" if gone else f"lease of {holder} expired"
        if run.state is RunState.EXECUTING:
            reason = f"{lost} while executing; not retried so the action cannot run twice"
            decisions.append(Reaping(run, RunEvent.TIME_OUT, reason))
        elif run.attempts >= max_attempts:
            reason = f"{lost} on attempt {run.attempts} of {max_attempts}"
            decisions.append(Reaping(run, RunEvent.TIME_OUT, reason))
        else:
            decisions.append(Reaping(run, RunEvent.EXPIRE, f"{lost}; retrying"))
    return decisions


def uuid7(at: datetime, random: bytes) -> UUID:
    """A UUIDv7 (RFC 9562 §5.7) for the instant `at`, from 10 random bytes.

    48 bits of Unix milliseconds, then (method 3 of §6.2) 12 bits of the
    sub-millisecond fraction, so ids made in one process sort by time down to
    about a quarter microsecond; the remaining 62 bits are random.

    >>> str(uuid7(datetime(2026, 1, 1, tzinfo=UTC), bytes(10)))
    '019b76da-a800-7000-8000-000000000000'
    """
    if len(random) != 10:
        raise ValueError("uuid7 needs 10 random bytes")
    if at.tzinfo is None:
        raise ValueError("uuid7 needs an aware datetime")
    micros = int((at - _EPOCH) // timedelta(microseconds=1))
    millis, sub_micros = divmod(micros, 1000)
    rand_a = sub_micros * 4096 // 1000
    rand_b = int.from_bytes(random[2:], "big") & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return UUID(int=value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def new_run_id(at: datetime) -> UUID:
    """A fresh time-ordered run id."""
    return uuid7(at, os.urandom(10))


class RunStore(Protocol):
    """Where runs live. Every state change goes through `transition()`."""

    async def create(self, incident_id: int, trigger: str, *, priority: int = 0) -> Run:
        """The run for (incident, trigger), made now if there is none: never two."""
        ...

    async def create_many(self, wanted: Sequence[tuple[int, int]], trigger: str) -> int:
        """A run per (incident id, priority) for `trigger` where none exists; how many were made.

        An incident that is gone is skipped, not an error (it may have been pruned).
        """
        ...

    async def without_run(self, trigger: str, *, opened_since: datetime, limit: int) -> list[int]:
        """Open incidents created since then that have no run for `trigger` (a crash between
        the incident's commit and its run's), oldest first."""
        ...

    async def leased(self, *, limit: int) -> list[Run]:
        """Runs a worker holds the lease of, whether or not it has expired."""
        ...

    async def set_stage(self, run: Run, stage: str) -> bool:
        """Record where the work stands and mark the incident's card owed; False if the run
        is no longer held by `run.lease_owner`."""
        ...

    async def for_incident(self, incident_id: int, *, limit: int) -> list[Run]:
        """The incident's runs, newest first."""
        ...

    async def get(self, run_id: UUID) -> Run | None: ...

    async def recent(self, *, limit: int) -> list[Run]:
        """Newest first."""
        ...

    async def claim(self, owner: str, *, lease_for: timedelta, start: bool = False) -> Run | None:
        """Lease the most urgent pending run (priority, then age) to `owner` (attempts + 1);
        None when none is free. With `start` the run is also started (claim, then start,
        in one write: a worker starts what it claims at once)."""
        ...

    async def heartbeat(self, run: Run, *, lease_for: timedelta) -> bool:
        """Extend the lease; False when `run.lease_owner` no longer holds it."""
        ...

    async def advance(
        self,
        run: Run,
        event: RunEvent,
        *,
        reason: str | None = None,
        lease: tuple[str, timedelta] | None = None,
    ) -> Run:
        """Apply `event` to the run as read; StaleRun when it changed since.

        `lease` (holder, for how long) gives the moved run a lease, so the reaper times it
        out if its holder dies (an action started from waiting_approval)."""
        ...

    async def expired(self, *, limit: int) -> list[Run]:
        """Leased runs whose lease has run out, oldest lease first."""
        ...

    async def reap(self, decision: Reaping, *, lease_must_have_expired: bool = True) -> bool:
        """Apply the reaper's decision if the run is unchanged (and, unless told otherwise,
        its lease still expired: a holder known to be dead need not be waited for)."""
        ...
