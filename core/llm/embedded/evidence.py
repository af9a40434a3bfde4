"""Which kinds of evidence an incident carries, from its text and its labels alike.

The phrases live in the knowledge files (English and Traditional Chinese);
this module only applies them. A phrase inside a negation ("no deploy since
Monday", 沒有部署) does not count.

>>> from core.llm.embedded.loader import builtin_knowledge
>>> k = builtin_knowledge()
>>> sorted(evidence_in(Incident(text="errors since version 3.2.1 went live"), k))
['recent_change']
>>> sorted(evidence_in(Incident(text="部署後 worker 卡住"), k))
['recent_change', 'stuck_worker']
>>> sorted(evidence_in(Incident(text="no deploy since monday, workers hang"), k))
['stuck_worker']
>>> sorted(evidence_in(Incident(labels={"version": "3.2.1", "previous_version": "3.2.0"}), k))
['recent_change']
"""

from __future__ import annotations

import re
from functools import cache

from core.llm.embedded.incident import Incident
from core.llm.embedded.knowledge import EvidenceKind, Knowledge

#: how a label's earlier value is usually named: previous_version, old_image, version_before
_BEFORE = ("previous_{}", "prev_{}", "old_{}", "last_{}", "from_{}", "{}_before", "{}_previous")
_FALSE = frozenset({"", "0", "false", "no", "none", "null"})


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _said(kind: EvidenceKind, text: str) -> bool:
    for negation in kind.negations:
        text = _compiled(negation).sub(" ", text)
    return any(_compiled(phrase).search(text) for phrase in kind.phrases)


def _fields(incident: Incident) -> dict[str, str]:
    return {**incident.annotations, **incident.labels}


def _in_labels(kind: EvidenceKind, fields: dict[str, str]) -> bool:
    for key, value in fields.items():
        if value.strip().lower() in _FALSE:
            continue
        if any(_compiled(pattern).search(key) for pattern in kind.label_keys):
            return True
    return any(key in fields and _said(kind, fields[key].lower()) for key in kind.label_values)


def _changed(kind: EvidenceKind, fields: dict[str, str]) -> bool:
    for name in kind.changed:
        now = fields.get(name)
        if not now:
            continue
        for before in _BEFORE:
            earlier = fields.get(before.format(name))
            if earlier and earlier != now:
                return True
    return False


def evidence_in(incident: Incident, knowledge: Knowledge) -> frozenset[str]:
    """The names of the evidence kinds ([evidence.X]) this incident shows."""
    fields = _fields(incident)
    return frozenset(
        name
        for name, kind in knowledge.evidence.items()
        if _said(kind, incident.text) or _in_labels(kind, fields) or _changed(kind, fields)
    )
