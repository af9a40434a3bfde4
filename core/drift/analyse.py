"""The analyser: each difference gets a level, and the report a one-line summary.

critical — images, security context, RBAC, secret references, host access;
warning  — replicas, resources, env, and any other spec field;
info     — labels and annotations.

>>> from core.drift.models import ObjectKey
>>> key = ObjectKey(api_version="apps/v1", kind="Deployment", namespace="prod", name="api")
>>> level_of(key, "changed", "spec.template.spec.containers[name=api].image").value
'critical'
>>> level_of(key, "changed", "spec.replicas").value
'warning'
>>> level_of(key, "changed", "metadata.labels.team").value
'info'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from core.drift.models import ChangeKind, DriftLevel, DriftObject, ObjectKey

RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
SENSITIVE_KINDS = RBAC_KINDS | {"Secret", "ServiceAccount", "NetworkPolicy"}

#: (field pattern, level): first match wins, so critical rules come first
_RULES: tuple[tuple[re.Pattern[str], DriftLevel], ...] = (
    (re.compile(r"(^|\.)image$|\]\.image$"), DriftLevel.CRITICAL),
    (
        re.compile(
            r"securityContext|privileged|capabilities|allowPrivilegeEscalation|runAsUser"
            r"|runAsNonRoot|runAsGroup|readOnlyRootFilesystem|seccompProfile|procMount"
        ),
        DriftLevel.CRITICAL,
    ),
    (re.compile(r"host(Network|PID|IPC|Path|Port|Users)"), DriftLevel.CRITICAL),
    (re.compile(r"serviceAccount|automountServiceAccountToken"), DriftLevel.CRITICAL),
    (
        re.compile(r"secretKeyRef|secretRef|secretName|imagePullSecrets|\.secret(\.|$)"),
        DriftLevel.CRITICAL,
    ),
    (re.compile(r"^(rules|roleRef|subjects|aggregationRule)"), DriftLevel.CRITICAL),
    (
        re.compile(r"^metadata\.(labels|annotations)|\.metadata\.(labels|annotations)"),
        DriftLevel.INFO,
    ),
    (re.compile(r"replicas|resources|(^|\.)env(\[|$)|envFrom"), DriftLevel.WARNING),
)


def level_of(key: ObjectKey, change: ChangeKind, path: str) -> DriftLevel:
    """How much one difference matters (see the module docstring)."""
    if key.kind in RBAC_KINDS or (key.kind == "Secret" and change != "changed"):
        return DriftLevel.CRITICAL
    if change != "changed":
        return DriftLevel.CRITICAL if key.kind in SENSITIVE_KINDS else DriftLevel.WARNING
    for pattern, level in _RULES:
        if pattern.search(path):
            return level
    return DriftLevel.WARNING


def summary(objects: Sequence[DriftObject], *, problems: int = 0) -> str:
    """One line: how many differences at which levels, in how many objects.

    >>> summary([])
    'No drift: the cluster matches Git.'
    """
    counts = Counter(d.level for obj in objects for d in obj.differences)
    trouble = f" {problems} problem(s) stopped part of the scan." if problems else ""
    if not objects:
        return ("No drift found." + trouble) if problems else "No drift: the cluster matches Git."
    levels = ", ".join(
        f"{counts[level]} {level.value}" for level in reversed(DriftLevel) if counts[level]
    )
    total = sum(counts.values())
    return f"{total} difference(s) in {len(objects)} object(s): {levels}.{trouble}"
