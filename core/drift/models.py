"""Drift values: an object's identity, one difference, a whole report."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


class DriftLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(DriftLevel).index(self)


class ObjectKey(BaseModel):
    """What matches a desired object to a live one: apiVersion, kind, namespace, name."""

    model_config = ConfigDict(frozen=True)

    api_version: str
    kind: str
    namespace: str = ""
    name: str

    def label(self) -> str:
        """`Deployment prod/api` (no namespace for cluster-scoped objects).

        >>> ObjectKey(api_version="v1", kind="Namespace", name="prod").label()
        'Namespace prod'
        """
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    def subject(self) -> str:
        return f"{self.api_version}|{self.kind}|{self.namespace}|{self.name}"


ChangeKind = Literal["changed", "missing", "extra"]


class Difference(BaseModel):
    """One field that differs, or a whole object missing from (or extra in) the cluster."""

    model_config = ConfigDict(frozen=True)

    key: ObjectKey
    change: ChangeKind
    #: dotted field path (`spec.template.spec.containers[name=api].image`); "" for objects
    path: str = ""
    desired: Any = None
    live: Any = None
    level: DriftLevel = DriftLevel.INFO

    def subject(self) -> str:
        """What stays the same while the values change: the object and the field."""
        return f"{self.key.subject()}|{self.change}|{self.path}"

    def subject_key(self) -> str:
        """`subject` as 64 hex characters: what marks (announced, ignored) are kept under."""
        return hashlib.sha256(self.subject().encode()).hexdigest()

    def fingerprint(self) -> str:
        """The difference and its values: the same drift has the same fingerprint."""
        body = json.dumps([self.subject(), self.desired, self.live], sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


Intent = Literal["hotfix", "incident scaling", "unauthorised change", "tooling artefact", "unknown"]


class Reading(BaseModel):
    """The model's (or embedded engine's) reading of one drifted object. Never a command."""

    model_config = ConfigDict(frozen=True)

    key: ObjectKey
    intent: Intent
    explanation: str
    recommendation: Literal["rollback", "adopt", "ignore", "investigate"]
    provider: str = ""


class DriftObject(BaseModel):
    """A drifted object: its differences, where Git keeps it, and what the cluster has."""

    model_config = ConfigDict(frozen=True)

    key: ObjectKey
    differences: tuple[Difference, ...]
    #: the desired file holding it, relative to the repository root; None for an extra object
    desired_file: str | None = None
    #: the live object after normalisation (what Adopt writes); None for a missing object
    live: dict[str, Any] | None = None
    reading: Reading | None = None

    @property
    def level(self) -> DriftLevel:
        return max((d.level for d in self.differences), key=lambda lv: lv.rank)


class DriftReport(BaseModel):
    """One scan: every drifted object, the summary, and the problems that stopped parts of it."""

    id: UUID = Field(default_factory=uuid4)
    scanned_at: datetime
    objects: tuple[DriftObject, ...] = ()
    #: one line each: a missing path, a command not found, output that is not JSON…
    problems: tuple[str, ...] = ()
    summary: str = ""
    desired_count: int = 0
    live_count: int = 0

    @property
    def differences(self) -> list[Difference]:
        return [d for obj in self.objects for d in obj.differences]

    @property
    def level(self) -> DriftLevel | None:
        found = [obj.level for obj in self.objects]
        return max(found, key=lambda lv: lv.rank) if found else None

    @property
    def clean(self) -> bool:
        return not self.objects and not self.problems
