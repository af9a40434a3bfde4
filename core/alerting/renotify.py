"""Re-notify: an incident still firing and unacknowledged is announced again, so phones ring.

An edit to a card notifies nobody; a reply to it does. Every `renotify_after`
(`[incidents] renotify_after = "30m"` in HOWL_CONFIG; off when absent) an
incident that is still `firing` — not acknowledged, silenced or resolved — gets
a new message replying to its card, naming `[incidents] mention`.

Nothing is announced twice for the same period, even across a restart: the
moment of each announcement is stored on the incident, and it is claimed (in a
transaction that checks nobody claimed it first) before the message is queued.
A crash between the claim and the queueing loses that one announcement; the
next period announces again.

>>> from datetime import UTC, datetime, timedelta
>>> from core.alerting.models import Incident, IncidentStatus, Severity
>>> at = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
>>> incident = Incident(id=1, group_key="k", title="Down", severity=Severity.HIGH,
...     status=IncidentStatus.FIRING, source="alertmanager", created_at=at, updated_at=at)
>>> [i.id for i in due([incident], now=at + timedelta(minutes=29), after=timedelta(minutes=30))]
[]
>>> [i.id for i in due([incident], now=at + timedelta(minutes=30), after=timedelta(minutes=30))]
[1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from core.alerting.durations import parse_duration
from core.alerting.models import Incident, IncidentStatus
from core.alerting.ports import IncidentStore, IncidentTx
from core.errors import ConfigError, InvalidInputError
from core.messages import Priority, Rendered
from core.ports import Clock

log = structlog.get_logger(__name__)

#: how often the job looks for due incidents, at most (a shorter renotify_after checks sooner)
CHECK_EVERY = timedelta(seconds=30)
#: incidents looked at per run; the rest wait for the next run
BATCH = 200
MAX_MENTIONS = 20
MAX_MENTION_CHARS = 64


@dataclass(frozen=True)
class RenotifyPolicy:
    """When to announce again, and whom to name."""

    after: timedelta | None = None
    mention: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.after is not None

    @property
    def check_every(self) -> timedelta:
        """The job's interval: often enough that an announcement is at most this late."""
        return min(CHECK_EVERY, self.after) if self.after is not None else CHECK_EVERY

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RenotifyPolicy:
        """`[incidents] renotify_after` and `mention`; a bad value is one ConfigError line."""
        section = config.get("incidents", {})
        if not isinstance(section, Mapping):
            raise ConfigError("HOWL_CONFIG [incidents]: expected a table")
        return cls(after=_after(section.get("renotify_after")), mention=_mention(section))


def _after(value: object) -> timedelta | None:
    if value is None:
        return None
    problem = "HOWL_CONFIG [incidents] renotify_after: expected a duration like 30m or 2h"
    if not isinstance(value, str):
        raise ConfigError(f"{problem} (a string)")
    try:
        return parse_duration(value)
    except InvalidInputError:
        raise ConfigError(f"{problem}, up to 30d (got {value[:40]!r})") from None


def _mention(section: Mapping[str, Any]) -> tuple[str, ...]:
    value = section.get("mention", [])
    if (
        not isinstance(value, list)
        or len(value) > MAX_MENTIONS
        or not all(isinstance(m, str) and 0 < len(m.strip()) <= MAX_MENTION_CHARS for m in value)
    ):
        raise ConfigError(
            "HOWL_CONFIG [incidents] mention: expected a list of up to "
            f'{MAX_MENTIONS} names like "@oncall_alice" ({MAX_MENTION_CHARS} characters each)'
        )
    return tuple(m.strip() for m in value)


def last_announced(incident: Incident) -> datetime:
    """When the chat last heard of the incident with a new message: its card or a re-notify."""
    return incident.renotified_at or incident.created_at


def due(incidents: Iterable[Incident], *, now: datetime, after: timedelta) -> list[Incident]:
    """Incidents firing unacknowledged whose last announcement is at least `after` old."""
    return [
        incident
        for incident in incidents
        if incident.status is IncidentStatus.FIRING and now - last_announced(incident) >= after
    ]


class CardMessages(Protocol):
    """Where a card was posted (the outbox knows once the card has been sent)."""

    async def card_message_id(self, key: str) -> int | None: ...


class Replies(Protocol):
    """The part of the outbox a re-notify uses."""

    async def reply(
        self,
        chat_id: int,
        content: Rendered,
        *,
        reply_to_message_id: int | None = None,
        priority: int = ...,
    ) -> int: ...


#: incident and the mentions -> the message (HTML, escaped); rendering lives in bot/
RenotifyRenderer = Callable[[Incident, Sequence[str]], Rendered]


class Renotifier:
    """Finds the incidents due and announces each once per period."""

    def __init__(
        self,
        store: IncidentStore,
        clock: Clock,
        *,
        policy: RenotifyPolicy,
        chat_id: int,
        cards: CardMessages,
        outbox: Replies,
        render: RenotifyRenderer,
        card_key: Callable[[int], str],
    ) -> None:
        self._store = store
        self._clock = clock
        self.policy = policy
        self._chat_id = chat_id
        self._cards = cards
        self._outbox = outbox
        self._render = render
        self._card_key = card_key

    async def run_once(self) -> int:
        """Announce every incident due now; returns how many were announced."""
        after = self.policy.after
        if after is None:
            return 0
        now = self._clock.now()
        candidates = await self._store.firing_unacknowledged(limit=BATCH)
        announced = 0
        for incident in due(candidates, now=now, after=after):
            claimed = await self._claim(incident, now=now, after=after)
            if claimed is None:
                continue  # acked, silenced, resolved or announced by someone else meanwhile
            message_id = await self._cards.card_message_id(self._card_key(claimed.id))
            # no message yet (the card waits, or a storm digest stands for it): a plain
            # new message still rings
            await self._outbox.reply(
                self._chat_id,
                self._render(claimed, self.policy.mention),
                reply_to_message_id=message_id,
                priority=Priority.CARD_NEW,
            )
            announced += 1
            log.info("incident_renotified", incident_id=claimed.id, reply_to=message_id)
        return announced

    async def _claim(self, seen: Incident, *, now: datetime, after: timedelta) -> Incident | None:
        """Mark the announcement as made, unless the incident changed since it was read."""

        async def work(tx: IncidentTx) -> Incident | None:
            current = (await tx.incidents({seen.id})).get(seen.id)
            if current is None or not due([current], now=now, after=after):
                return None
            claimed = current.model_copy(update={"renotified_at": now})
            await tx.save(claimed)
            return claimed

        return await self._store.run(work)
