"""The symptoms hash: the same problem gives the same 16 hex characters, wherever it shows.

What is hashed is the normalised symptoms: the alert name, the labels that
identify the failing *thing* (its namespace, workload, container, service,
cluster...) and the service. What names one replica of it — the pod, the
instance, the node, a container id, an IP — is left out, so the problem on
another pod of the same deployment hashes the same; a pod name still says
which deployment or StatefulSet it belongs to, and that is kept.

>>> a = symptoms_hash("KubePodCrashLooping", {"namespace": "prod", "pod": "api-7d9f8b6c4-x2x9k"})
>>> b = symptoms_hash("KubePodCrashLooping", {"namespace": "prod", "pod": "api-7d9f8b6c4-qq7rt"})
>>> a == b, len(a)
(True, 16)
>>> a == symptoms_hash("KubePodCrashLooping", {"namespace": "dev", "pod": "api-7d9f8b6c4-x2x9k"})
False
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

HASH_CHARS = 16

#: labels that name the failing thing; anything else is the replica, the moment or the sender
IDENTIFYING = frozenset(
    {
        "namespace",
        "cluster",
        "env",
        "environment",
        "region",
        "deployment",
        "statefulset",
        "daemonset",
        "cronjob",
        "job",
        "container",
        "service",
        "app",
        "component",
        "persistentvolumeclaim",
        "queue",
        "topic",
        "database",
        "datname",
        "device",
        "mountpoint",
        "endpoint",
        "route",
        "handler",
    }
)
#: where the service is named, in order of preference
SERVICE_LABELS = ("service", "app", "app_kubernetes_io_name", "app.kubernetes.io/name", "job")

# <deployment>-<replicaset hash>-<pod hash>, <statefulset>-<ordinal>, <cronjob>-<minutes>
_DEPLOYMENT_POD = re.compile(r"^(?P<owner>[a-z0-9-]+?)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_STATEFUL_POD = re.compile(r"^(?P<owner>[a-z0-9-]+?)-\d{1,4}$")
_CRONJOB_RUN = re.compile(r"^(?P<owner>[a-z0-9-]+?)-\d{8,}$")


class Symptoms(BaseModel):
    """The normalised symptoms of an incident; `hash` is what knowledge is filed under."""

    model_config = ConfigDict(frozen=True)

    alert: str
    service: str = ""
    labels: dict[str, str] = {}
    #: the alert name as the sender spelled it (camelCase kept for `words`); not hashed
    raw_alert: str = ""

    @property
    def hash(self) -> str:
        canonical = json.dumps(
            {"alert": self.alert, "service": self.service, "labels": self.labels},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_CHARS]

    def words(self) -> frozenset[str]:
        """The symptoms as lower-case words, for lexical closeness (camelCase split)."""
        spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", self.raw_alert or self.alert)
        text = " ".join([spaced, self.service, *self.labels.values()])
        return frozenset(w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) > 1)


def _norm(text: str) -> str:
    return " ".join(str(text).split()).lower()


def owner_of_pod(pod: str) -> tuple[str, str] | None:
    """(label, workload) a pod's name says it belongs to, if it follows a controller's pattern.

    >>> owner_of_pod("api-7d9f8b6c4-x2x9k"), owner_of_pod("db-0"), owner_of_pod("oddball")
    (('deployment', 'api'), ('statefulset', 'db'), None)
    """
    name = _norm(pod)
    for label, pattern in (
        ("cronjob", _CRONJOB_RUN),
        ("deployment", _DEPLOYMENT_POD),
        ("statefulset", _STATEFUL_POD),
    ):
        if match := pattern.match(name):
            return label, match["owner"]
    return None


def normalise(alert_name: str, labels: Mapping[str, str]) -> Symptoms:
    """The symptoms of an alert (or an incident: its title and labels)."""
    lowered = {_norm(k).replace("-", "_"): _norm(v) for k, v in labels.items() if _norm(v)}
    kept = {k: v for k, v in lowered.items() if k in IDENTIFYING}
    pod = lowered.get("pod") or lowered.get("pod_name")
    if (
        pod
        and (owner := owner_of_pod(pod)) is not None
        and not any(k in kept for k in ("deployment", "statefulset", "daemonset", "cronjob"))
    ):
        kept[owner[0]] = owner[1]
    if job_name := lowered.get("job_name"):
        # a CronJob's run is named <cronjob>-<minutes>: the CronJob is the thing
        found = _CRONJOB_RUN.match(job_name)
        kept.setdefault("cronjob", found["owner"] if found else job_name)
    service = next((lowered[k] for k in SERVICE_LABELS if lowered.get(k)), "")
    name = _norm(alert_name) or lowered.get("alertname", "")
    return Symptoms(
        alert=name,
        service=service,
        labels=dict(sorted(kept.items())),
        raw_alert=alert_name.strip() or lowered.get("alertname", ""),
    )


def incident_symptoms(labels: Mapping[str, str], title: str) -> Symptoms:
    """An incident's symptoms: its `alertname` label when it has one, else its title."""
    return normalise(labels.get("alertname") or title, labels)


def symptoms_hash(alert_name: str, labels: Mapping[str, str]) -> str:
    """The 16-hex-character hash of `normalise(alert_name, labels)`."""
    return normalise(alert_name, labels).hash
