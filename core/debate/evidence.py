"""The evidence snapshot a debate reads: built from every source, redacted, bounded.

What is guaranteed:
- `EvidenceBuilder.build` never fails because a source failed or was slow. A
  history, knowledge or metrics source that raises or does not answer within
  its time becomes a line in `gaps` (and Prometheus's trouble also shows as
  `MetricsEvidence` "unavailable" or "partial" with a detail); the debate goes
  on with what the others said. Only an incident that does not exist is an
  error (`LookupError`): there is nothing to debate.
- Every string in the snapshot — labels and their names, annotations, titles,
  generator URLs, knowledge bodies, metric summaries, even the gap lines made
  from an exception's text — has passed the `Redactor`, in one pass over the
  whole snapshot, so a field added later cannot be forgotten.
- It stays small enough for a prompt: at most `EvidenceLimits` alerts, related
  alerts, past incidents, notes and queries; labels and annotations per alert
  capped; every string clipped (after redaction, so clipping never cuts a
  secret short of the pattern that would have caught it). What was left out
  is said in `gaps`.

Which Prometheus queries (when a `MetricsSource` is given): for each alert,
firing first, its own expression — Prometheus puts it in the `g0.expr`
parameter of the alert's generator URL — over the last hour, and `up` of the
alert's `job` label; each asked once, at most `EvidenceLimits.queries` in all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from core.alerting.durations import describe
from core.alerting.models import Alert, Incident
from core.debate.models import (
    AlertEvidence,
    EvidenceSnapshot,
    KnowledgeNote,
    MetricQuery,
    MetricsEvidence,
    PastIncident,
    RelatedAlert,
)
from core.debate.ports import IncidentHistory, KnowledgeSource, MetricsSource
from core.ports import Clock
from core.redact import Redactor

T = TypeVar("T")
#: what one source gave, and the gap to tell when it could not be read
Gathered = tuple[list[T], str | None]

#: characters kept past each limit until redaction is done: more than any secret is long
#: (a cut PEM block, Bearer token or key is still caught by its pattern; a known secret
#: is a token or key, far shorter), and a bound on the redactor's work for huge input
REDACT_SLACK = 1024
#: an expression longer than this is not sent to Prometheus (nor put in a prompt)
MAX_EXPR = 2000


@dataclass(frozen=True)
class EvidenceLimits:
    """How much of each kind a snapshot holds; the rest is counted in `gaps`.

    With these defaults a snapshot's JSON is a few KB for a usual incident and
    under 70 KB when every field of every source is filled to its limit.
    """

    alerts: int = 6
    related: int = 10
    history: int = 5
    knowledge: int = 5
    queries: int = 4
    #: labels and annotations kept per alert (and per incident, for labels)
    labels: int = 16
    annotations: int = 4
    #: a related alert only needs enough labels to tell it apart
    related_labels: int = 8
    #: characters: label and annotation names; other short strings; annotation values,
    #: URLs, expressions and metric summaries; knowledge bodies
    key_chars: int = 64
    text_chars: int = 160
    long_chars: int = 400
    body_chars: int = 1200


class NoKnowledge:
    """A `KnowledgeSource` that knows nothing: for tests and tools without a knowledge store.

    `howl run` reads the team's runbooks and anti-patterns through
    `core.knowledge.source.StoredKnowledge`.
    """

    async def for_symptoms(self, labels: dict[str, str], title: str) -> list[KnowledgeNote]:
        return []


class EvidenceBuilder:
    """Builds an incident's `EvidenceSnapshot` from its history, knowledge and metrics."""

    def __init__(
        self,
        history: IncidentHistory,
        knowledge: KnowledgeSource,
        metrics: MetricsSource | None,
        clock: Clock,
        redactor: Redactor,
        *,
        related_window: timedelta = timedelta(minutes=30),
        metrics_window: timedelta = timedelta(hours=1),
        limits: EvidenceLimits = EvidenceLimits(),
        source_timeout_s: float = 10.0,
        metrics_timeout_s: float = 10.0,
        readers: int = 1,
    ) -> None:
        self._history = history
        self._knowledge = knowledge
        self._metrics = metrics
        self._clock = clock
        self._redactor = redactor
        self.related_window = related_window
        self.metrics_window = metrics_window
        self.limits = limits
        #: a backstop for sources that hang; PrometheusMetrics keeps its own shorter one
        self.source_timeout_s = source_timeout_s
        self.metrics_timeout_s = metrics_timeout_s
        # snapshots that read the database at once: in a storm every debate's reads
        # would otherwise interleave on the one event loop and all finish together,
        # late; in turn, the first debates get their evidence (and their model call) first
        self._reading = asyncio.Semaphore(readers)

    async def build(self, incident_id: int) -> EvidenceSnapshot:
        """The incident's snapshot now; LookupError when there is no such incident."""
        taken_at = self._clock.now()
        async with self._reading:
            try:
                view = await self._within(self._history.get(incident_id), self.source_timeout_s)
            except Exception as exc:
                return self._unreadable(incident_id, taken_at, exc)
            if view is None:
                raise LookupError(f"no incident #{incident_id}")
            incident, limits = view.incident, self.limits
            alerts = view.alerts[: limits.alerts]
            start = view.started_at or incident.created_at
            # Prometheus, a network call, is asked beside the database, outside the turn
            asking = asyncio.ensure_future(self._ask_metrics(alerts, taken_at))
            try:
                # one after another: database reads overlapped on one event loop only
                # contend for its hops to the driver's threads (on SQLite, 10 ms in a row
                # against 14 ms overlapped)
                related, related_gap = await self._related(incident, start)
                history, history_gap = await self._similar(incident)
                notes, notes_gap = await self._notes(incident)
            except BaseException:
                asking.cancel()
                raise
        metrics = await asking
        shown = f"{incident.alert_count} alerts in the incident, {len(alerts)} shown (firing first)"
        gaps = [
            *([shown] if incident.alert_count > len(alerts) else []),
            *(gap for gap in (related_gap, history_gap, notes_gap) if gap),
            *([f"Prometheus: {metrics.detail}"] if metrics.status in _TROUBLE else []),
        ]
        snapshot = EvidenceSnapshot(
            incident_id=incident.id,
            title=incident.title,
            severity=incident.severity.value,
            status=incident.status.value,
            labels=incident.labels,
            alerts=tuple(_alert_evidence(a) for a in alerts),
            related=tuple(related),
            history=tuple(history),
            knowledge=tuple(notes),
            metrics=metrics,
            gaps=tuple(gaps),
            taken_at=taken_at,
        )
        return self._scrub(snapshot)

    # --- sources --------------------------------------------------------------------

    async def _related(
        self, incident: Incident, start: datetime
    ) -> tuple[list[RelatedAlert], str | None]:
        window, limit = self.related_window, self.limits.related
        read = self._history.related_alerts(
            incident, since=start - window, until=start + window, limit=limit + 1
        )
        found, gap = await self._gather("related alerts", read)
        found = [a for a in found if a.incident_id != incident.id]
        if len(found) > limit:
            near = describe(window)
            gap = f"more than {limit} alerts of other incidents fired within {near}; newest shown"
        keep = self.limits.related_labels
        trimmed = [
            a.model_copy(update={"labels": dict(list(a.labels.items())[:keep])}) for a in found
        ]
        return trimmed[:limit], gap

    async def _similar(self, incident: Incident) -> tuple[list[PastIncident], str | None]:
        limit = self.limits.history
        read = self._history.similar_incidents(incident, limit=limit + 1)
        found, gap = await self._gather("past incidents", read)
        found = [p for p in found if p.incident_id != incident.id]
        if len(found) > limit:
            gap = f"more than {limit} earlier incidents like this one; the {limit} latest shown"
        return found[:limit], gap

    async def _notes(self, incident: Incident) -> tuple[list[KnowledgeNote], str | None]:
        limit = self.limits.knowledge
        read = self._knowledge.for_symptoms(dict(incident.labels), incident.title)
        found, gap = await self._gather("runbooks and anti-patterns", read)
        if len(found) > limit:
            # anti-patterns first: a blocked tool matters more than one more runbook
            found = sorted(found, key=lambda note: note.kind != "anti_pattern")
            gap = f"{len(found)} runbooks and anti-patterns match; {limit} shown"
        return found[:limit], gap

    async def _gather(self, what: str, read: Awaitable[list[T]]) -> tuple[list[T], str | None]:
        try:
            return list(await self._within(read, self.source_timeout_s)), None
        except Exception as exc:
            return [], f"{what} could not be read: {self._reason(exc, self.source_timeout_s)}"

    async def _ask_metrics(self, alerts: Sequence[Alert], now: datetime) -> MetricsEvidence:
        if self._metrics is None:
            return MetricsEvidence(status="not_configured", detail="no Prometheus configured")
        planned = metric_queries(alerts)
        asked = planned[: self.limits.queries]
        if not asked:
            return MetricsEvidence(
                status="ok",
                detail="nothing to ask: no alert has a Prometheus expression or a job label",
            )
        results = await asyncio.gather(*(self._query(name, expr, now) for name, expr in asked))
        return _metrics_evidence(results, left_out=len(planned) - len(asked))

    async def _query(self, name: str, expr: str, now: datetime) -> MetricQuery:
        assert self._metrics is not None
        window = self.metrics_window
        step_s = max(15.0, window.total_seconds() / 120)
        ask = self._metrics.query_range(name, expr, start=now - window, end=now, step_s=step_s)
        try:
            return await self._within(ask, self.metrics_timeout_s)
        except TimeoutError:
            reason = f"no answer within {self.metrics_timeout_s:g}s"
            return MetricQuery(name=name, expr=expr, status="timeout", error=reason)
        except Exception as exc:
            reason = self._reason(exc, self.metrics_timeout_s)
            return MetricQuery(name=name, expr=expr, status="error", error=reason)

    @staticmethod
    async def _within(work: Awaitable[T], timeout_s: float) -> T:
        return await asyncio.wait_for(work, timeout_s)

    @staticmethod
    def _reason(exc: Exception, timeout_s: float) -> str:
        if isinstance(exc, TimeoutError):
            return f"no answer within {timeout_s:g}s"
        text = " ".join(str(exc).split())
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    # --- the whole snapshot ---------------------------------------------------------

    def _unreadable(self, incident_id: int, taken_at: datetime, exc: Exception) -> EvidenceSnapshot:
        """A snapshot that says the incident itself could not be read (a person decides)."""
        reason = self._reason(exc, self.source_timeout_s)
        not_asked = (
            MetricsEvidence(
                status="unavailable", detail="not asked: the incident could not be read"
            )
            if self._metrics is not None
            else MetricsEvidence(status="not_configured", detail="no Prometheus configured")
        )
        snapshot = EvidenceSnapshot(
            incident_id=incident_id,
            title=f"incident #{incident_id}",
            severity="unknown",
            status="unknown",
            metrics=not_asked,
            gaps=(f"the incident could not be read: {reason}",),
            taken_at=taken_at,
        )
        return self._scrub(snapshot)

    def _scrub(self, snapshot: EvidenceSnapshot) -> EvidenceSnapshot:
        """Every string redacted, then clipped; label maps capped."""
        chars = self.limits.text_chars
        rough = _Clipper(self.limits, slack=REDACT_SLACK).tree(snapshot.model_dump(), chars)
        clipped = _Clipper(self.limits).tree(self._redactor.redact_value(rough), chars)
        return EvidenceSnapshot.model_validate(clipped)


_TROUBLE = frozenset({"unavailable", "partial"})


def _metrics_evidence(results: Sequence[MetricQuery], *, left_out: int) -> MetricsEvidence:
    failed = [q for q in results if q.status in ("error", "timeout")]
    more = f"; {left_out} more queries not asked" if left_out else ""
    if not failed:
        return MetricsEvidence(
            status="ok", detail=f"{len(results)} queries answered{more}", queries=tuple(results)
        )
    reason = failed[0].error or failed[0].status
    if len(failed) == len(results):
        detail = f"unavailable, no query answered: {reason}"
        return MetricsEvidence(status="unavailable", detail=detail, queries=tuple(results))
    detail = f"{len(failed)} of {len(results)} queries failed: {reason}{more}"
    return MetricsEvidence(status="partial", detail=detail, queries=tuple(results))


def _alert_evidence(alert: Alert) -> AlertEvidence:
    return AlertEvidence(
        name=alert.name,
        status=alert.status.value,
        severity=alert.severity.value,
        labels=alert.labels,
        annotations=alert.annotations,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        generator_url=alert.generator_url,
    )


def alert_expression(generator_url: str | None) -> str | None:
    """The PromQL expression in a Prometheus generator URL (`…/graph?g0.expr=…`), if any.

    >>> alert_expression("http://prom:9090/graph?g0.expr=rate%28errors%5B5m%5D%29+%3E+0.5&g0.tab=1")
    'rate(errors[5m]) > 0.5'
    >>> alert_expression("https://grafana/d/abc?orgId=1") is None
    True
    """
    if not generator_url:
        return None
    try:
        query = urlsplit(generator_url).query
    except ValueError:
        return None
    values = parse_qs(query).get("g0.expr") or [""]
    expr = values[0].strip()
    return expr if expr and len(expr) <= MAX_EXPR else None


def up_of_job(job: str) -> str:
    """`up{job="…"}` with the value quoted as PromQL wants.

    >>> up_of_job('api "v2"')
    'up{job="api \\\\"v2\\\\""}'
    """
    quoted = job.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'up{{job="{quoted}"}}'


def metric_queries(alerts: Sequence[Alert]) -> list[tuple[str, str]]:
    """(name, expr) to ask, in order: each alert's expression and its job's `up`, once each."""
    planned: dict[str, str] = {}
    for alert in alerts:
        expr = alert_expression(alert.generator_url)
        if expr is not None and expr not in planned:
            planned[expr] = f"{alert.name}: the alert's expression"
        job = alert.labels.get("job")
        if job and (up := up_of_job(job)) not in planned:
            planned[up] = f"up of job {job}"
    return [(name, expr) for expr, name in planned.items()]


class _Clipper:
    """Clips a dumped snapshot's strings and caps its label maps (see `EvidenceLimits`).

    `slack` characters are added to every limit: the first pass, before
    redaction, only bounds the redactor's work, and keeps enough past each limit
    that a secret crossing it is still whole when the redactor looks.
    """

    def __init__(self, limits: EvidenceLimits, *, slack: int = 0) -> None:
        self.limits = limits
        self.slack = slack
        self.field_chars = {
            "annotations": limits.long_chars,
            "generator_url": limits.long_chars,
            "expr": limits.long_chars,
            "summary": limits.long_chars,
            "detail": limits.long_chars,
            "body": limits.body_chars,
        }
        #: the sender's maps: their names and values are free text, their number capped
        self.map_sizes = {"labels": limits.labels, "annotations": limits.annotations}

    def tree(self, value: Any, chars: int) -> Any:
        if isinstance(value, str):
            return clip(value, chars + self.slack)
        if isinstance(value, Mapping):
            return {
                key: self._field(key, item) if key not in self.map_sizes else self._map(key, item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.tree(item, chars) for item in value]
        return value

    def _field(self, key: Any, value: Any) -> Any:
        return self.tree(value, self.field_chars.get(key, self.limits.text_chars))

    def _map(self, key: str, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        chars = self.field_chars.get(key, self.limits.text_chars) + self.slack
        names = self.limits.key_chars + self.slack
        items = list(value.items())[: self.map_sizes[key]]
        return {clip(str(name), names): clip(str(text), chars) for name, text in items}


def clip(text: str, chars: int) -> str:
    """`text`, or its first `chars - 1` characters and an ellipsis.

    >>> clip("abcdef", 4), clip("abc", 4)
    ('abc…', 'abc')
    """
    return text if len(text) <= chars else text[: max(chars - 1, 0)] + "…"


__all__ = [
    "EvidenceBuilder",
    "EvidenceLimits",
    "NoKnowledge",
    "alert_expression",
    "clip",
    "metric_queries",
    "up_of_job",
]
