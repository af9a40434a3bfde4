"""The detector: desired and live objects matched by identity, normalised, and diffed.

What the cluster owns is never a difference: status, resourceVersion, uid,
generation, managedFields, creationTimestamp, the last-applied annotation,
controller bookkeeping, and fields the API server fills with its default when
Git leaves them out (a live-only `imagePullPolicy: IfNotPresent`,
`revisionHistoryLimit: 10`, a Service's assigned clusterIP…). A live-only field
with any other value is drift: someone added it. Quantities compare by value
(`500m` = `0.5`, `1Gi` = `1024Mi`).

>>> desired = {"spec": {"replicas": 3}}
>>> live = {"spec": {"replicas": 7, "revisionHistoryLimit": 10}, "status": {"ready": 7}}
>>> list(diff_bodies(normalise(desired), normalise(live)))
[('spec.replicas', 3, 7)]
"""

from __future__ import annotations

import copy
import fnmatch
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from core.drift.manifests import Manifest

#: metadata the cluster writes
CLUSTER_METADATA = (
    "resourceVersion",
    "uid",
    "generation",
    "managedFields",
    "creationTimestamp",
    "selfLink",
    "ownerReferences",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "finalizers",
)
#: annotations tools and controllers write
CLUSTER_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "autoscaling.alpha.kubernetes.io/conditions",
    "pv.kubernetes.io/bind-completed",
)
#: any value matches
ANY = object()
#: (path pattern with [*] for any list item, the default the API server fills in)
DEFAULTS: tuple[tuple[str, Any], ...] = (
    ("spec.revisionHistoryLimit", 10),
    ("spec.progressDeadlineSeconds", 600),
    ("spec.replicas", 1),
    ("spec.strategy.type", "RollingUpdate"),
    ("spec.strategy.rollingUpdate.maxSurge", "25%"),
    ("spec.strategy.rollingUpdate.maxUnavailable", "25%"),
    ("spec.updateStrategy.type", "RollingUpdate"),
    ("spec.updateStrategy.rollingUpdate.maxUnavailable", 1),
    ("spec.updateStrategy.rollingUpdate.maxSurge", 0),
    ("spec.updateStrategy.rollingUpdate.partition", 0),
    ("spec.podManagementPolicy", "OrderedReady"),
    ("spec.persistentVolumeClaimRetentionPolicy.*", "Retain"),
    ("spec.template.metadata.creationTimestamp", None),
    ("*.spec.restartPolicy", "Always"),
    ("*.spec.dnsPolicy", "ClusterFirst"),
    ("*.spec.schedulerName", "default-scheduler"),
    ("*.spec.terminationGracePeriodSeconds", 30),
    ("*.spec.serviceAccount", ANY),  # the deprecated mirror of serviceAccountName
    ("*.spec.serviceAccountName", "default"),
    ("*.spec.enableServiceLinks", True),
    ("*.spec.priority", 0),
    ("*.spec.preemptionPolicy", "PreemptLowerPriority"),
    ("*containers[*].terminationMessagePath", "/dev/termination-log"),
    ("*containers[*].terminationMessagePolicy", "File"),
    ("*containers[*].imagePullPolicy", ANY),  # IfNotPresent, or Always for :latest
    ("*containers[*].ports[*].protocol", "TCP"),
    ("*.ports[*].protocol", "TCP"),
    ("*.volumes[*].*.defaultMode", 420),
    ("*Probe.timeoutSeconds", 1),
    ("*Probe.periodSeconds", 10),
    ("*Probe.successThreshold", 1),
    ("*Probe.failureThreshold", 3),
    ("*Probe.*.scheme", "HTTP"),
    ("spec.clusterIP", ANY),
    ("spec.clusterIPs", ANY),
    ("spec.ipFamilies", ANY),
    ("spec.ipFamilyPolicy", "SingleStack"),
    ("spec.internalTrafficPolicy", "Cluster"),
    ("spec.sessionAffinity", "None"),
    ("spec.type", "ClusterIP"),
    ("spec.ports[*].targetPort", ANY),
    ("spec.jobTemplate.spec.template.metadata.creationTimestamp", None),
    ("spec.concurrencyPolicy", "Allow"),
    ("spec.suspend", False),
    ("spec.successfulJobsHistoryLimit", 3),
    ("spec.failedJobsHistoryLimit", 1),
    ("metadata.namespace", ANY),  # matched by identity already ("default" when left out)
)
_INDEX = re.compile(r"\[[^\]]*\]")
_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d+)?)([numkMGTPE]i?|m|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    """A copy without what the cluster owns (status, bookkeeping metadata and annotations).

    >>> normalise({"kind": "X", "status": {}, "metadata": {"name": "a", "uid": "1",
    ...            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}})
    {'kind': 'X', 'metadata': {'name': 'a'}}
    """
    clean = copy.deepcopy(body)
    clean.pop("status", None)
    metadata = clean.get("metadata")
    if isinstance(metadata, dict):
        for name in CLUSTER_METADATA:
            metadata.pop(name, None)
        for name in ("annotations", "labels"):
            table = metadata.get(name)
            if isinstance(table, dict):
                for annotation in CLUSTER_ANNOTATIONS:
                    table.pop(annotation, None)
                if not table:
                    metadata.pop(name)
    return clean


def ignored(path: str, patterns: Sequence[str]) -> bool:
    """Whether `path` is one of `patterns` (shell-style `*`) or lies under one.

    >>> ignored("spec.template.metadata.annotations.a/b", ["*.annotations"])
    True
    >>> ignored("spec.replicas", ["spec.rep"])
    False
    """
    for pattern in patterns:
        if path.startswith((pattern + ".", pattern + "[")) or path == pattern:
            return True
        glob = literal_brackets(pattern)
        if any(fnmatch.fnmatchcase(path, glob + tail) for tail in ("", ".*", "[[]*")):
            return True
    return False


def literal_brackets(pattern: str) -> str:
    """A field-path glob for fnmatch: `*` is a wildcard, `[` is itself (a list index).

    >>> fnmatch.fnmatchcase("a[name=x].b", literal_brackets("a[*].b"))
    True
    """
    return pattern.replace("[", "[[]")


def defaulted(path: str, value: Any) -> bool:
    """Whether a live-only field holds what the API server fills in when Git leaves it out."""
    generic = _INDEX.sub("[*]", path)
    for pattern, default in _DEFAULT_GLOBS:
        if fnmatch.fnmatchcase(generic, pattern) and (default is ANY or value == default):
            return True
    return False


_DEFAULT_GLOBS = tuple((literal_brackets(pattern), value) for pattern, value in DEFAULTS)


def diff_bodies(
    desired: Any, live: Any, path: str = "", *, ignore: Sequence[str] = ()
) -> Iterator[tuple[str, Any, Any]]:
    """(path, desired value, live value) of each difference, leaves first-level where possible."""
    if path and ignored(path, ignore):
        return
    if isinstance(desired, dict) or isinstance(live, dict):
        if (
            desired is not None
            and live is not None
            and not (isinstance(desired, dict) and isinstance(live, dict))
        ):
            yield path, desired, live
            return
        yield from _diff_mappings(desired or {}, live or {}, path, ignore, live is None)
        return
    if isinstance(desired, list) and isinstance(live, list):
        yield from _diff_lists(desired, live, path, ignore)
        return
    if live is None and desired is not None:
        yield path, desired, None
    elif desired is None and live is not None:
        if not defaulted(path, live):
            yield path, None, live
    elif not same_value(desired, live, path):
        yield path, desired, live


def same_value(desired: Any, live: Any, path: str) -> bool:
    """Equal, or equal quantities under `resources` (`500m` and `0.5`), or `"80"` and `80`."""
    if desired == live:
        return True
    if isinstance(desired, bool) or isinstance(live, bool):
        return False
    if "resources" in path:
        a, b = quantity(desired), quantity(live)
        return a is not None and a == b
    if isinstance(desired, int | str) and isinstance(live, int | str):
        return str(desired) == str(live)
    return False


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity's value, or None.

    >>> quantity("1Gi") == quantity("1024Mi"), quantity("500m") == quantity(0.5)
    (True, True)
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    match = _QUANTITY.fullmatch(str(value).strip())
    if match is None:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2) or ""]
    except (InvalidOperation, KeyError):
        return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _diff_mappings(
    desired: dict[str, Any],
    live: dict[str, Any],
    path: str,
    ignore: Sequence[str],
    live_gone: bool,
) -> Iterator[tuple[str, Any, Any]]:
    if live_gone and desired:
        yield path, desired, None
        return
    for key in sorted(set(desired) | set(live), key=str):
        yield from diff_bodies(
            desired.get(key), live.get(key), _join(path, str(key)), ignore=ignore
        )


def _named(items: list[Any]) -> bool:
    return all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in items)


def _diff_lists(
    desired: list[Any], live: list[Any], path: str, ignore: Sequence[str]
) -> Iterator[tuple[str, Any, Any]]:
    if desired and live and _named(desired) and _named(live):
        # containers, env, ports, volumes: matched by name, so a reorder is no drift
        wanted = {item["name"]: item for item in desired}
        running = {item["name"]: item for item in live}
        for name in [*wanted, *(n for n in running if n not in wanted)]:
            where = f"{path}[name={name}]"
            yield from diff_bodies(wanted.get(name), running.get(name), where, ignore=ignore)
        return
    if all(isinstance(item, dict) for item in [*desired, *live]) and len(desired) == len(live):
        for index, (a, b) in enumerate(zip(desired, live, strict=True)):
            yield from diff_bodies(a, b, f"{path}[{index}]", ignore=ignore)
        return
    if len(desired) != len(live) or any(
        not same_value(a, b, path) for a, b in zip(desired, live, strict=True)
    ):
        yield path, desired, live


def match(
    desired: Sequence[Manifest], live: Sequence[Manifest]
) -> tuple[list[tuple[Manifest, Manifest]], list[Manifest], list[Manifest]]:
    """(pairs, missing from the cluster, extra in it); what the cluster or a controller
    made (`cluster_made`) is never extra."""
    running = {m.key: m for m in live}
    pairs: list[tuple[Manifest, Manifest]] = []
    missing: list[Manifest] = []
    for wanted in desired:
        found = running.pop(wanted.key, None)
        if found is None:
            missing.append(wanted)
        else:
            pairs.append((wanted, found))
    extra = [m for m in running.values() if not cluster_made(m)]
    return pairs, missing, extra


#: objects every cluster makes for itself: never "extra", whatever the live command lists
CLUSTER_MADE = frozenset(
    {
        ("Service", "default", "kubernetes"),
        ("ConfigMap", "*", "kube-root-ca.crt"),
        ("ServiceAccount", "*", "default"),
        ("Namespace", "", "default"),
    }
)


def cluster_made(manifest: Manifest) -> bool:
    """Made by a controller or by the cluster itself, not by a person.

    >>> from core.drift.models import ObjectKey
    >>> root_ca = "kube-root-ca.crt"
    >>> key = ObjectKey(api_version="v1", kind="ConfigMap", namespace="prod", name=root_ca)
    >>> cluster_made(Manifest(key, {}))
    True
    """
    metadata = manifest.body.get("metadata")
    if isinstance(metadata, dict) and metadata.get("ownerReferences"):
        return True  # ReplicaSets, Pods, Jobs of a CronJob, EndpointSlices
    key = manifest.key
    if key.namespace.startswith("kube-") or key.name.startswith(("kube-", "system:")):
        return True
    if key.kind in {"Endpoints", "EndpointSlice", "Event", "Lease", "ControllerRevision"}:
        return True
    return any(
        key.kind == kind and namespace in ("*", key.namespace) and key.name == name
        for kind, namespace, name in CLUSTER_MADE
    )
