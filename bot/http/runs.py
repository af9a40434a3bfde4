"""Read view of a run: `GET /api/runs/{id}`, with its debate's turns and decision package."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request

from bot.http.deps import services_of
from bot.http.errors import error_response
from core.debate.models import AgentTurn, DecisionPackage
from core.runs import Run

router = APIRouter(prefix="/api", tags=["runs"])


def decision_json(package: DecisionPackage | None) -> dict[str, Any] | None:
    """A decision package's public JSON (CONTRACT.md, "The decision package, as JSON")."""
    return package.model_dump(mode="json") if package is not None else None


def run_json(
    run: Run, *, turns: list[AgentTurn], decision: DecisionPackage | None
) -> dict[str, Any]:
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
        "turns": [t.model_dump(mode="json") for t in turns],
        "decision": decision_json(decision),
    }


@router.get(
    "/runs/{run_id}",
    summary="One run: its incident, trigger, state, attempts, lease and trace",
    description=(
        "`state` is one of pending, leased, running, waiting_approval, executing, "
        "completed, failed, cancelled, timed_out. `traceparent` is the run's W3C trace "
        "context. `turns` lists the debate's agent turns in the order they were taken "
        "(`[]` before the debate starts); `decision` is the run's decision package "
        '(CONTRACT.md, "The decision package, as JSON"), `null` until the debate ends.'
    ),
    responses={404: {"description": "no run with that id (or not a run id at all)"}},
)
async def get_run(request: Request, run_id: str) -> Any:
    try:
        parsed = UUID(run_id)
    except ValueError:
        parsed = None
    services = services_of(request)
    run = await services.runs.get(parsed) if parsed is not None else None
    if run is None:
        return error_response(404, f"No run {run_id[:40]!r}.")
    return run_json(
        run,
        turns=await services.turns.for_run(run.id),
        decision=await services.decisions.for_run(run.id),
    )
