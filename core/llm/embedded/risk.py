"""Risk that errs toward people: floors a situation never goes below, and who must look.

The words live in core/knowledge/risk.toml (`[floor.X]`, `[attention]`); this
module only applies them. A floor is read in the object's own names and what
the alert says, with place labels taken out (see `guard.own_words`), plus the
other labels (name=value) and the alert's name split into words — so a `payments`
namespace alone never raises a report job, but "payout batch failed halfway"
does.

>>> from core.llm.embedded.loader import builtin_knowledge
>>> k = builtin_knowledge()
>>> [name for name, _ in floors_for(Incident(text="dead-letter queue is growing"), None, k)]
['data_loss']
>>> needs_attention(Incident(severity="info", text="nightly export finished"), k)
False
>>> needs_attention(Incident(severity="info", text="renewal failed twice"), k)
True
"""

from __future__ import annotations

import re
from functools import cache

from core.llm.embedded.guard import own_words
from core.llm.embedded.incident import Incident
from core.llm.embedded.knowledge import Family, Knowledge, RiskFloor

_CAMEL_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")
#: why a person decides when nothing is proposed for an alert that still fires
NO_ACTION_FITS = "no registered action fits; a person must decide"


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _floor_words(incident: Incident, knowledge: Knowledge) -> str:
    places = set(knowledge.guard.places)
    # a label's name says what kind of object it is (statefulset=search-es): both count
    values = [f"{k}={v}" for k, v in incident.labels.items() if k not in places | {"alertname"}]
    # "RedisKeyEvictions" says what fired in words a phrase can find
    name = " ".join(_CAMEL_PART.findall(incident.alert_name))
    return " ".join([own_words(incident, knowledge), name, *values]).lower()


def _holds(floor: RiskFloor, family: Family | None, words: str) -> bool:
    if family is not None and family.key in floor.families:
        return True
    if not floor.all_of:
        return False
    return all(any(_compiled(p).search(words) for p in group) for group in floor.all_of)


def floors_for(
    incident: Incident, family: Family | None, knowledge: Knowledge
) -> list[tuple[str, RiskFloor]]:
    """The floors ([floor.X]) this incident is under, in the data files' order."""
    words = _floor_words(incident, knowledge)
    return [(n, f) for n, f in knowledge.floors.items() if _holds(f, family, words)]


def needs_attention(incident: Incident, knowledge: Knowledge) -> bool:
    """Whether a person must look when no change is proposed: any firing alert above info,
    and an info one whose text says something is failing or about to."""
    attention = knowledge.attention
    status = str(incident.extra.get("status") or "").lower()
    if status in attention.settled_statuses:
        return False
    if incident.severity not in attention.quiet_severities:
        return True
    return any(_compiled(p).search(incident.text) for p in attention.failing)
