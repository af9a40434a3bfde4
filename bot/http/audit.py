"""Read view of the audit log: `GET /api/audit`, newest first."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from bot.http.deps import services_of
from bot.http.errors import error_response

router = APIRouter(prefix="/api", tags=["audit"])


@router.get(
    "/audit",
    summary="The append-only audit log, newest first",
    description=(
        "Each entry: `at` (ISO 8601), `actor` (`tg:<user id>`, `http`, `system`, `autopilot` "
        "or a job's name), `action` (e.g. `incident.ack`, `approval.requested`, "
        "`approval.approved`, `approval.rejected`, `approval.reason`, `approval.expired`, "
        "`action.started`, `action.succeeded`, `action.failed`, `action.would_execute`), "
        "`subject` (`incident:<id>` or `run:<id>`) and `detail` (for approvals and actions: "
        "`by`, `user_id`, `run_id`, `trace_id`, `approval_id`; `shadow: true` when "
        "HOWL_SHADOW=1 kept it from happening). `run` keeps one run's entries, `subject` "
        "one subject's."
    ),
    responses={400: {"description": "a parameter out of range, or `run` not a run id"}},
)
async def list_audit(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    run: str | None = Query(None, description="a run id: that run's entries only"),
    subject: str | None = Query(None, max_length=120, description="e.g. `incident:3`"),
) -> Any:
    if run is not None:
        try:
            wanted = f"run:{UUID(run)}"
        except ValueError:
            return error_response(400, f"run: {run[:40]!r} is not a run id")
        if subject is not None and subject != wanted:
            return []
        subject = wanted
    entries = await services_of(request).audit.recent(subject=subject, limit=limit)
    return [entry.model_dump(mode="json") for entry in entries]
