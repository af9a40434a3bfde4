"""Fakes of the debate's ports: a scripted Completer, an in-memory turn log, a fixed clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from uuid import UUID

from pydantic import BaseModel

from core.debate.models import AgentTurn, AlertEvidence, EvidenceSnapshot
from core.llm.completion import Completion
from core.llm.contracts import safe_fallback
from core.llm.schemas import Critique, DecisionDraft, Diagnosis, Hypothesis, Proposal, Review
from core.llm.schemas import RiskLevel as R
from core.llm.types import ChatRequest, Task, ToolCall, ToolParam, ToolSpec

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
RUN = UUID("019b76da-a800-7000-8000-000000000001")

RESTART = ToolSpec(
    name="restart_deployment",
    description="Rolling restart of a deployment",
    params=(
        ToolParam(name="name", pattern="^[a-z0-9-]{1,63}$"),
        ToolParam(name="namespace", pattern="^[a-z0-9-]{1,63}$"),
    ),
    destructive=True,
)
DESCRIBE = ToolSpec(
    name="describe_pod",
    description="Read-only: kubectl describe of a pod",
    params=(ToolParam(name="pod", pattern="^[a-z0-9-]{1,63}$"),),
)
CALL = ToolCall(tool="restart_deployment", arguments={"name": "api", "namespace": "prod"})


class FixedClock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def snapshot(**changes: object) -> EvidenceSnapshot:
    alert = AlertEvidence(
        name="KubePodCrashLooping",
        status="firing",
        severity="critical",
        labels={"alertname": "KubePodCrashLooping", "namespace": "prod", "deployment": "api"},
        annotations={"summary": "api pods restart in a loop"},
        starts_at=NOW,
    )
    values: dict[str, object] = {
        "incident_id": 7,
        "title": "KubePodCrashLooping",
        "severity": "critical",
        "status": "open",
        "labels": {"alertname": "KubePodCrashLooping"},
        "alerts": (alert,),
        "taken_at": NOW,
    }
    values.update(changes)
    return EvidenceSnapshot.model_validate(values)


def good_answers() -> dict[Task, BaseModel]:
    """A debate where every agent agrees on a restart."""
    return {
        Task.DIAGNOSE: Diagnosis(
            summary="api crash loops after a bad config",
            hypotheses=[Hypothesis(cause="bad config rolled out", confidence=0.8)],
        ),
        Task.SOLVE: Proposal(
            action=CALL, rationale="restart picks the fixed config", risk_level=R.LOW
        ),
        Task.REVIEW: Review(verdict="approve", concerns=[], risk_level=R.LOW),
        Task.CRITIQUE: Critique(objections=[], worst_case="", risk_level=R.LOW),
        Task.COORDINATE: DecisionDraft(
            recommended_action=CALL,
            risk_level=R.LOW,
            requires_human_approval=False,
            confidence=0.8,
            diagnosis="bad config rolled out",
            summary="restart the api deployment",
        ),
    }


Script = BaseModel | Exception | Callable[[ChatRequest], Awaitable[BaseModel]]


class ScriptedCompleter:
    """Answers each task from a script; records the requests in the order they arrived."""

    def __init__(self, script: Mapping[Task, Script], *, failing: frozenset[Task] = frozenset()):
        self.script = dict(script)
        self.failing = failing
        self.asked: list[Task] = []
        self.requests: list[ChatRequest] = []

    async def complete(self, request: ChatRequest) -> Completion:
        self.asked.append(request.task)
        self.requests.append(request)
        if request.task in self.failing:
            reason = "all providers failed: fake: ProviderTimeout: no answer in 1 s"
            return Completion(
                value=safe_fallback(request.task, reason),
                fallback_used=True,
                attempts=["fake: ProviderTimeout: no answer in 1 s"],
                error=reason,
            )
        answer = self.script[request.task]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, BaseModel):
            answer = await answer(request)
        return Completion(value=answer, provider="fake", model="fake-1", attempts=["fake: ok"])


class MemoryTurnLog:
    def __init__(self) -> None:
        self.turns: list[AgentTurn] = []

    async def append(self, *turns: AgentTurn) -> None:
        self.turns.extend(turns)

    async def for_run(self, run_id: UUID) -> list[AgentTurn]:
        return [t for t in self.turns if t.run_id == run_id]


class RecordingProgress:
    def __init__(self) -> None:
        self.stages: list[str] = []

    async def progress(self, run_id: UUID, incident_id: int, stage: str) -> None:
        self.stages.append(stage)


async def hang(_request: ChatRequest) -> BaseModel:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")
