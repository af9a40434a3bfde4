"""The facts the engine reasons over, read from a request's context or, failing that, its text."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from core.llm.types import ChatRequest

# CronJob-created Jobs are named <cronjob>-<minutes since epoch>
_CRONJOB_SUFFIX = re.compile(r"^(?P<cronjob>[a-z0-9-]+?)-\d{8,}$")
# Deployment pods are named <deployment>-<replicaset hash>-<pod hash>
_DEPLOYMENT_POD = re.compile(r"^(?P<deployment>[a-z0-9-]+?)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_ALERTNAME_IN_TEXT = re.compile(r"alert(?:name)?\s*[=:]\s*[\"']?(?P<name>[A-Za-z][\w:-]*)")
_LABEL_IN_TEXT = re.compile(r"(?P<key>[a-z_][a-z0-9_]*)\s*=\s*\"?(?P<value>[A-Za-z0-9_./:-]+)\"?")
_CAMEL_WORD = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+\b")
# "all 3 image-resizer replicas", "both video-encoder replicas", "2 of 2 pods": what runs now
_RUNNING = re.compile(
    r"\b(?:all\s+|the\s+)?(?P<n>\d{1,2}|both|two|three|four)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:replicas|pods|workers|instances|consumers)\b"
)
_WORDS = {"both": 2, "two": 2, "three": 3, "four": 4}
#: labels that say how many replicas run now
_REPLICA_LABELS = ("replicas", "spec_replicas", "current_replicas", "available_replicas")


@dataclass(frozen=True)
class Incident:
    alert_name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    severity: str = ""
    #: everything a keyword may be found in, lower-cased
    text: str = ""
    #: names that look like alert names in free text, tried when alert_name is empty
    name_candidates: tuple[str, ...] = ()
    #: the rest of the context: earlier agents' answers, question, drift
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return bool(self.alert_name or self.labels or self.text.strip())


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _json_objects(request: ChatRequest) -> dict[str, Any]:
    """Context a caller serialised into a message as one JSON object."""
    merged: dict[str, Any] = {}
    for message in request.messages:
        text = message.content.strip()
        if not (text.startswith("{") and text.endswith("}")):
            continue
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            merged.update(value)
    return merged


def read_incident(request: ChatRequest) -> Incident:
    """The incident as the engine sees it: structured context first, prose as a fallback."""
    context: dict[str, Any] = {**_json_objects(request), **request.context}
    labels = _strings(context.get("labels"))
    annotations = _strings(context.get("annotations"))
    prose = "\n".join(m.content for m in request.messages if m.role != "system")
    if not labels:
        labels = {m["key"]: m["value"] for m in _LABEL_IN_TEXT.finditer(prose)}
    alert_name = str(context.get("alert_name") or labels.get("alertname") or "")
    if not alert_name and (found := _ALERTNAME_IN_TEXT.search(prose)):
        alert_name = found["name"]
    summary = str(context.get("summary") or annotations.get("summary") or "")
    severity = str(context.get("severity") or labels.get("severity") or "")
    parts = [alert_name, summary, *annotations.values(), str(context.get("question") or "")]
    if not request.context:
        parts.append(prose)
    known = {"alert_name", "labels", "annotations", "summary", "severity"}
    return Incident(
        alert_name=alert_name,
        labels=labels,
        annotations=annotations,
        summary=summary,
        severity=severity.lower(),
        text=" ".join(parts).lower(),
        name_candidates=tuple(_CAMEL_WORD.findall(prose)),
        extra={k: v for k, v in context.items() if k not in known},
    )


def derived(incident: Incident, name: str) -> str | None:
    """Values an on-call engineer reads off other labels without thinking."""
    labels = incident.labels
    if name == "deployment":
        pod = labels.get("pod", "")
        match = _DEPLOYMENT_POD.match(pod)
        return match["deployment"] if match else None
    if name == "cronjob":
        match = _CRONJOB_SUFFIX.match(labels.get("job_name", ""))
        return match["cronjob"] if match else None
    if name == "more_replicas":
        return _more_replicas(incident)
    if name == "node":
        # node-exporter's instance is host:port; the host part is the node name
        host = labels.get("instance", "").rsplit(":", 1)[0]
        return host or None
    return None


def _more_replicas(incident: Incident) -> str | None:
    """Twice what runs now, when the alert says how many run; a person approves the number."""
    counts = [incident.labels.get(k, "") for k in _REPLICA_LABELS]
    now = next((int(c) for c in counts if c.isdigit()), None)
    if now is None:
        found = _RUNNING.search(" ".join(incident.annotations.values()).lower())
        if found is None:
            return None
        word = found["n"]
        now = int(word) if word.isdigit() else _WORDS[word]
    return str(now * 2) if now > 0 else None


def resolve(incident: Incident, source: str) -> str | None:
    """One argument source of a template (`labels.x`, `annotations.x`, `derived.x`, `=literal`)."""
    if source.startswith("="):
        return source[1:]
    kind, _, key = source.partition(".")
    value: str | None = None
    if kind == "labels":
        value = incident.labels.get(key)
    elif kind == "annotations":
        value = incident.annotations.get(key)
    elif kind == "derived":
        value = derived(incident, key)
    return value or None


class _Placeholders(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def fill(template: str, incident: Incident) -> str:
    """A check with the alert's labels filled in; unknown ones stay visible as <name>."""
    values = _Placeholders(incident.labels)
    for name in ("deployment", "cronjob", "node"):
        if name not in values and (value := derived(incident, name)):
            values[name] = value
    return template.format_map(values)
