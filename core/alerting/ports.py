"""What the incident service needs from storage and from the chat side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from core.alerting.models import Alert, AlertState, Incident, IncidentView
from core.audit import AuditEntry
from core.messages import Card

T = TypeVar("T")

#: alerts a card or a read view lists; the incident carries the full counts
VIEW_ALERTS = 10


class IncidentTx(Protocol):
    """One transaction: everything written through it commits together or not at all.

    Lock order, so that two transactions never wait on each other in a cycle: alert
    states first (`states`, by fingerprint), then incidents (`incidents`, by id, all
    of a transaction's in one call); rows are written only after they are locked.
    """

    async def states(self, fingerprints: Collection[str]) -> dict[str, AlertState]:
        """Current state of each known fingerprint, locked in fingerprint order where the
        database can."""
        ...

    async def incidents(
        self, ids: Collection[int], *, open_groups: Collection[str] = ()
    ) -> dict[int, Incident]:
        """Incidents by id, and the open (not resolved) incident of each of `open_groups`
        that has one; all locked in one statement, in id order, where the database can."""
        ...

    async def add_incident(self, incident: Incident) -> Incident:
        """Insert a new incident (its `id` is ignored); returns it with its id."""
        ...

    async def record(self, alerts: list[tuple[Alert, int | None]]) -> None:
        """Append alert events and make each the current state of its fingerprint."""
        ...

    async def save(self, incident: Incident) -> None:
        """Write the incident and mark its card as owed (see `IncidentStore.publish`)."""
        ...

    async def save_many(self, incidents: Sequence[Incident]) -> None:
        """`save` for each, in one statement."""
        ...

    async def audit(self, entry: AuditEntry) -> None: ...


class IncidentStore(Protocol):
    async def run(self, work: Callable[[IncidentTx], Awaitable[T]]) -> T:
        """Run `work` in one transaction, retrying it when a concurrent writer got there first."""
        ...

    async def get(self, incident_id: int, *, alerts: int = VIEW_ALERTS) -> IncidentView | None:
        """The incident with up to `alerts` of its alerts (firing first, oldest first) and
        the earliest start its senders stated (over all its alerts, listed or not)."""
        ...

    async def recent(self, *, open_only: bool, limit: int) -> list[Incident]:
        """Newest first."""
        ...

    async def silences_ending(self, before: datetime) -> list[int]:
        """Silenced incidents whose silence ends at or before `before`."""
        ...

    async def counts_by_status(self) -> dict[str, int]:
        """How many incidents are in each status."""
        ...

    async def unpublished(self, *, limit: int) -> list[int]:
        """Incidents changed since their card was last queued (oldest first)."""
        ...

    async def publish(self, incident_ids: Sequence[int], cards: CardMaker) -> int:
        """In one transaction: render each incident's card, queue it, mark it published.

        Returns how many deliveries were queued (a card that did not change queues none).
        """
        ...


class CardMaker(Protocol):
    """Turns an incident into its chat card; None when there is nowhere to post."""

    def __call__(self, view: IncidentView) -> Card | None: ...
