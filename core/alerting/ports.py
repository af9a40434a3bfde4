"""What the incident service needs from storage and from the chat side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from core.alerting.models import Alert, AlertState, Incident, IncidentView
from core.alerting.retention import Pruned
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

    async def add_incidents(self, incidents: Sequence[Incident]) -> list[Incident]:
        """`add_incident` for several (of distinct group keys), in one statement; returned in
        the order given."""
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

    async def find_incident(self, incident_id: int) -> Incident | None:
        """The incident alone, without its alerts: one read."""
        ...

    async def recent(self, *, open_only: bool, limit: int) -> list[Incident]:
        """Newest first."""
        ...

    async def silences_ending(self, before: datetime) -> list[int]:
        """Silenced incidents whose silence ends at or before `before`."""
        ...

    async def firing_unacknowledged(self, *, limit: int) -> list[Incident]:
        """Incidents in status `firing` (not acknowledged, silenced or resolved), oldest first."""
        ...

    async def released_silences(self, *, limit: int) -> list[Incident]:
        """Incidents no longer silenced that still hold a mirrored Alertmanager silence."""
        ...

    async def counts_by_status(self) -> dict[str, int]:
        """How many incidents are in each status."""
        ...

    async def prune_history(self, resolved_before: datetime) -> Pruned:
        """Remove the alert events, and the states of alerts that ended, of every incident
        resolved before `resolved_before` (and of no incident, older than that); an open
        incident's are never touched. Incidents themselves stay."""
        ...

    async def unpublished(self, *, limit: int) -> list[int]:
        """Incidents changed since their card was last queued: first cards first,
        then the most severe, then the oldest."""
        ...

    async def owed(self, incident_ids: Collection[int], *, limit: int) -> list[OwedCard]:
        """Of these incidents, up to `limit` whose card is behind, in `unpublished`'s order,
        each with a snapshot of its view (read without holding any lock)."""
        ...

    async def publish(self, cards: Sequence[PublishedCard]) -> PublishResult:
        """In one transaction: queue each card and mark the version it shows as published.

        An incident another transaction holds locked is skipped (it stays owed):
        publishing never waits for intake. A version older than the one already
        published queues nothing.
        """
        ...


class CardMaker(Protocol):
    """Turns an incident into its chat card; None when there is nowhere to post."""

    def __call__(self, view: IncidentView) -> Card | None: ...


class OwedCard(BaseModel):
    """An incident whose card is behind: its view as of `version`."""

    model_config = ConfigDict(frozen=True)

    view: IncidentView
    version: int
    #: no card was ever queued for it: this is its first announcement
    first: bool

    @property
    def incident_id(self) -> int:
        return self.view.incident.id


class PublishedCard(BaseModel):
    """A rendered card and the incident version it shows (None: nowhere to post)."""

    model_config = ConfigDict(frozen=True)

    incident_id: int
    version: int
    card: Card | None


class PublishResult(BaseModel):
    """What a `publish` did: deliveries queued, and incidents left owed because they were locked."""

    queued: int = 0
    skipped: list[int] = Field(default_factory=list)
