"""Read views of the team's knowledge: `GET /api/knowledge` and `GET /api/knowledge/{id}`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Path, Query, Request

from bot.http.deps import services_of
from bot.http.errors import error_response
from core.knowledge.models import EntryKind, EntryStatus, KnowledgeEntry

router = APIRouter(prefix="/api", tags=["knowledge"])

MAX_ID = 2**63 - 1
_BAD_REQUEST: dict[int | str, dict[str, Any]] = {
    400: {"description": "a bad parameter; `detail` names it"}
}


def entry_json(entry: KnowledgeEntry, *, window: timedelta) -> dict[str, Any]:
    """An entry as JSON; `active_until` is when an anti-pattern stops gating (null: runbook)."""
    until = entry.active_until(window)
    return {
        **entry.model_dump(mode="json"),
        "active_until": until.isoformat() if until is not None else None,
    }


@router.get(
    "/knowledge",
    summary="Runbooks and anti-patterns, newest first",
    description=(
        "`kind` is `runbook` or `anti_pattern`; `status` is `draft`, `published` or "
        "`rejected` (an anti-pattern is published at once). `symptoms_hash` is the 16 hex "
        "characters the entry is filed under; `body` is Markdown."
    ),
    responses=_BAD_REQUEST,
)
async def list_knowledge(
    request: Request,
    kind: str | None = Query(
        None, pattern="^(runbook|anti_pattern)$", description="`runbook` or `anti_pattern`"
    ),
    status: str | None = Query(
        None,
        pattern="^(draft|published|rejected)$",
        description="`draft`, `published` or `rejected`",
    ),
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    knowledge = services_of(request).knowledge
    entries = await knowledge.recent(
        limit=limit,
        kind=EntryKind(kind) if kind else None,
        status=EntryStatus(status) if status else None,
    )
    window = knowledge.anti_pattern_window
    return {"knowledge": [entry_json(e, window=window) for e in entries]}


@router.get(
    "/knowledge/{entry_id}",
    summary="One runbook or anti-pattern",
    responses={404: {"description": "no such entry"}, **_BAD_REQUEST},
)
async def get_knowledge(
    request: Request, entry_id: int = Path(ge=1, le=MAX_ID, description="entry number")
) -> Any:
    knowledge = services_of(request).knowledge
    entry = await knowledge.get(entry_id)
    if entry is None:
        return error_response(404, f"No knowledge entry #{entry_id}.")
    return entry_json(entry, window=knowledge.anti_pattern_window)
