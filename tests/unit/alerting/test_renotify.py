"""Re-notify: the policy from HOWL_CONFIG, which incidents are due, and announcing each once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from core.alerting.lifecycle import Command
from core.alerting.models import Actor, Incident
from core.alerting.renotify import BATCH, CHECK_EVERY, Renotifier, RenotifyPolicy, due
from core.alerting.service import IncidentService
from core.errors import ConfigError
from core.messages import Priority, Rendered
from tests.unit.alerting.fakes import START, FakeClock, FakeIncidentStore, firing

HTTP = Actor(id="http", name="Alertmanager")
ALICE = Actor(id="tg:1", name="Alice")
HALF_HOUR = timedelta(minutes=30)


# --- the policy ----------------------------------------------------------------------


def test_off_when_absent() -> None:
    policy = RenotifyPolicy.from_config({})
    assert (policy.enabled, policy.after, policy.mention) == (False, None, ())
    assert RenotifyPolicy.from_config({"incidents": {"group_by": ["alertname"]}}) == policy


def test_renotify_after_and_mention() -> None:
    policy = RenotifyPolicy.from_config(
        {"incidents": {"renotify_after": "30m", "mention": ["@oncall_alice", " @bob "]}}
    )
    assert policy == RenotifyPolicy(after=HALF_HOUR, mention=("@oncall_alice", "@bob"))
    assert policy.check_every == CHECK_EVERY
    short = RenotifyPolicy.from_config({"incidents": {"renotify_after": "5s"}})
    assert short.check_every == timedelta(seconds=5)


@pytest.mark.parametrize(
    ("incidents", "message"),
    [
        (
            {"renotify_after": "soon"},
            "HOWL_CONFIG [incidents] renotify_after: expected a duration like 30m or 2h, "
            "up to 30d (got 'soon')",
        ),
        (
            {"renotify_after": "0m"},
            "HOWL_CONFIG [incidents] renotify_after: expected a duration like 30m or 2h, "
            "up to 30d (got '0m')",
        ),
        (
            {"renotify_after": 30},
            "HOWL_CONFIG [incidents] renotify_after: expected a duration like 30m or 2h (a string)",
        ),
        *(
            (
                {"mention": bad},
                "HOWL_CONFIG [incidents] mention: expected a list of up to 20 names like "
                '"@oncall_alice" (64 characters each)',
            )
            for bad in ("@alice", [""], [1], ["@" + "x" * 64], ["@a"] * 21)
        ),
    ],
)
def test_bad_values_are_one_line_naming_the_key(incidents: Any, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        RenotifyPolicy.from_config({"incidents": incidents})
    assert str(raised.value) == message


# --- which incidents are due (a pure function) ---------------------------------------


def incident(status: str = "firing", **fields: Any) -> Incident:
    return Incident.model_validate(
        {
            "id": 1, "group_key": "k", "title": "Down", "severity": "high", "status": status,
            "source": "alertmanager", "created_at": START, "updated_at": START, **fields,
        }
    )  # fmt: skip


@pytest.mark.parametrize(
    ("found", "minutes", "is_due"),
    [
        (incident(), 29, False),
        (incident(), 30, True),
        (incident(renotified_at=START + timedelta(minutes=30)), 59, False),
        (incident(renotified_at=START + timedelta(minutes=30)), 60, True),
        (incident("acknowledged"), 90, False),
        (incident("silenced"), 90, False),
        (incident("resolved"), 90, False),
    ],
)
def test_due_only_firing_unacknowledged_and_a_period_old(
    found: Incident, minutes: int, is_due: bool
) -> None:
    now = START + timedelta(minutes=minutes)
    assert due([found], now=now, after=HALF_HOUR) == ([found] if is_due else [])


# --- announcing ----------------------------------------------------------------------


class FakeOutbox:
    """Card message ids and queued replies, as the outbox would hold them."""

    def __init__(self) -> None:
        self.message_ids: dict[str, int] = {}
        self.replies: list[tuple[int, str, int | None, int]] = []

    async def card_message_id(self, key: str) -> int | None:
        return self.message_ids.get(key)

    async def reply(
        self,
        chat_id: int,
        content: Rendered,
        *,
        reply_to_message_id: int | None = None,
        priority: int = Priority.REPLY,
    ) -> int:
        self.replies.append((chat_id, content.text, reply_to_message_id, priority))
        return len(self.replies)


def render(incident: Incident, mention: Sequence[str]) -> Rendered:
    return Rendered(text=f"{' '.join(mention)} #{incident.id} still firing")


@pytest.fixture
def outbox() -> FakeOutbox:
    return FakeOutbox()


def renotifier(
    store: FakeIncidentStore, clock: FakeClock, outbox: FakeOutbox, after: timedelta | None
) -> Renotifier:
    return Renotifier(
        store,
        clock,
        policy=RenotifyPolicy(after=after, mention=("@oncall_alice",)),
        chat_id=-100,
        cards=outbox,
        outbox=outbox,
        render=render,
        card_key=lambda i: f"incident:{i}",
    )


async def test_a_firing_incident_is_announced_as_a_reply_to_its_card_every_period(
    store: FakeIncidentStore, clock: FakeClock, outbox: FakeOutbox
) -> None:
    service = IncidentService(store, clock)
    [incident_id] = (await service.ingest([firing("a")], actor=HTTP)).incidents
    outbox.message_ids[f"incident:{incident_id}"] = 77
    job = renotifier(store, clock, outbox, HALF_HOUR)
    clock.advance(minutes=29)
    assert await job.run_once() == 0
    clock.advance(minutes=1)
    assert await job.run_once() == 1
    assert outbox.replies == [(-100, "@oncall_alice #1 still firing", 77, Priority.CARD_NEW)]
    assert store.incident(incident_id).renotified_at == clock.now()
    assert await job.run_once() == 0, "once per period"
    clock.advance(minutes=30)
    assert await job.run_once() == 1
    assert len(outbox.replies) == 2


async def test_nothing_is_sent_twice_for_a_period_across_a_restart(
    store: FakeIncidentStore, clock: FakeClock, outbox: FakeOutbox
) -> None:
    await IncidentService(store, clock).ingest([firing("a")], actor=HTTP)
    clock.advance(minutes=31)
    assert await renotifier(store, clock, outbox, HALF_HOUR).run_once() == 1
    # a new process over the same store (the stored moment is all it knows)
    clock.advance(minutes=10)
    assert await renotifier(store, clock, outbox, HALF_HOUR).run_once() == 0
    assert len(outbox.replies) == 1


@pytest.mark.parametrize(
    ("command", "until"), [(Command.ACK, None), (Command.SILENCE, 1), (Command.RESOLVE, None)]
)
async def test_ack_silence_or_resolve_stops_it(
    store: FakeIncidentStore,
    clock: FakeClock,
    outbox: FakeOutbox,
    command: Command,
    until: int | None,
) -> None:
    service = IncidentService(store, clock)
    [incident_id] = (await service.ingest([firing("a")], actor=HTTP)).incidents
    end = clock.now() + timedelta(days=until) if until else None
    await service.act(incident_id, command, actor=ALICE, until=end)
    clock.advance(hours=5)
    assert await renotifier(store, clock, outbox, HALF_HOUR).run_once() == 0
    assert outbox.replies == []


async def test_a_lifted_silence_rings_again(
    store: FakeIncidentStore, clock: FakeClock, outbox: FakeOutbox
) -> None:
    service = IncidentService(store, clock)
    [incident_id] = (await service.ingest([firing("a")], actor=HTTP)).incidents
    until = clock.now() + timedelta(hours=1)
    await service.act(incident_id, Command.SILENCE, actor=ALICE, until=until)
    clock.advance(hours=1)
    assert await renotifier(store, clock, outbox, HALF_HOUR).run_once() == 0, "still silenced"
    assert await service.lift_expired_silences() == 1
    assert await renotifier(store, clock, outbox, HALF_HOUR).run_once() == 1


async def test_without_a_card_message_it_is_a_plain_new_message(
    store: FakeIncidentStore, clock: FakeClock, outbox: FakeOutbox
) -> None:
    await IncidentService(store, clock).ingest([firing("a")], actor=HTTP)
    clock.advance(hours=1)
    assert await renotifier(store, clock, outbox, HALF_HOUR).run_once() == 1
    assert [reply_to for _, _, reply_to, _ in outbox.replies] == [None]


async def test_off_sends_nothing(
    store: FakeIncidentStore, clock: FakeClock, outbox: FakeOutbox
) -> None:
    await IncidentService(store, clock).ingest([firing("a")], actor=HTTP)
    clock.advance(days=3)
    assert await renotifier(store, clock, outbox, None).run_once() == 0
    assert outbox.replies == []


class StaleStore(FakeIncidentStore):
    """Answers `firing_unacknowledged` with what it held when `freeze` was called."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen: list[Incident] | None = None

    async def freeze(self) -> None:
        self.frozen = await super().firing_unacknowledged(limit=BATCH)

    async def firing_unacknowledged(self, *, limit: int) -> list[Incident]:
        if self.frozen is not None:
            return self.frozen[:limit]
        return await super().firing_unacknowledged(limit=limit)


async def test_an_incident_acked_between_the_read_and_the_claim_is_skipped(
    clock: FakeClock, outbox: FakeOutbox
) -> None:
    store = StaleStore()
    service = IncidentService(store, clock)
    [incident_id] = (await service.ingest([firing("a")], actor=HTTP)).incidents
    clock.advance(hours=1)
    await store.freeze()
    await service.act(incident_id, Command.ACK, actor=ALICE)
    assert await renotifier(store, clock, outbox, HALF_HOUR).run_once() == 0
    assert outbox.replies == []
    assert store.incident(incident_id).renotified_at is None
