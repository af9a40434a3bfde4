"""What drift needs from storage: reports kept for the buttons, and two sets of marks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol
from uuid import UUID

from core.drift.models import DriftReport


class DriftStore(Protocol):
    """Reports by id; the drifts already announced; the drifts a person chose to ignore."""

    async def save_report(self, report: DriftReport) -> None: ...

    async def get_report(self, report_id: UUID) -> DriftReport | None: ...

    async def announced(self) -> frozenset[str]:
        """Fingerprints of the drift the last posted card showed (still present since)."""
        ...

    async def set_announced(self, fingerprints: frozenset[str]) -> None: ...

    async def ignored(self) -> Mapping[str, str]:
        """subject key -> the fingerprint it had when ignored."""
        ...

    async def ignore(self, marks: Mapping[str, str], *, actor: str) -> None:
        """Ignore each subject while it keeps this fingerprint."""
        ...


class MemoryDriftStore:
    """DriftStore in memory: for tests, and for a one-off scan with no database."""

    def __init__(self) -> None:
        self.reports: dict[UUID, DriftReport] = {}
        self._announced: frozenset[str] = frozenset()
        self._ignored: dict[str, str] = {}

    async def save_report(self, report: DriftReport) -> None:
        self.reports[report.id] = report

    async def get_report(self, report_id: UUID) -> DriftReport | None:
        return self.reports.get(report_id)

    async def announced(self) -> frozenset[str]:
        return self._announced

    async def set_announced(self, fingerprints: frozenset[str]) -> None:
        self._announced = fingerprints

    async def ignored(self) -> Mapping[str, str]:
        return dict(self._ignored)

    async def ignore(self, marks: Mapping[str, str], *, actor: str) -> None:
        self._ignored.update(marks)
