"""What the debate needs from outside, as protocols; storage and HTTP adapters implement them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.alerting.models import Incident, IncidentView
from core.debate.models import (
    AgentTurn,
    Approval,
    ApprovalState,
    DecisionPackage,
    Execution,
    KnowledgeNote,
    MetricQuery,
    PastIncident,
    RelatedAlert,
)


class TurnLog(Protocol):
    """The insert-only log of agent turns: appended, read, never changed."""

    async def append(self, *turns: AgentTurn) -> None:
        """Append the turns, in order, in one write (all of them or none)."""
        ...

    async def for_run(self, run_id: UUID) -> list[AgentTurn]:
        """The run's turns in the order they were appended."""
        ...


class DecisionStore(Protocol):
    """Decision packages, one per run."""

    async def save(self, package: DecisionPackage) -> DecisionPackage:
        """Store the run's package; the one already stored when the run has one (never two)."""
        ...

    async def for_run(self, run_id: UUID) -> DecisionPackage | None: ...

    async def latest_for_incident(self, incident_id: int) -> DecisionPackage | None: ...

    async def update_approval(
        self, run_id: UUID, approval: Approval, *, only_from: ApprovalState | None = None
    ) -> DecisionPackage | None:
        """The package with `approval` written in (only while it is `only_from`, if given)."""
        ...

    async def set_execution(self, run_id: UUID, execution: Execution) -> DecisionPackage | None:
        """The package with the action's execution (running, then its result) written in."""
        ...


class IncidentHistory(Protocol):
    """The incident and its neighbours in time and in kind, read for the evidence snapshot."""

    async def get(self, incident_id: int) -> IncidentView | None: ...

    async def related_alerts(
        self, incident: Incident, *, since: datetime, until: datetime, limit: int
    ) -> list[RelatedAlert]:
        """Alerts of other incidents that fired between `since` and `until`, newest first."""
        ...

    async def similar_incidents(self, incident: Incident, *, limit: int) -> list[PastIncident]:
        """Earlier incidents with the same group key or title, newest first, with their outcome."""
        ...


class KnowledgeSource(Protocol):
    """Published runbooks and active anti-patterns matching an incident's symptoms."""

    async def for_symptoms(self, labels: dict[str, str], title: str) -> list[KnowledgeNote]: ...


class MetricsSource(Protocol):
    """A metrics backend (Prometheus) answering range queries, each summarised."""

    async def query_range(
        self, name: str, expr: str, *, start: datetime, end: datetime, step_s: float
    ) -> MetricQuery:
        """Never raises for a backend failure: the MetricQuery says what went wrong."""
        ...


class ProgressSink(Protocol):
    """Told where a debate stands, so the incident card can show it."""

    async def progress(self, run_id: UUID, incident_id: int, stage: str) -> None: ...
