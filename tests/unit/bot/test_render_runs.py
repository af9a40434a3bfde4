"""/runs lines: state, incident, trigger, attempt and reason, escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from bot.render.runs import STATE_ICONS, render_runs, run_line
from core.runs import Run, RunState

T0 = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)


def run(**fields: object) -> Run:
    base: dict[str, object] = {
        "id": UUID("019b76da-a800-7000-8000-000000000001"),
        "incident_id": 12,
        "trigger": "opened",
        "state": RunState.COMPLETED,
        "attempts": 1,
        "lease_owner": None,
        "lease_expires_at": None,
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "reason": None,
        "version": 4,
        "created_at": T0,
        "updated_at": T0,
    }
    return Run.model_validate(base | fields)


def test_a_line_per_run() -> None:
    assert run_line(run()) == "✅ <code>019b76da</code> #12 opened — completed (attempt 1)"
    timed_out = run(
        state=RunState.TIMED_OUT, attempts=3, trigger="a<b", reason="lease of w<1> expired"
    )
    assert run_line(timed_out) == (
        "⌛ <code>019b76da</code> #12 a&lt;b — timed out (attempt 3): lease of w&lt;1&gt; expired"
    )


def test_every_state_has_an_icon() -> None:
    assert set(STATE_ICONS) == set(RunState)


def test_the_list_and_the_empty_list() -> None:
    assert render_runs([], limit=15).text == "No runs yet."
    listed = render_runs([run(), run(state=RunState.PENDING, attempts=0)], limit=15).text
    assert listed.splitlines() == [
        "<b>Recent runs</b> (newest first, up to 15)",
        "✅ <code>019b76da</code> #12 opened — completed (attempt 1)",
        "⏳ <code>019b76da</code> #12 opened — pending (attempt 0)",
    ]
