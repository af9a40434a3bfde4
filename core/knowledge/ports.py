"""What the knowledge service needs from outside: its store and where its cards go."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.knowledge.models import EntryKind, EntryStatus, KnowledgeEntry, NewEntry


class KnowledgeStore(Protocol):
    """Runbooks and anti-patterns, filed under their symptoms hash."""

    async def add(self, entry: NewEntry) -> KnowledgeEntry: ...

    async def get(self, entry_id: int) -> KnowledgeEntry | None: ...

    async def review(
        self, entry_id: int, status: EntryStatus, *, by: str, at: datetime
    ) -> tuple[KnowledgeEntry | None, bool]:
        """Publish or reject a draft: (the entry, whether this call changed it).

        Only a DRAFT changes; any other entry comes back as stored, unchanged
        (of two people pressing at once, one decides, the other is told).
        """
        ...

    async def recent(
        self,
        *,
        limit: int,
        kind: EntryKind | None = None,
        status: EntryStatus | None = None,
    ) -> list[KnowledgeEntry]:
        """Newest first."""
        ...

    async def usable(
        self, *, anti_patterns_since: datetime, symptoms_hash: str | None, limit: int
    ) -> list[KnowledgeEntry]:
        """Published runbooks and anti-patterns created since `anti_patterns_since`, newest
        first; only those filed under `symptoms_hash` unless it is None."""
        ...

    async def incidents_with(
        self, symptoms_hash: str, *, limit: int, excluding: int | None = None
    ) -> list[int]:
        """Ids of incidents with these symptoms, newest first."""
        ...


class KnowledgeCards(Protocol):
    """Shows an entry in the alert chat: a runbook's review card, an anti-pattern's notice.

    Called again after a review: the same card, edited to say who decided.
    """

    async def show(self, entry: KnowledgeEntry) -> None: ...
