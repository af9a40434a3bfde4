"""Read view of a run: `GET /api/runs/{id}`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request

from bot.http.deps import services_of
from bot.http.errors import error_response
from core.runs import Run

router = APIRouter(prefix="/api", tags=["runs"])


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": str(run.id),
        "incident_id": run.incident_id,
        "trigger": run.trigger,
        "state": run.state.value,
        "attempts": run.attempts,
        "reason": run.reason,
        "lease": {
            "owner": run.lease_owner,
            "expires_at": run.lease_expires_at.isoformat() if run.lease_expires_at else None,
        },
        "traceparent": run.traceparent,
        "created_at": run.created_at.isoformat(),
        "updated_at": run.updated_at.isoformat(),
        # no debate runs on runs yet: no turns are recorded and no package exists
        "turns": [],
        "decision": None,
    }


@router.get(
    "/runs/{run_id}",
    summary="One run: its incident, trigger, state, attempts, lease and trace",
    description=(
        "`state` is one of pending, leased, running, waiting_approval, executing, "
        "completed, failed, cancelled, timed_out. `traceparent` is the run's W3C trace "
        "context. `turns` is always `[]` and `decision` always `null` for now: the "
        "debate that records turns and makes the decision package is not built yet."
    ),
    responses={404: {"description": "no run with that id (or not a run id at all)"}},
)
async def get_run(request: Request, run_id: str) -> Any:
    try:
        parsed = UUID(run_id)
    except ValueError:
        parsed = None
    run = await services_of(request).runs.get(parsed) if parsed is not None else None
    if run is None:
        return error_response(404, f"No run {run_id[:40]!r}.")
    return run_json(run)
