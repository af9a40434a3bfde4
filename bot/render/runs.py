"""/runs as HTML: recent runs, one line each. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.html import code, esc
from core.messages import Rendered
from core.runs import Run, RunState

STATE_ICONS = {
    RunState.PENDING: "⏳",
    RunState.LEASED: "📥",
    RunState.RUNNING: "⚙️",
    RunState.WAITING_APPROVAL: "✋",
    RunState.EXECUTING: "🛠",
    RunState.COMPLETED: "✅",
    RunState.FAILED: "❌",
    RunState.CANCELLED: "🚫",
    RunState.TIMED_OUT: "⌛",
}


def run_line(run: Run) -> str:
    """`✅ <code>019b76da</code> #12 opened — completed (attempt 1)`, with the reason if any."""
    line = (
        f"{STATE_ICONS[run.state]} {code(str(run.id)[:8])} #{run.incident_id} "
        f"{esc(run.trigger)} — {run.state.value.replace('_', ' ')} (attempt {run.attempts})"
    )
    return f"{line}: {esc(run.reason)}" if run.reason else line


def render_runs(runs: Sequence[Run], *, limit: int) -> Rendered:
    if not runs:
        return Rendered(text="No runs yet.")
    header = f"<b>Recent runs</b> (newest first, up to {limit})"
    return Rendered(text="\n".join([header, *map(run_line, runs)]))
