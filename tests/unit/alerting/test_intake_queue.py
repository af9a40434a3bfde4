"""Group commit: payloads that arrive during a commit share the next one; failures stay apart."""

from __future__ import annotations

import asyncio

import pytest

from core.alerting.intake_queue import IntakeQueue
from core.alerting.models import Actor, Alert, IngestResult
from core.alerting.service import IncidentService
from tests.unit.alerting.fakes import FakeClock, FakeIncidentStore, firing

HTTP = Actor(id="http", name="Alertmanager")
GRAFANA = Actor(id="grafana", name="Grafana")


class Poison(Exception):
    """What the spy raises for a payload that holds the `poison` fingerprint."""


class SpyService(IncidentService):
    """A real service over the fake store that logs each `ingest_many` call.

    The first call waits for `gate`, so a test can queue payloads while a
    commit is in flight; a payload with a `poison` alert makes a call raise.
    """

    def __init__(self, store: FakeIncidentStore) -> None:
        super().__init__(store, FakeClock())
        self.calls: list[tuple[str, list[list[str]]]] = []
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def ingest_many(self, payloads: list[list[Alert]], *, actor: Actor) -> list[IngestResult]:
        self.calls.append((actor.id, [[a.fingerprint for a in p] for p in payloads]))
        self.entered.set()
        if len(self.calls) == 1:
            await self.gate.wait()
        if any(a.fingerprint == "poison" for p in payloads for a in p):
            raise Poison("cannot store this one")
        return await super().ingest_many(payloads, actor=actor)


@pytest.fixture
def store() -> FakeIncidentStore:
    return FakeIncidentStore()


@pytest.fixture
def service(store: FakeIncidentStore) -> SpyService:
    return SpyService(store)


async def queued_behind_a_commit(
    queue: IntakeQueue, service: SpyService, first: list[Alert], *later: list[Alert]
) -> list[asyncio.Task[IngestResult]]:
    """Submit `first`, wait until its commit is in flight, then submit the rest."""
    tasks = [asyncio.create_task(queue.submit(first, actor=HTTP))]
    await service.entered.wait()
    tasks += [asyncio.create_task(queue.submit(alerts, actor=HTTP)) for alerts in later]
    await asyncio.sleep(0)  # let each submit enqueue itself
    return tasks


async def test_one_sender_is_one_transaction_per_payload(
    service: SpyService, store: FakeIncidentStore
) -> None:
    service.gate.set()
    queue = IntakeQueue(service)
    first = await queue.submit([firing("a")], actor=HTTP)
    second = await queue.submit([firing("b", namespace="dev")], actor=HTTP)
    assert first == IngestResult(accepted=1, new=1, incidents=[1])
    assert second == IngestResult(accepted=1, new=1, incidents=[2])
    assert service.calls == [("http", [["a"]]), ("http", [["b"]])]
    assert store.commits == 2


async def test_payloads_arriving_during_a_commit_share_the_next_one(
    service: SpyService, store: FakeIncidentStore
) -> None:
    queue = IntakeQueue(service)
    tasks = await queued_behind_a_commit(
        queue,
        service,
        [firing("a")],
        [firing("b")],
        [firing("c", namespace="dev")],
        [firing("d"), firing("e", namespace="qa")],
    )
    assert not any(t.done() for t in tasks), "nobody is answered before their commit"

    service.gate.set()
    results = await asyncio.gather(*tasks)

    assert service.calls == [
        ("http", [["a"]]),
        ("http", [["b"], ["c"], ["d", "e"]]),
    ]
    assert store.commits == 2
    assert results == [
        IngestResult(accepted=1, new=1, incidents=[1]),
        IngestResult(accepted=1, new=1, incidents=[1]),
        IngestResult(accepted=1, new=1, incidents=[2]),
        IngestResult(accepted=2, new=2, incidents=[1, 3]),
    ]
    assert sorted(store.states) == ["a", "b", "c", "d", "e"]


async def test_a_batch_is_bounded_by_alert_count(service: SpyService) -> None:
    queue = IntakeQueue(service, max_batch_alerts=3)
    tasks = await queued_behind_a_commit(
        queue,
        service,
        [firing("a")],
        [firing("b"), firing("c")],
        [firing("d")],
        [firing("e"), firing("f"), firing("g"), firing("h")],  # alone it is over the bound
        [firing("i")],
    )
    service.gate.set()
    results = await asyncio.gather(*tasks)
    assert [payloads for _, payloads in service.calls] == [
        [["a"]],
        [["b", "c"], ["d"]],
        [["e", "f", "g", "h"]],
        [["i"]],
    ]
    assert [r.accepted for r in results] == [1, 2, 1, 4, 1]


async def test_each_actor_gets_its_own_transaction(service: SpyService) -> None:
    queue = IntakeQueue(service)
    first = asyncio.create_task(queue.submit([firing("a")], actor=HTTP))
    await service.entered.wait()
    others = [
        asyncio.create_task(queue.submit([firing("b")], actor=GRAFANA)),
        asyncio.create_task(queue.submit([firing("c")], actor=HTTP)),
        asyncio.create_task(queue.submit([firing("d")], actor=GRAFANA)),
    ]
    await asyncio.sleep(0)
    service.gate.set()
    await asyncio.gather(first, *others)
    assert service.calls == [
        ("http", [["a"]]),
        ("grafana", [["b"], ["d"]]),
        ("http", [["c"]]),
    ]


async def test_a_bad_payload_does_not_fail_its_neighbours(
    service: SpyService, store: FakeIncidentStore
) -> None:
    queue = IntakeQueue(service)
    first, good, bad, also_good = await queued_behind_a_commit(
        queue, service, [firing("a")], [firing("b")], [firing("poison")], [firing("c", "dev")]
    )
    service.gate.set()

    assert (await first).incidents == [1]
    assert await good == IngestResult(accepted=1, new=1, incidents=[1])
    with pytest.raises(Poison, match="cannot store this one"):
        await bad
    assert await also_good == IngestResult(accepted=1, new=1, incidents=[2])

    assert [payloads for _, payloads in service.calls] == [
        [["a"]],
        [["b"], ["poison"], ["c"]],  # failed as a whole ...
        [["b"]],  # ... so each is retried alone
        [["poison"]],
        [["c"]],
    ]
    assert sorted(store.states) == ["a", "b", "c"]


async def test_a_lone_failing_payload_gets_its_error(service: SpyService) -> None:
    service.gate.set()
    queue = IntakeQueue(service)
    with pytest.raises(Poison):
        await queue.submit([firing("poison")], actor=HTTP)
    assert len(service.calls) == 1, "nothing to retry for a batch of one"
    assert (await queue.submit([firing("a")], actor=HTTP)).new == 1, "the queue still works"


async def test_a_cancelled_caller_does_not_break_the_drainer(
    service: SpyService, store: FakeIncidentStore
) -> None:
    queue = IntakeQueue(service)
    first, gone, waiting = await queued_behind_a_commit(
        queue, service, [firing("a")], [firing("b")], [firing("c", "dev")]
    )
    gone.cancel()  # the client disconnected while its payload was queued
    first.cancel()  # ... or while its commit was in flight
    service.gate.set()

    assert await waiting == IngestResult(accepted=1, new=1, incidents=[2])
    for task in (first, gone):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert sorted(store.states) == ["a", "b", "c"], "a cancelled caller's alerts still count"
    assert (await queue.submit([firing("d")], actor=HTTP)).incidents == [1]
    await queue.close()


async def test_close_waits_for_queued_payloads(
    service: SpyService, store: FakeIncidentStore
) -> None:
    queue = IntakeQueue(service)
    tasks = await queued_behind_a_commit(queue, service, [firing("a")], [firing("b")])
    service.gate.set()
    await queue.close()
    assert sorted(store.states) == ["a", "b"], "committed by the time close returns"
    assert [r.new for r in await asyncio.gather(*tasks)] == [1, 1]
    await queue.close()  # twice is fine
    await IntakeQueue(service).close()  # so is never used
