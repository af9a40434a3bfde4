"""The evidence's knowledge: published runbooks and active anti-patterns for an incident.

What an incident's snapshot carries (`core.debate.ports.KnowledgeSource`):
the published runbooks and the anti-patterns of the last `window` (7 days
unless configured) filed under its symptoms hash; when none are, those whose
symptoms are lexically close (shared words of alert name, service and
identifying labels). Only an anti-pattern of the *same* symptoms gates
automatic repair (`KnowledgeNote.match == "same_symptoms"`); a close one is
shown to the agents as a warning, nothing more.
"""

from __future__ import annotations

from datetime import timedelta

from core.debate.models import KnowledgeNote
from core.knowledge.models import DEFAULT_ANTI_PATTERN_WINDOW, EntryKind, KnowledgeEntry
from core.knowledge.ports import KnowledgeStore
from core.knowledge.symptoms import Symptoms, incident_symptoms, normalise
from core.ports import Clock

#: share of words (Jaccard) two symptoms need in common to count as close
CLOSE_ENOUGH = 0.5
#: entries read to look for close ones when nothing matches exactly
SCAN_LIMIT = 200
NOTES = 8


def closeness(a: Symptoms, b: Symptoms) -> float:
    """Jaccard similarity of the two symptoms' words.

    >>> from core.knowledge.symptoms import normalise
    >>> x = normalise("KubePodCrashLooping", {"namespace": "prod", "deployment": "api"})
    >>> y = normalise("KubePodCrashLooping", {"namespace": "prod", "deployment": "web"})
    >>> round(closeness(x, y), 2), closeness(x, x)
    (0.71, 1.0)
    """
    left, right = a.words(), b.words()
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def entry_symptoms(entry: KnowledgeEntry) -> Symptoms:
    """The symptoms an entry was filed under, read back from its stored fields."""
    labels = {k: v for k, v in entry.symptoms.items() if k != "alert"}
    return normalise(entry.symptoms.get("alert", entry.title), labels)


def note_of(entry: KnowledgeEntry, *, window: timedelta, same: bool) -> KnowledgeNote:
    return KnowledgeNote(
        kind="runbook" if entry.kind is EntryKind.RUNBOOK else "anti_pattern",
        title=f"#{entry.id} {entry.title}",
        body=entry.body,
        tool=entry.action,
        arguments=dict(entry.arguments),
        entry_id=entry.id,
        match="same_symptoms" if same else "similar",
        expires_at=entry.active_until(window),
    )


class StoredKnowledge:
    """A `KnowledgeSource` over the knowledge store."""

    def __init__(
        self,
        store: KnowledgeStore,
        clock: Clock,
        *,
        window: timedelta = DEFAULT_ANTI_PATTERN_WINDOW,
    ) -> None:
        self._store = store
        self._clock = clock
        self.window = window

    async def for_symptoms(self, labels: dict[str, str], title: str) -> list[KnowledgeNote]:
        symptoms = incident_symptoms(labels, title)
        since = self._clock.now() - self.window
        scanned = await self._store.usable(
            anti_patterns_since=since, symptoms_hash=None, limit=SCAN_LIMIT
        )
        if len(scanned) < SCAN_LIMIT:
            # the scan saw every usable entry (the usual case): the same symptoms are in it
            same = [e for e in scanned if e.symptoms_hash == symptoms.hash][:NOTES]
        else:
            same = await self._store.usable(
                anti_patterns_since=since, symptoms_hash=symptoms.hash, limit=NOTES
            )
        if same:
            return [note_of(e, window=self.window, same=True) for e in same]
        scored = sorted(
            ((closeness(symptoms, entry_symptoms(e)), e) for e in scanned),
            key=lambda pair: (-pair[0], -pair[1].id),
        )
        return [
            note_of(e, window=self.window, same=False)
            for score, e in scored[:NOTES]
            if score >= CLOSE_ENOUGH
        ]
