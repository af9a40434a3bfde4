"""The card publisher: owed cards are queued once, caught up after a restart, kept on failure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from bot.render.incident import incident_card
from core.alerting.lifecycle import Command
from core.alerting.models import Actor, IncidentView, Severity
from core.alerting.ports import PublishedCard, PublishResult
from core.alerting.publisher import BATCH, CardPublisher
from core.alerting.service import IncidentService
from core.messages import Card, Priority
from tests.unit.alerting.fakes import FakeClock, FakeIncidentStore, firing

HTTP = Actor(id="http", name="Alertmanager")
CHAT = -100


class Cards:
    """A CardMaker that counts its renders; `None` for the incidents in `nowhere`."""

    def __init__(self) -> None:
        self.rendered: list[int] = []
        self.nowhere: set[int] = set()
        self.called = asyncio.Event()

    def __call__(self, view: IncidentView) -> Card | None:
        self.rendered.append(view.incident.id)
        self.called.set()
        if view.incident.id in self.nowhere:
            return None
        return incident_card(view, chat_id=CHAT)


class Flaky(FakeIncidentStore):
    """`publish` fails on the given calls (1-based; a busy database) and works on the others."""

    def __init__(self, fail_on: frozenset[int] = frozenset({1})) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.publish_calls: list[list[int]] = []

    async def publish(self, cards: Sequence[PublishedCard]) -> PublishResult:
        self.publish_calls.append([c.incident_id for c in cards])
        if len(self.publish_calls) in self.fail_on:
            raise RuntimeError("database is locked")
        return await super().publish(cards)


async def open_incidents(store: FakeIncidentStore, n: int) -> IncidentService:
    service = IncidentService(store, FakeClock())
    await service.ingest([firing(f"fp{i}", f"ns{i}") for i in range(n)], actor=HTTP)
    assert len(store.incidents) == n
    return service


async def test_poke_and_flush_publish_each_owed_incident_once() -> None:
    store, cards = FakeIncidentStore(), Cards()
    await open_incidents(store, 3)
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0)

    publisher.poke([1, 2])
    publisher.poke([2, 1])
    await publisher.flush()

    assert [(i, c.key) for i, c in store.cards] == [(1, "incident:1"), (2, "incident:2")]
    assert cards.rendered == [1, 2]
    assert all(c.chat_id == CHAT for _, c in store.cards)
    assert store.version(1)[1] == store.version(1)[0], "marked as published"
    assert store.version(3)[1] < store.version(3)[0], "#3 was not poked: still owed"

    await publisher.flush()  # nothing owed any more
    publisher.poke([1])  # poked, but unchanged since its card
    await publisher.flush()
    assert cards.rendered == [1, 2]
    assert len(store.cards) == 2


async def test_a_change_after_publishing_queues_the_card_again() -> None:
    store, cards = FakeIncidentStore(), Cards()
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0)
    service = IncidentService(store, FakeClock(), on_change=publisher.poke)
    await service.ingest([firing("a", "prod")], actor=HTTP)
    await publisher.flush()
    await service.act(1, Command.ACK, actor=Actor(id="tg:1", name="Alice"))
    await publisher.flush()

    assert [i for i, _ in store.cards] == [1, 1]
    first, second = (c.content.text for _, c in store.cards)
    assert "firing" in first and "acknowledged" in second


async def test_an_incident_with_nowhere_to_post_is_still_marked() -> None:
    store, cards = FakeIncidentStore(), Cards()
    await open_incidents(store, 2)
    cards.nowhere = {1}
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0)
    publisher.poke([1, 2])
    await publisher.flush()
    assert [i for i, _ in store.cards] == [2]
    assert await store.unpublished(limit=10) == []


async def test_catch_up_publishes_what_the_store_says_is_owed() -> None:
    store, cards = FakeIncidentStore(), Cards()
    n = BATCH * 2 + 3
    await open_incidents(store, n)
    publisher = CardPublisher(store, cards, retry_after_s=0)

    assert await publisher.catch_up() == n

    assert sorted(i for i, _ in store.cards) == list(range(1, n + 1))
    assert len(cards.rendered) == n, "each card rendered once"
    assert await store.unpublished(limit=100) == []
    assert await publisher.catch_up() == 0


async def test_a_store_failure_keeps_the_cards_owed() -> None:
    store, cards = Flaky(), Cards()
    await open_incidents(store, 3)
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0)

    publisher.poke([3, 1, 2])
    await publisher.flush()  # fails once, then retries what is still owed

    assert store.publish_calls == [[1, 2, 3], [1, 2, 3]]
    assert [i for i, _ in store.cards] == [1, 2, 3]
    assert await store.unpublished(limit=10) == []


async def test_a_failure_mid_way_retries_only_the_rest() -> None:
    store, cards = Flaky(fail_on=frozenset({2})), Cards()
    n = BATCH + 2
    await open_incidents(store, n)
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0)
    publisher.poke(range(1, n + 1))
    await publisher.flush()

    rest = [BATCH + 1, BATCH + 2]
    assert store.publish_calls == [list(range(1, BATCH + 1)), rest, rest]
    assert sorted(i for i, _ in store.cards) == list(range(1, n + 1))
    assert len(store.cards) == n, "the first chunk was not published twice"


async def test_a_failing_catch_up_keeps_the_cards_owed() -> None:
    store, cards = Flaky(), Cards()
    await open_incidents(store, 2)
    publisher = CardPublisher(store, cards, retry_after_s=0)
    with pytest.raises(RuntimeError, match="database is locked"):
        await publisher.catch_up()
    assert await store.unpublished(limit=10) == [1, 2]
    assert await publisher.catch_up() == 2


async def test_one_card_that_cannot_be_rendered_does_not_hold_back_the_others() -> None:
    store, cards = FakeIncidentStore(), Cards()
    await open_incidents(store, 3)

    def poisoned(view: IncidentView) -> Card | None:
        if view.incident.id == 2:
            raise IndexError("a template bug")
        return cards(view)

    publisher = CardPublisher(store, poisoned, settle_s=0, retry_after_s=0)
    publisher.poke([1, 2, 3])
    await publisher.flush()
    assert [i for i, _ in store.cards] == [1, 3]
    assert await store.unpublished(limit=10) == [], "skipped, not retried forever"


async def test_the_running_publisher_catches_up_then_follows_pokes() -> None:
    store, cards = Flaky(), Cards()  # the first catch-up fails and is retried
    service = await open_incidents(store, 1)
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0)
    publisher.start()
    try:
        while not store.cards:
            await cards.called.wait()
            cards.called.clear()
        assert [i for i, _ in store.cards] == [1]

        await service.ingest([firing("late", "other")], actor=HTTP)
        publisher.poke([2])
        while len(store.cards) < 2:
            await cards.called.wait()
            cards.called.clear()
        assert [i for i, _ in store.cards] == [1, 2]
    finally:
        await publisher.stop()
    await publisher.stop()  # stopping twice is harmless


async def test_stop_publishes_what_is_owed() -> None:
    store, cards = FakeIncidentStore(), Cards()
    await open_incidents(store, 2)
    publisher = CardPublisher(store, cards, settle_s=3600, retry_after_s=0)  # would wait an hour
    await publisher.catch_up()
    await IncidentService(store, FakeClock()).act(
        1, Command.ACK, actor=Actor(id="tg:1", name="Alice")
    )
    publisher.start()
    publisher.poke([1])
    await publisher.stop()
    assert [i for i, _ in store.cards] == [1, 2, 1]


class SlowStore(FakeIncidentStore):
    """Each `publish` takes `flush_s` of the fake monotonic clock (a database busy with intake)."""

    def __init__(self, clock: list[float], flush_s: float) -> None:
        super().__init__()
        self.clock, self.flush_s = clock, flush_s
        self.published = asyncio.Event()

    async def publish(self, cards: Sequence[PublishedCard]) -> PublishResult:
        self.clock[0] += self.flush_s
        result = await super().publish(cards)
        self.published.set()
        return result


async def test_the_pause_between_flushes_is_bounded_whatever_the_flush_took() -> None:
    clock = [1000.0]
    store = SlowStore(clock, flush_s=120.0)  # each flush "takes" two minutes
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        clock[0] += seconds
        await asyncio.sleep(0)

    service = await open_incidents(store, 1)
    publisher = CardPublisher(
        store, Cards(), settle_s=0.3, every_s=1.0, monotonic=lambda: clock[0], sleep=sleep
    )
    publisher.start()
    try:
        for n in range(3):
            await store.published.wait()
            store.published.clear()
            changed = await service.ingest([firing(f"more{n}", "ns0")], actor=HTTP)
            assert changed.incidents == [1]
            publisher.poke(changed.incidents)
        await store.published.wait()
    finally:
        await publisher.stop()
    assert pauses, "the publisher paused before flushing"
    assert max(pauses) <= 1.0, f"a pause grew with the flush's length: {pauses}"
    assert len(store.cards) == 4, "each change was published"


async def test_after_a_long_burst_a_new_incidents_card_is_queued_before_pending_edits() -> None:
    store, cards = FakeIncidentStore(), Cards()
    service = await open_incidents(store, BATCH * 3)
    # order, not pacing: the storm's edits are not held here (see the tests below)
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0, update_every_s=0)
    await publisher.catch_up()
    published = len(store.cards)
    # a burst: every known incident gets a new alert, so each owes an edit ...
    burst = await service.ingest(
        [firing(f"burst{i}", f"ns{i}") for i in range(BATCH * 3)], actor=HTTP
    )
    publisher.poke(burst.incidents)
    # ... and then one new incident opens, poked last
    fresh = await service.ingest([firing("new", "elsewhere")], actor=HTTP)
    publisher.poke(fresh.incidents)
    await publisher.flush()

    after = [incident_id for incident_id, _ in store.cards[published:]]
    assert after[0] == fresh.incidents[0], "the first card is queued before any edit"
    assert sorted(after[1:]) == sorted(burst.incidents)


async def test_a_critical_first_card_goes_before_other_first_cards() -> None:
    store, cards = FakeIncidentStore(), Cards()
    service = IncidentService(store, FakeClock())
    warnings = await service.ingest([firing(f"w{i}", f"ns{i}") for i in range(BATCH)], actor=HTTP)
    critical = firing("c", "payments").model_copy(update={"severity": Severity.CRITICAL})
    urgent = await service.ingest([critical], actor=HTTP)
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0)
    publisher.poke([*warnings.incidents, *urgent.incidents])
    await publisher.flush()
    assert cards.rendered[0] == urgent.incidents[0]


async def test_core_decides_how_urgent_a_card_is_and_whether_it_is_closed() -> None:
    store, cards = FakeIncidentStore(), Cards()
    service = IncidentService(store, FakeClock())
    critical = firing("c", "payments").model_copy(update={"severity": Severity.CRITICAL})
    await service.ingest([critical, firing("w", "quiet")], actor=HTTP)
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0)
    publisher.poke([1, 2])
    await publisher.flush()
    await service.act(2, Command.RESOLVE, actor=Actor(id="tg:1", name="Alice"))
    publisher.poke([2])
    await publisher.flush()
    assert [(i, c.priority, c.closed) for i, c in store.cards] == [
        (1, Priority.URGENT, False),
        (2, Priority.CARD_NEW, False),
        (2, Priority.CARD_NEW, True),
    ]


class Contended(FakeIncidentStore):
    """`publish` finds the given incidents locked by intake the first time (SKIP LOCKED)."""

    def __init__(self, locked: set[int]) -> None:
        super().__init__()
        self.locked = locked
        self.calls: list[list[int]] = []

    async def publish(self, cards: Sequence[PublishedCard]) -> PublishResult:
        self.calls.append([c.incident_id for c in cards])
        free = [c for c in cards if c.incident_id not in self.locked]
        result = await super().publish(free)
        skipped = sorted({c.incident_id for c in cards} & self.locked)
        self.locked = set()  # intake commits and lets go
        return PublishResult(queued=result.queued, skipped=skipped)


async def test_an_incident_intake_holds_locked_stays_owed_and_is_published_next() -> None:
    store, cards = Contended(locked={2}), Cards()
    await open_incidents(store, 3)
    publisher = CardPublisher(store, cards, settle_s=0, retry_after_s=0)
    publisher.poke([1, 2, 3])
    await publisher.flush()
    # #2 was skipped, not dropped: the publisher kept it owed and took it again
    assert store.calls == [[1, 2, 3], [2]]
    assert [i for i, _ in store.cards] == [1, 3, 2]
    assert await store.unpublished(limit=10) == []


# --- in a storm, a card is re-rendered at most every update_every_s --------------------------


async def storm_changes(service: IncidentService, n: int, tag: str) -> list[int]:
    """Each of the first `n` incidents gets one more alert: a storm keeps them changing."""
    changed = await service.ingest([firing(f"{tag}{i}", f"ns{i}") for i in range(n)], actor=HTTP)
    assert len(changed.incidents) == n
    return changed.incidents


async def test_in_a_storm_a_card_queued_moments_ago_waits_then_carries_the_newest() -> None:
    clock = [0.0]
    store, cards = FakeIncidentStore(), Cards()
    n = BATCH + 5
    service = await open_incidents(store, n)
    publisher = CardPublisher(
        store, cards, settle_s=0, retry_after_s=0, update_every_s=5.0, monotonic=lambda: clock[0]
    )
    publisher.poke(range(1, n + 1))
    await publisher.flush()
    assert len(cards.rendered) == n

    clock[0] = 1.0
    publisher.poke(await storm_changes(service, n, "a"))
    fresh = await service.ingest([firing("new", "elsewhere")], actor=HTTP)
    publisher.poke(fresh.incidents)
    await publisher.flush()
    assert cards.rendered[n:] == fresh.incidents, "a new incident's card is never held"

    clock[0] = 3.0
    publisher.poke(await storm_changes(service, n, "b"))
    await publisher.flush()
    assert cards.rendered[n + 1 :] == [], "their cards were queued less than 5 s ago"

    clock[0] = 5.0
    await publisher.flush()
    assert len(cards.rendered[n + 1 :]) == BATCH, "a batch a flush: spread, not all at once"
    clock[0] = 6.0
    await publisher.flush()
    assert sorted(cards.rendered[n + 1 :]) == list(range(1, n + 1)), "each once"
    assert all(store.version(i)[1] == store.version(i)[0] for i in range(1, n + 1)), "newest"


async def test_a_storms_updates_are_spread_so_each_card_comes_round_every_5_s() -> None:
    clock = [0.0]
    store, cards = FakeIncidentStore(), Cards()
    n = BATCH * 5
    service = await open_incidents(store, n)
    publisher = CardPublisher(
        store, cards, settle_s=0, every_s=1.0, update_every_s=5.0, monotonic=lambda: clock[0]
    )
    publisher.poke(range(1, n + 1))
    await publisher.flush()
    assert len(cards.rendered) == n, "first cards are never rationed"
    publisher.poke(await storm_changes(service, n, "a"))
    rounds: list[list[int]] = []
    for second in range(1, 11):
        clock[0] = float(second)
        publisher.poke(await storm_changes(service, n, f"s{second}"))
        before = len(cards.rendered)
        await publisher.flush()
        rounds.append(cards.rendered[before:])
    assert [len(r) for r in rounds] == [0, 0, 0, 0] + [BATCH] * 6, "n/5 a second, from 5 s"
    assert sorted(i for r in rounds[4:9] for i in r) == list(range(1, n + 1)), "each once in 5 s"
    assert rounds[9] == rounds[4], "then the first ones again, 5 s after their last card"


async def test_outside_a_storm_a_change_is_rendered_at_once_however_recent_its_card() -> None:
    clock = [0.0]
    store, cards = FakeIncidentStore(), Cards()
    service = await open_incidents(store, BATCH)
    publisher = CardPublisher(
        store, cards, settle_s=0, retry_after_s=0, update_every_s=5.0, monotonic=lambda: clock[0]
    )
    publisher.poke(range(1, BATCH + 1))
    await publisher.flush()
    clock[0] = 0.5
    publisher.poke(await storm_changes(service, BATCH, "a"))
    await publisher.flush()
    assert len(cards.rendered) == 2 * BATCH, "no more owed than one batch: nothing waits"


async def test_a_card_held_in_a_storm_is_queued_without_another_poke() -> None:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds
        await asyncio.sleep(0)

    async def until(done: Callable[[], bool]) -> None:
        for _ in range(10_000):
            if done():
                return
            await asyncio.sleep(0)
        raise AssertionError(f"never came; rendered {len(cards.rendered)} at {clock[0]} s")

    store, cards = FakeIncidentStore(), Cards()
    n = BATCH + 1
    service = await open_incidents(store, n)
    publisher = CardPublisher(
        store, cards, settle_s=0.3, every_s=1.0, update_every_s=5.0,
        monotonic=lambda: clock[0], sleep=sleep,
    )  # fmt: skip
    publisher.start()
    try:
        await until(lambda: len(cards.rendered) == n)  # caught up at start
        began = clock[0]
        publisher.poke(await storm_changes(service, n, "a"))
        await until(lambda: len(cards.rendered) == 2 * n)
    finally:
        await publisher.stop()
    assert 5.0 <= clock[0] - began <= 5.0 + 1.0 + 0.3, "held 5 s since its card, not longer"
