"""Knowledge entries, and the execution outcome they are learned from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from core.actions.executor import ActionResult, ActionStatus
from core.alerting.models import Incident
from core.debate.models import DecisionPackage

#: how long an anti-pattern blocks automatic repair of the same symptoms, unless configured
DEFAULT_ANTI_PATTERN_WINDOW = timedelta(days=7)


class EntryKind(StrEnum):
    RUNBOOK = "runbook"
    ANTI_PATTERN = "anti_pattern"


class EntryStatus(StrEnum):
    """A runbook starts as a draft a person publishes or rejects; an anti-pattern is published."""

    DRAFT = "draft"
    PUBLISHED = "published"
    REJECTED = "rejected"


class NewEntry(BaseModel):
    """An entry to store: everything but its id."""

    model_config = ConfigDict(frozen=True)

    kind: EntryKind
    status: EntryStatus
    symptoms_hash: str = Field(min_length=16, max_length=16)
    #: the normalised symptoms hashed (alert, service, identifying labels), for reading back
    symptoms: dict[str, str] = Field(default_factory=dict)
    incident_id: int
    #: the action that was run (a registry tool), and with what
    action: str | None = None
    arguments: dict[str, str] = Field(default_factory=dict)
    title: str = Field(min_length=1, max_length=200)
    #: Markdown
    body: str
    #: a runbook built from the facts alone, because the model failed or was slow
    minimal: bool = False
    created_at: datetime
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None


class KnowledgeEntry(NewEntry):
    """A stored runbook or anti-pattern."""

    id: int

    def active_until(self, window: timedelta) -> datetime | None:
        """Until when an anti-pattern blocks automatic repair (None for a runbook)."""
        return self.created_at + window if self.kind is EntryKind.ANTI_PATTERN else None


@dataclass(frozen=True)
class ExecutionOutcome:
    """What the approval flow hands `KnowledgeService.on_execution` after an action ran."""

    incident: Incident
    package: DecisionPackage
    result: ActionResult
    #: who approved (display names), in order; empty when policy let it run unasked
    approved_by: tuple[str, ...]
    #: when it was approved (or started, when nobody had to approve)
    approved_at: datetime

    @property
    def succeeded(self) -> bool:
        return self.result.status is ActionStatus.SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.result.status in (ActionStatus.FAILED, ActionStatus.TIMED_OUT)
