"""Read views of incidents: `GET /api/incidents` and `GET /api/incidents/{id}`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request

from bot.http.deps import services_of
from bot.http.errors import error_response
from bot.http.runs import decision_json
from core.alerting.models import Incident, IncidentView
from core.debate.models import DecisionPackage

router = APIRouter(prefix="/api", tags=["incidents"])

#: ids are 64-bit integers in every store; a larger number names nothing and would overflow
MAX_ID = 2**63 - 1
_BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: {"description": "a bad parameter; `detail` names it"}
}


def incident_json(incident: Incident) -> dict[str, Any]:
    return incident.model_dump(mode="json")


def view_json(view: IncidentView, *, decision: DecisionPackage | None) -> dict[str, Any]:
    return {
        **incident_json(view.incident),
        "alerts": [alert.model_dump(mode="json") for alert in view.alerts],
        # the incident's latest decision package, null until a debate has ended
        "decision": decision_json(decision),
    }


@router.get("/incidents", summary="Incidents, newest first", responses=_BAD_REQUEST)
async def list_incidents(
    request: Request,
    status: str = Query("open", pattern="^(open|all)$", description="`open` or `all`"),
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    incidents = await services_of(request).incidents.recent(open_only=status == "open", limit=limit)
    return {"incidents": [incident_json(i) for i in incidents]}


@router.get(
    "/incidents/{incident_id}",
    summary="One incident with its latest alerts and decision",
    description=(
        "`decision` is the incident's latest decision package (CONTRACT.md, \"The "
        "decision package, as JSON\"): the newest of its runs' packages, `null` until "
        "a debate has ended."
    ),
    responses={404: {"description": "no such incident"}, **_BAD_REQUEST},
)
async def get_incident(
    request: Request, incident_id: int = Path(ge=1, le=MAX_ID, description="incident number")
) -> Any:
    services = services_of(request)
    view = await services.incidents.find(incident_id)
    if view is None:
        return error_response(404, f"No incident #{incident_id}.")
    return view_json(view, decision=await services.decisions.latest_for_incident(incident_id))
