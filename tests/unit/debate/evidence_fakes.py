"""Fakes of the evidence ports: answers set per test, calls recorded, failures on demand."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from core.alerting.models import (
    Alert,
    AlertStatus,
    Incident,
    IncidentStatus,
    IncidentView,
    Severity,
)
from core.debate.models import KnowledgeNote, MetricQuery, PastIncident, RelatedAlert

T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self, at: datetime = T0 + timedelta(minutes=10)) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class Failure:
    """What a fake does instead of answering: raise this, or never answer (`HANG`)."""


HANG = Failure()


async def _fail_or(failure: BaseException | Failure | None) -> None:
    if failure is HANG:
        await asyncio.Event().wait()  # never set: only a timeout ends this
    if isinstance(failure, BaseException):
        raise failure


def make_alert(
    name: str = "CheckoutDown",
    *,
    pod: str = "api-1",
    job: str | None = "checkout",
    expr: str | None = "rate(http_errors_total[5m]) > 0.5",
    **extra: Any,
) -> Alert:
    labels = {"alertname": name, "namespace": "prod", "pod": pod}
    if job is not None:
        labels["job"] = job
    url = None
    if expr is not None:
        url = f"http://prometheus:9090/graph?g0.expr={quote_plus(expr)}&g0.tab=1"
    values: dict[str, Any] = {
        "fingerprint": f"fp-{name}-{pod}",
        "status": AlertStatus.FIRING,
        "severity": Severity.CRITICAL,
        "name": name,
        "labels": labels,
        "annotations": {"summary": f"{name} on {pod}"},
        "starts_at": T0,
        "generator_url": url,
        "source": "alertmanager",
        **extra,
    }
    return Alert(**values)


def make_view(*alerts: Alert, incident_id: int = 7, **extra: Any) -> IncidentView:
    values: dict[str, Any] = {
        "id": incident_id,
        "group_key": "alertname=CheckoutDown|namespace=prod",
        "title": "CheckoutDown",
        "severity": Severity.CRITICAL,
        "status": IncidentStatus.FIRING,
        "labels": {"alertname": "CheckoutDown", "namespace": "prod"},
        "source": "alertmanager",
        "created_at": T0,
        "updated_at": T0,
        "alert_count": len(alerts),
        "firing_count": len(alerts),
        **extra,
    }
    return IncidentView(incident=Incident(**values), alerts=list(alerts), started_at=T0)


@dataclass
class FakeHistory:
    views: dict[int, IncidentView] = field(default_factory=dict)
    related: list[RelatedAlert] = field(default_factory=list)
    similar: list[PastIncident] = field(default_factory=list)
    #: method name -> what it does instead of answering
    failures: dict[str, BaseException | Failure] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def get(self, incident_id: int) -> IncidentView | None:
        self.calls.append(("get", {"incident_id": incident_id}))
        await _fail_or(self.failures.get("get"))
        return self.views.get(incident_id)

    async def related_alerts(
        self, incident: Incident, *, since: datetime, until: datetime, limit: int
    ) -> list[RelatedAlert]:
        self.calls.append(("related_alerts", {"since": since, "until": until, "limit": limit}))
        await _fail_or(self.failures.get("related_alerts"))
        return self.related[:limit]

    async def similar_incidents(self, incident: Incident, *, limit: int) -> list[PastIncident]:
        self.calls.append(("similar_incidents", {"limit": limit}))
        await _fail_or(self.failures.get("similar_incidents"))
        return self.similar[:limit]


@dataclass
class FakeKnowledge:
    notes: list[KnowledgeNote] = field(default_factory=list)
    failure: BaseException | Failure | None = None
    asked: list[tuple[dict[str, str], str]] = field(default_factory=list)

    async def for_symptoms(self, labels: dict[str, str], title: str) -> list[KnowledgeNote]:
        self.asked.append((labels, title))
        await _fail_or(self.failure)
        return list(self.notes)


@dataclass
class FakeMetrics:
    """Answers "ok" with a fixed summary unless `answers` or `failures` say otherwise."""

    answers: dict[str, MetricQuery] = field(default_factory=dict)
    failures: dict[str, BaseException | Failure] = field(default_factory=dict)
    #: applies to every expression without its own entry
    failure: BaseException | Failure | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def query_range(
        self, name: str, expr: str, *, start: datetime, end: datetime, step_s: float
    ) -> MetricQuery:
        self.calls.append({"name": name, "expr": expr, "start": start, "end": end, "step": step_s})
        await _fail_or(self.failures.get(expr, self.failure))
        if expr in self.answers:
            return self.answers[expr]
        summary = "1 series; latest 1 (min 1, max 1) over 1h"
        return MetricQuery(name=name, expr=expr, status="ok", summary=summary)
