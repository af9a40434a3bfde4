"""Intake locks alert states, then every incident it needs in one call; it writes them in one.

On PostgreSQL two transactions that lock the same rows in different orders
deadlock; the fake store records what each transaction locked so these tests
can say the order is fixed (tests/e2e/test_postgres_load.py runs the real thing).
"""

from __future__ import annotations

from core.alerting.models import Actor, AlertStatus
from core.alerting.service import IncidentService
from tests.unit.alerting.fakes import FakeClock, FakeIncidentStore, firing

HTTP = Actor(id="http", name="Alertmanager")


async def test_ingest_locks_states_then_all_incidents_in_one_call() -> None:
    store = FakeIncidentStore()
    service = IncidentService(store, FakeClock())
    # incidents #1 (prod) and #2 (dev); "a" belongs to #2, "z" to #1
    await service.ingest([firing("z", "prod")], actor=HTTP)
    await service.ingest([firing("a", "dev")], actor=HTTP)

    # "a" resolves into #2 (attached by its state), "m" joins #1 (found by its group)
    resolved = firing("a", "dev").model_copy(update={"status": AlertStatus.RESOLVED})
    await service.ingest([firing("m", "prod"), resolved], actor=HTTP)

    tx = store.transactions[-1]
    assert tx.locks == [("states", ("a",)), ("incidents", (1, 2))]
    assert tx.saved_batches == [2], "both touched incidents written by one save_many"


async def test_new_incidents_are_opened_in_group_key_order() -> None:
    store = FakeIncidentStore()
    service = IncidentService(store, FakeClock())

    result = await service.ingest_many(
        [[firing("x", "zeta")], [firing("y", "alpha")], [firing("x2", "zeta")]], actor=HTTP
    )

    # alpha's incident was inserted first, whatever order the payloads came in
    assert {i.id: i.group_key for i in store.incidents.values()} == {
        1: "alertname=Down|namespace=alpha",
        2: "alertname=Down|namespace=zeta",
    }
    assert [r.incidents for r in result] == [[2], [1], [2]]
    assert store.transactions[-1].locks == [("states", ()), ("incidents", ())]


async def test_a_fingerprint_keeps_its_order_within_a_batch() -> None:
    store = FakeIncidentStore()
    service = IncidentService(store, FakeClock())
    fired = firing("b", "beta")
    resolved = fired.model_copy(update={"status": AlertStatus.RESOLVED})

    # the same alert fires then resolves in one batch, behind an alert of an earlier group
    [result] = await service.ingest_many([[fired, firing("a", "alpha"), resolved]], actor=HTTP)

    assert result.new == 3
    beta = next(i for i in store.incidents.values() if i.group_key.endswith("beta"))
    assert store.states["b"].alert.status is AlertStatus.RESOLVED
    assert (beta.status.value, beta.alert_count, beta.firing_count) == ("resolved", 1, 0)
