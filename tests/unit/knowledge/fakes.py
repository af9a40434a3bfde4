"""Fakes for the knowledge service: an in-memory store, recorded cards, outcomes, completers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from core.actions.executor import ActionResult, ActionStatus
from core.alerting.models import Incident, IncidentStatus, Severity
from core.debate.models import (
    Approval,
    ApprovalState,
    DebateStatus,
    DecisionPackage,
    ReviewSummary,
    Vote,
)
from core.knowledge.models import (
    EntryKind,
    EntryStatus,
    ExecutionOutcome,
    KnowledgeEntry,
    NewEntry,
)
from core.llm.completion import Completion
from core.llm.contracts import safe_fallback
from core.llm.schemas import RiskLevel, RunbookDraft
from core.llm.types import ChatRequest, Task, ToolCall

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
RUN = UUID("019b76da-a800-7000-8000-000000000009")
CALL = ToolCall(tool="restart_deployment", arguments={"name": "api", "namespace": "prod"})
LABELS = {
    "alertname": "WorkerQueueStuck",
    "namespace": "prod",
    "deployment": "api",
    "pod": "api-7d9f8b6c4-x2x9k",
}


class Clock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


def incident(incident_id: int = 1, labels: dict[str, str] | None = None) -> Incident:
    return Incident(
        id=incident_id,
        group_key=f"g{incident_id}",
        title="WorkerQueueStuck",
        severity=Severity.CRITICAL,
        status=IncidentStatus.FIRING,
        labels=dict(LABELS if labels is None else labels),
        source="test",
        created_at=NOW,
        updated_at=NOW,
    )


def package(incident_id: int = 1, call: ToolCall | None = CALL) -> DecisionPackage:
    return DecisionPackage(
        run_id=RUN,
        incident_id=incident_id,
        recommended_action=call,
        risk_level=RiskLevel.MEDIUM,
        requires_human_approval=True,
        confidence=0.8,
        diagnosis="api workers hang on a stuck consumer",
        summary="restart the api workers",
        status=DebateStatus.COMPLETED,
        review=ReviewSummary(reviewer_verdict=Vote.APPROVE, concerns=("sessions drop",)),
        approval=Approval(state=ApprovalState.APPROVED, by=("Alice",), at=NOW),
        created_at=NOW,
    )


def outcome(
    status: ActionStatus = ActionStatus.SUCCEEDED,
    *,
    incident_id: int = 1,
    labels: dict[str, str] | None = None,
    stdout: str = "deployment.apps/api restarted\n",
    exit_code: int | None = 0,
) -> ExecutionOutcome:
    return ExecutionOutcome(
        incident=incident(incident_id, labels),
        package=package(incident_id),
        result=ActionResult(
            action=CALL.tool,
            status=status,
            reason="" if status is ActionStatus.SUCCEEDED else "exit code 1",
            argv=("kubectl", "rollout", "restart", "deployment/api", "-n", "prod"),
            exit_code=exit_code,
            duration_s=2.5,
            stdout=stdout,
        ),
        approved_by=("Alice",),
        approved_at=NOW,
    )


class MemoryKnowledgeStore:
    """Implements `core.knowledge.ports.KnowledgeStore` in memory."""

    def __init__(self) -> None:
        self.entries: dict[int, KnowledgeEntry] = {}
        self.incidents: dict[int, str] = {}

    async def add(self, entry: NewEntry) -> KnowledgeEntry:
        stored = KnowledgeEntry(id=len(self.entries) + 1, **entry.model_dump())
        self.entries[stored.id] = stored
        return stored

    async def get(self, entry_id: int) -> KnowledgeEntry | None:
        return self.entries.get(entry_id)

    async def review(
        self, entry_id: int, status: EntryStatus, *, by: str, at: datetime
    ) -> tuple[KnowledgeEntry | None, bool]:
        entry = self.entries.get(entry_id)
        if entry is None or entry.status is not EntryStatus.DRAFT:
            return entry, False
        changed = entry.model_copy(update={"status": status, "reviewed_by": by, "reviewed_at": at})
        self.entries[entry_id] = changed
        return changed, True

    async def recent(
        self,
        *,
        limit: int,
        kind: EntryKind | None = None,
        status: EntryStatus | None = None,
    ) -> list[KnowledgeEntry]:
        found = [
            e
            for e in sorted(self.entries.values(), key=lambda e: -e.id)
            if (kind is None or e.kind is kind) and (status is None or e.status is status)
        ]
        return found[:limit]

    async def usable(
        self, *, anti_patterns_since: datetime, symptoms_hash: str | None, limit: int
    ) -> list[KnowledgeEntry]:
        found = [
            e
            for e in sorted(self.entries.values(), key=lambda e: -e.id)
            if e.status is EntryStatus.PUBLISHED
            and (e.kind is EntryKind.RUNBOOK or e.created_at > anti_patterns_since)
            and (symptoms_hash is None or e.symptoms_hash == symptoms_hash)
        ]
        return found[:limit]

    async def incidents_with(
        self, symptoms_hash: str, *, limit: int, excluding: int | None = None
    ) -> list[int]:
        ids = sorted((i for i, h in self.incidents.items() if h == symptoms_hash), reverse=True)
        return [i for i in ids if i != excluding][:limit]


class RecordingCards:
    """Implements `core.knowledge.ports.KnowledgeCards`: remembers what it was shown."""

    def __init__(self, *, fail: bool = False) -> None:
        self.shown: list[KnowledgeEntry] = []
        self.fail = fail

    async def show(self, entry: KnowledgeEntry) -> None:
        if self.fail:
            raise RuntimeError("the outbox is down")
        self.shown.append(entry)


DRAFT = RunbookDraft(
    title="Unstick the api workers",
    symptoms=["WorkerQueueStuck on api in prod"],
    steps=["Check the consumer lag", "Restart the api deployment"],
    verification=["the queue drains within 5 minutes"],
    rollback="nothing to roll back: a restart keeps the image",
)


class RunbookCompleter:
    """A Completer answering Task.RUNBOOK: with `value`, the safe fallback, a hang or an error."""

    def __init__(self, mode: str = "draft", value: BaseModel = DRAFT) -> None:
        self.mode = mode
        self.value = value
        self.requests: list[ChatRequest] = []

    async def complete(self, request: ChatRequest) -> Completion:
        self.requests.append(request)
        if self.mode == "hang":
            await asyncio.Event().wait()
        if self.mode == "raise":
            raise RuntimeError("provider exploded")
        if self.mode == "fallback":
            return Completion(
                value=safe_fallback(Task.RUNBOOK, "all providers failed: nim: 503"),
                fallback_used=True,
                attempts=["nim: 503"],
                error="all providers failed: nim: 503",
            )
        return Completion(value=self.value, provider="fake", model="m", attempts=["fake: ok"])
