"""Sender payloads -> `Alert`s: Alertmanager (webhook v4), Grafana unified alerting, generic.

Each parser validates the whole body before anything is stored; the first
problem becomes a `PayloadError` whose field is a path like `alerts[2].labels`.

>>> alerts = parse_generic({"title": "Disk full", "severity": "P1", "labels": {"host": "db1"}})
>>> alerts[0].severity, alerts[0].name, alerts[0].source
(<Severity.CRITICAL: 'critical'>, 'Disk full', 'generic')
>>> parse_generic({"severity": "high"})
Traceback (most recent call last):
core.errors.PayloadError: title: field required
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from core.alerting.models import Alert, AlertStatus, Severity
from core.errors import PayloadError

MAX_LABELS = 64
MAX_KEY = 128
MAX_VALUE = 4096
MAX_ANNOTATION = 16384
MAX_ALERTS = 5000

#: what senders call a severity, mapped onto ours
_WORDS = {
    Severity.CRITICAL: "critical crit page emergency fatal disaster p1 sev1",
    Severity.HIGH: "high error major alert p2 sev2",
    Severity.WARNING: "warning warn minor medium average p3 sev3",
    Severity.INFO: "info informational low none notice ok p4 p5 sev4 sev5",
}
SEVERITY_WORDS: dict[str, Severity] = {
    word: severity for severity, words in _WORDS.items() for word in words.split()
}

#: Alertmanager's "no end yet"
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def severity_of(word: str | None) -> Severity:
    """Normalise a sender's severity word; unknown or absent means warning."""
    if not word:
        return Severity.WARNING
    return SEVERITY_WORDS.get(word.strip().lower(), Severity.WARNING)


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """Alertmanager-style identity: a hash of the sorted label set."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _check_map(value: dict[str, str], *, limit: int) -> dict[str, str]:
    if len(value) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} entries")
    for key, item in value.items():
        if not key or len(key) > MAX_KEY:
            shown = key if len(key) <= 40 else key[:40] + "…"
            raise ValueError(f"key {shown!r} must be 1 to {MAX_KEY} characters")
        if len(item) > limit:
            raise ValueError(f"value of {key!r} is longer than {limit} characters")
    return value


def _in_utc(moment: datetime) -> datetime:
    # year 1 at +05:00 or year 9999 at -05:00 do not exist in UTC: a bad field, not a crash
    try:
        return _utc(moment)
    except OverflowError:
        raise ValueError("date out of range once converted to UTC") from None


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]


class _Strict(BaseModel):
    # unknown keys are the sender's business (Alertmanager adds fields over time)
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _SenderAlert(_Strict):
    """One alert as Alertmanager and Grafana both send it."""

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: UtcDatetime
    endsAt: UtcDatetime | None = None
    generatorURL: str | None = Field(None, max_length=MAX_VALUE)
    fingerprint: str | None = Field(None, max_length=64)

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("at least one label is required")
        return _check_map(value, limit=MAX_VALUE)

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_map(value, limit=MAX_ANNOTATION)


class _GrafanaAlert(_SenderAlert):
    """Grafana's alert: Alertmanager's fields plus links to where it is drawn and silenced."""

    dashboardURL: str | None = Field(None, max_length=MAX_VALUE)
    panelURL: str | None = Field(None, max_length=MAX_VALUE)
    silenceURL: str | None = Field(None, max_length=MAX_VALUE)

    def link_annotations(self) -> dict[str, str]:
        """Grafana's links as the annotations a card reads (empty ones left out)."""
        links = {
            "dashboard_url": self.dashboardURL,
            "panel_url": self.panelURL,
            "silence_url": self.silenceURL,
        }
        return {key: url for key, url in links.items() if url}


_A = TypeVar("_A", bound=_SenderAlert)


def _at_most_max_alerts(value: list[_A]) -> list[_A]:
    if len(value) > MAX_ALERTS:
        raise ValueError(f"at most {MAX_ALERTS} alerts per payload, got {len(value)}")
    return value


SenderAlerts = Annotated[list[_SenderAlert], AfterValidator(_at_most_max_alerts)]
GrafanaAlerts = Annotated[list[_GrafanaAlert], AfterValidator(_at_most_max_alerts)]


class AlertmanagerWebhook(_Strict):
    """Alertmanager's webhook body, version 4."""

    version: Literal["4"]
    status: Literal["firing", "resolved"] | None = None
    receiver: str | None = None
    groupKey: str | None = None
    externalURL: str | None = None
    alerts: SenderAlerts


class GrafanaWebhook(_Strict):
    """Grafana unified alerting's webhook body (Alertmanager-shaped alerts plus a title)."""

    title: str | None = None
    message: str | None = None
    state: str | None = None
    externalURL: str | None = None
    alerts: GrafanaAlerts


class GenericAlert(_Strict):
    """Howl's own shape, for scripts and anything without an Alertmanager."""

    title: str = Field(min_length=1, max_length=200)
    severity: str | None = Field(None, max_length=40)
    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    source: str = Field("generic", min_length=1, max_length=64)
    fingerprint: str | None = Field(None, min_length=1, max_length=64)

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_map(value, limit=MAX_VALUE)

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_map(value, limit=MAX_ANNOTATION)


_M = TypeVar("_M", bound=BaseModel)


def json_type(value: Any) -> str:
    """What JSON calls the value's type (a sender never wrote Python).

    >>> json_type([1]), json_type(None), json_type(True), json_type(2.5)
    ('array', 'null', 'boolean', 'number')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def field_path(loc: tuple[int | str, ...]) -> str:
    """('alerts', 2, 'labels') -> 'alerts[2].labels'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def validate_payload(model: type[_M], body: Any) -> _M:
    """Validate a decoded JSON body; the first error names its field."""
    if not isinstance(body, dict):
        raise PayloadError("body", f"expected a JSON object, got {json_type(body)}")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        field, message = describe_error(exc.errors()[0])
        raise PayloadError(field or "body", message) from None


def describe_error(error: Mapping[str, Any], *, skip: int = 0) -> tuple[str, str]:
    """One pydantic error as (field path, message), the first `skip` parts of its loc dropped.

    >>> describe_error({"loc": ("query", "limit"), "msg": "Input should be an integer"}, skip=1)
    ('limit', 'input should be an integer')
    """
    message = str(error["msg"]).removeprefix("Value error, ")
    return field_path(tuple(error["loc"])[skip:]), message[:1].lower() + message[1:]


def _from_sender(item: _SenderAlert, *, source: str, now: datetime, fallback_name: str) -> Alert:
    ends = _utc(item.endsAt) if item.endsAt is not None else None
    ends_at = ends if ends is not None and ends > ZERO_TIME else None
    if item.status == "resolved" and ends_at is None:
        ends_at = now
    return Alert(
        fingerprint=item.fingerprint or fingerprint_of(item.labels),
        status=AlertStatus(item.status),
        severity=severity_of(item.labels.get("severity") or item.labels.get("priority")),
        name=(item.labels.get("alertname") or fallback_name)[:200],
        labels=item.labels,
        annotations=item.annotations,
        starts_at=_utc(item.startsAt),
        ends_at=ends_at,
        generator_url=item.generatorURL or None,
        source=source,
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_alertmanager(body: Any, *, now: datetime | None = None) -> list[Alert]:
    """An Alertmanager webhook (version 4) -> its alerts."""
    payload = validate_payload(AlertmanagerWebhook, body)
    moment = now or datetime.now(UTC)
    return [
        _from_sender(a, source="alertmanager", now=moment, fallback_name="alert")
        for a in payload.alerts
    ]


def parse_grafana(body: Any, *, now: datetime | None = None) -> list[Alert]:
    """A Grafana unified-alerting webhook -> its alerts."""
    payload = validate_payload(GrafanaWebhook, body)
    moment = now or datetime.now(UTC)
    name = (payload.title or "Grafana alert")[:200]
    alerts = []
    for item in payload.alerts:
        alert = _from_sender(item, source="grafana", now=moment, fallback_name=name)
        # an annotation the rule's author wrote wins over Grafana's generated link
        annotations = {**item.link_annotations(), **alert.annotations}
        alerts.append(alert.model_copy(update={"annotations": annotations}))
    return alerts


def parse_generic(body: Any, *, now: datetime | None = None) -> list[Alert]:
    """Howl's generic shape -> one alert. Without a fingerprint the title and labels identify it."""
    payload = validate_payload(GenericAlert, body)
    moment = now or datetime.now(UTC)
    identity = {"alertname": payload.title, **payload.labels}
    annotations = dict(payload.annotations)
    annotations.setdefault("summary", payload.title)
    return [
        Alert(
            fingerprint=payload.fingerprint or fingerprint_of(identity),
            status=AlertStatus(payload.status),
            severity=severity_of(payload.severity or payload.labels.get("severity")),
            name=payload.title,
            labels=payload.labels,
            annotations=annotations,
            starts_at=moment,
            ends_at=moment if payload.status == "resolved" else None,
            # a generic sender says nothing about "since": its state is its status alone
            sender_start=False,
            generator_url=None,
            source=payload.source,
        )
    ]


PARSERS: dict[str, Callable[..., list[Alert]]] = {
    "alertmanager": parse_alertmanager,
    "grafana": parse_grafana,
    "generic": parse_generic,
}
