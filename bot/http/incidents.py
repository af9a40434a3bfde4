"""Read views of incidents: `GET /api/incidents` and `GET /api/incidents/{id}`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from bot.http.deps import services_of
from core.alerting.models import Incident, IncidentView

router = APIRouter(prefix="/api", tags=["incidents"])


def incident_json(incident: Incident) -> dict[str, Any]:
    return incident.model_dump(mode="json")


def view_json(view: IncidentView) -> dict[str, Any]:
    return {
        **incident_json(view.incident),
        "alerts": [alert.model_dump(mode="json") for alert in view.alerts],
        # the latest decision package; the debate issue fills it in
        "decision": None,
    }


@router.get("/incidents", summary="Incidents, newest first")
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
    responses={404: {"description": "no such incident"}},
)
async def get_incident(request: Request, incident_id: int) -> Any:
    view = await services_of(request).incidents.find(incident_id)
    if view is None:
        return JSONResponse({"detail": f"No incident #{incident_id}."}, status_code=404)
    return view_json(view)
