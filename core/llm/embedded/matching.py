"""Which knowledge family an incident belongs to.

An exact alert name beats a pattern, a pattern beats keywords, and among
patterns the earlier family wins (the table lists specific families first).

>>> from core.llm.embedded.incident import Incident
>>> from core.llm.embedded.loader import builtin_knowledge
>>> k = builtin_knowledge()
>>> match_family(Incident(alert_name="CoreDNSErrorsHigh"), k).key
'dns'
>>> match_family(Incident(text="pod is in crashloopbackoff"), k).key
'pod_crashloop'
>>> match_family(Incident(alert_name="LicenseServerUnreachable"), k) is None
True
"""

from __future__ import annotations

import re
from functools import cache

from core.llm.embedded.incident import Incident
from core.llm.embedded.knowledge import Family, Knowledge

_REGEX_CHARS = re.compile(r"[.*+?()\[\]|^$\\]")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _by_name(name: str, families: tuple[Family, ...]) -> Family | None:
    lowered = name.lower()
    for family in families:
        if any(not _REGEX_CHARS.search(p) and p.lower() == lowered for p in family.alertnames):
            return family
    for family in families:
        if any(_compiled(p).fullmatch(name) for p in family.alertnames):
            return family
    return None


def _by_keywords(text: str, families: tuple[Family, ...]) -> Family | None:
    best: Family | None = None
    best_hits = 0
    for family in families:
        hits = sum(1 for keyword in family.keywords if keyword in text)
        if hits > best_hits:
            best, best_hits = family, hits
    return best


def match_family(incident: Incident, knowledge: Knowledge) -> Family | None:
    """The family of this incident, or None when the engine does not know it."""
    families = knowledge.families
    if incident.alert_name and (family := _by_name(incident.alert_name, families)):
        return family
    if not incident.alert_name:
        for candidate in incident.name_candidates:
            if family := _by_name(candidate, families):
                return family
    return _by_keywords(incident.text, families)
