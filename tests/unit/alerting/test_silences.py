"""Silences mirrored in Alertmanager, through IncidentService.act, with a fake silence API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.alerting.lifecycle import Command
from core.alerting.models import Actor, Incident, IncidentStatus
from core.alerting.service import IncidentService
from core.alerting.silences import Matcher, SilenceApiError, SilenceMirror, SilenceRequest
from core.errors import ConflictError
from tests.unit.alerting.fakes import START, FakeClock, FakeIncidentStore, firing

ALICE = Actor(id="tg:1", name="Alice")
BOB = Actor(id="tg:2", name="Bob")
HTTP = Actor(id="http", name="Alertmanager")


class FakeSilenceApi:
    """`SilenceApi` in memory: records what was asked; `down` makes every call fail."""

    def __init__(self) -> None:
        self.created: dict[str, SilenceRequest] = {}
        self.expired: list[str] = []
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise SilenceApiError(
                "Alertmanager at http://127.0.0.1:1 is unreachable (ConnectError)"
            )

    async def create(self, silence: SilenceRequest) -> str:
        self._check()
        silence_id = f"s-{len(self.created) + 1}"
        self.created[silence_id] = silence
        return silence_id

    async def expire(self, silence_id: str) -> None:
        self._check()
        self.expired.append(silence_id)

    def link(self, silence_id: str) -> str:
        return f"http://am.test/#/silences/{silence_id}"

    def active(self) -> list[str]:
        return [s for s in self.created if s not in self.expired]


@pytest.fixture
def api() -> FakeSilenceApi:
    return FakeSilenceApi()


@pytest.fixture
def service(store: FakeIncidentStore, clock: FakeClock, api: FakeSilenceApi) -> IncidentService:
    return IncidentService(store, clock, silences=SilenceMirror(store, clock, api))


async def opened(service: IncidentService, *fps: str) -> int:
    result = await service.ingest([firing(fp) for fp in fps or ("a",)], actor=HTTP)
    return result.incidents[0]


async def silence(
    service: IncidentService, incident_id: int, clock: FakeClock, **d: float
) -> Incident:
    until = clock.now() + timedelta(**(d or {"hours": 1}))
    return await service.act(incident_id, Command.SILENCE, actor=ALICE, until=until)


async def test_silence_creates_the_matching_alertmanager_silence(
    service: IncidentService, api: FakeSilenceApi, store: FakeIncidentStore, clock: FakeClock
) -> None:
    incident_id = await opened(service)
    after = await silence(service, incident_id, clock)
    assert list(api.created) == ["s-1"]
    request = api.created["s-1"]
    assert request.matchers == (
        Matcher(name="alertname", value="Down"),
        Matcher(name="namespace", value="prod"),
    )
    assert (request.starts_at, request.ends_at) == (START, START + timedelta(hours=1))
    assert request.created_by == "Alice"
    assert request.comment == f"Howl incident #{incident_id}: Down"
    assert after.alertmanager_silence_id == "s-1" and after.alertmanager_error is None
    assert store.incident(incident_id).alertmanager_silence_id == "s-1"
    mirrored = [e for e in store.audit if e.action == "incident.alertmanager_silence"]
    assert [(e.actor, e.detail) for e in mirrored] == [
        ("tg:1", {"silence_id": "s-1", "error": None})
    ]


@pytest.mark.parametrize("command", [Command.RESOLVE, Command.ACK])
async def test_ending_howls_silence_expires_alertmanagers(
    service: IncidentService, api: FakeSilenceApi, store: FakeIncidentStore, clock: FakeClock,
    command: Command,
) -> None:  # fmt: skip
    incident_id = await opened(service)
    await silence(service, incident_id, clock)
    after = await service.act(incident_id, command, actor=BOB)
    assert api.expired == ["s-1"]
    assert after.alertmanager_silence_id is None
    assert store.incident(incident_id).alertmanager_silence_id is None


async def test_a_new_silence_replaces_the_old_one(
    service: IncidentService, api: FakeSilenceApi, store: FakeIncidentStore, clock: FakeClock
) -> None:
    incident_id = await opened(service)
    await silence(service, incident_id, clock)
    after = await silence(service, incident_id, clock, hours=3)
    assert api.active() == ["s-2"] and api.expired == ["s-1"]
    assert api.created["s-2"].ends_at == START + timedelta(hours=3)
    assert after.alertmanager_silence_id == "s-2"


async def test_the_lift_job_expires_the_mirror_when_the_silence_ends(
    service: IncidentService, api: FakeSilenceApi, store: FakeIncidentStore, clock: FakeClock
) -> None:
    incident_id = await opened(service)
    await silence(service, incident_id, clock, minutes=30)
    clock.advance(minutes=30)
    assert await service.lift_expired_silences() == 1
    assert api.expired == ["s-1"]
    assert store.incident(incident_id).status is IncidentStatus.FIRING
    assert store.incident(incident_id).alertmanager_silence_id is None


async def test_all_alerts_resolved_expires_the_mirror_at_the_next_lift_run(
    service: IncidentService, api: FakeSilenceApi, store: FakeIncidentStore, clock: FakeClock
) -> None:
    incident_id = await opened(service)
    await silence(service, incident_id, clock)
    resolved = firing("a").model_copy(update={"status": "resolved"})
    await service.ingest([resolved], actor=HTTP)
    assert store.incident(incident_id).status is IncidentStatus.RESOLVED
    assert api.expired == []  # intake never waits on Alertmanager
    await service.lift_expired_silences()
    assert api.expired == ["s-1"]
    assert store.incident(incident_id).alertmanager_silence_id is None


async def test_unreachable_alertmanager_keeps_howls_silence_and_says_why(
    service: IncidentService, api: FakeSilenceApi, store: FakeIncidentStore, clock: FakeClock
) -> None:
    incident_id = await opened(service)
    api.down = True
    after = await silence(service, incident_id, clock)
    assert after.status is IncidentStatus.SILENCED
    assert after.silenced_until == START + timedelta(hours=1)
    assert after.alertmanager_silence_id is None
    assert after.alertmanager_error == (
        "Alertmanager at http://127.0.0.1:1 is unreachable (ConnectError)"
    )
    assert store.incident(incident_id) == after
    assert api.created == {}


async def test_a_failed_expiry_is_retried_by_the_lift_job(
    service: IncidentService, api: FakeSilenceApi, store: FakeIncidentStore, clock: FakeClock
) -> None:
    incident_id = await opened(service)
    await silence(service, incident_id, clock)
    api.down = True
    after = await service.act(incident_id, Command.RESOLVE, actor=BOB)
    assert after.status is IncidentStatus.RESOLVED
    assert after.alertmanager_silence_id == "s-1"  # still owed to Alertmanager
    await service.lift_expired_silences()
    assert api.expired == []
    api.down = False
    await service.lift_expired_silences()
    assert api.expired == ["s-1"]
    assert store.incident(incident_id).alertmanager_silence_id is None


async def test_a_typed_incident_has_nothing_to_match_in_alertmanager(
    service: IncidentService, api: FakeSilenceApi, clock: FakeClock
) -> None:
    incident = await service.open_manual("checkout is failing", actor=ALICE)
    after = await silence(service, incident.id, clock)
    assert after.status is IncidentStatus.SILENCED
    assert api.created == {}
    assert (after.alertmanager_silence_id, after.alertmanager_error) == (None, None)


async def test_a_refused_silence_creates_nothing(
    service: IncidentService, api: FakeSilenceApi, store: FakeIncidentStore, clock: FakeClock
) -> None:
    incident_id = await opened(service)
    await service.act(incident_id, Command.RESOLVE, actor=BOB)
    with pytest.raises(ConflictError):
        await silence(service, incident_id, clock)
    assert api.created == {}
    assert store.incident(incident_id).alertmanager_silence_id is None


async def test_a_silence_made_while_the_incident_moved_on_is_expired(
    store: FakeIncidentStore, clock: FakeClock, api: FakeSilenceApi
) -> None:
    """Someone resolves the incident while Alertmanager is still answering the create."""
    service = IncidentService(store, clock)

    class SlowApi(FakeSilenceApi):
        async def create(self, silence: SilenceRequest) -> str:
            await service.act(incident_id, Command.RESOLVE, actor=BOB)
            return await super().create(silence)

    slow = SlowApi()
    mirrored = IncidentService(store, clock, silences=SilenceMirror(store, clock, slow))
    incident_id = await opened(mirrored)
    after = await silence(mirrored, incident_id, clock)
    assert after.status is IncidentStatus.RESOLVED
    assert slow.active() == [] and slow.expired == ["s-1"]
    assert store.incident(incident_id).alertmanager_silence_id is None
