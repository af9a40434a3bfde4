"""The run state machine: only the table's moves happen, every other move raises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ConflictError
from core.runs import (
    LEASED_STATES,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    RunEvent,
    RunState,
    transition,
)

S, E = RunState, RunEvent
#: the moves the issue names, written out by hand (the table must not drift from them)
HAPPY_PATH = [E.CLAIM, E.START, E.AWAIT_APPROVAL, E.EXECUTE, E.COMPLETE]


def reachable() -> set[RunState]:
    seen, frontier = {S.PENDING}, [S.PENDING]
    while frontier:
        state = frontier.pop()
        for (source, _event), target in TRANSITIONS.items():
            if source is state and target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


@given(st.lists(st.sampled_from(list(RunEvent)), max_size=40))
def test_no_sequence_of_events_reaches_an_illegal_state(events: list[RunEvent]) -> None:
    state = S.PENDING
    for event in events:
        before = state
        try:
            state = transition(state, event)
        except IllegalTransition as refused:
            assert (before, event) not in TRANSITIONS
            assert state is before, "a refused move changes nothing"
            assert refused.state is before and refused.event is event
            continue
        assert TRANSITIONS[(before, event)] is state
        assert before not in TERMINAL, "a finished run never moves again"
        assert state in reachable()


@given(st.sampled_from(list(RunState)), st.sampled_from(list(RunEvent)))
def test_every_move_outside_the_table_raises(state: RunState, event: RunEvent) -> None:
    if (state, event) in TRANSITIONS:
        assert transition(state, event) is TRANSITIONS[(state, event)]
    else:
        with pytest.raises(IllegalTransition, match=f"is {state.value} cannot {event.value}"):
            transition(state, event)


def test_an_illegal_move_is_a_conflict_a_person_can_read() -> None:
    with pytest.raises(ConflictError) as caught:
        transition(S.COMPLETED, E.START)
    assert str(caught.value) == "A run that is completed cannot start."


def test_the_whole_path_and_its_exits() -> None:
    state = S.PENDING
    for event in HAPPY_PATH:
        state = transition(state, event)
    assert state is S.COMPLETED
    assert reachable() == set(RunState), "every state can be reached"
    for state in TERMINAL:
        assert not [key for key in TRANSITIONS if key[0] is state], f"{state} is terminal"
    assert transition(S.RUNNING, E.EXPIRE) is S.PENDING
    assert transition(S.LEASED, E.EXPIRE) is S.PENDING


def test_an_executing_run_is_never_put_back_in_the_queue() -> None:
    with pytest.raises(IllegalTransition):
        transition(S.EXECUTING, E.EXPIRE)
    assert transition(S.EXECUTING, E.TIME_OUT) is S.TIMED_OUT


def test_only_leased_states_can_expire() -> None:
    expiring = {source for (source, event) in TRANSITIONS if event is E.EXPIRE}
    assert expiring == LEASED_STATES - {S.EXECUTING}


def test_the_readme_diagram_is_the_table() -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Runs\n", 1)[1]
    diagram = section.split("```mermaid\n", 1)[1].split("```", 1)[0]
    drawn = set()
    for line in diagram.splitlines():
        match = re.fullmatch(r"\s*(\w+) --> (\w+): (\w+).*", line)
        if match and "[*]" not in line:
            source, target, event = match.groups()
            drawn.add((RunState(source), RunEvent(event), RunState(target)))
    assert drawn == {(s, e, t) for (s, e), t in TRANSITIONS.items()}
