"""A provider's call slots: a bound on calls at once, waiting calls by priority, nothing leaked."""

from __future__ import annotations

import asyncio

import pytest

from core.slots import Slots


async def holder(
    slots: Slots, priority: int, log: list[str], name: str, release: asyncio.Event
) -> None:
    async with slots.taken(priority):
        log.append(name)
        await release.wait()


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_no_more_than_size_at_once_and_waiting_calls_go_highest_first() -> None:
    slots, log, release = Slots(2), [], asyncio.Event()
    first = [asyncio.create_task(holder(slots, 0, log, f"busy{i}", release)) for i in range(2)]
    await settle()
    waiting = [
        asyncio.create_task(holder(slots, priority, log, name, release))
        for name, priority in (
            ("diagnose-a", 0),
            ("coordinate", 3),
            ("diagnose-b", 0),
            ("solve", 1),
        )
    ]
    await settle()
    assert log == ["busy0", "busy1"] and slots.waiting == 4
    release.set()
    await asyncio.gather(*first, *waiting)
    # the furthest debate first; equal priorities in the order they came
    assert log[2:] == ["coordinate", "solve", "diagnose-a", "diagnose-b"]


async def test_one_priority_is_first_come_first_served() -> None:
    slots, log, release = Slots(1), [], asyncio.Event()
    tasks = [asyncio.create_task(holder(slots, 0, log, str(i), release)) for i in range(5)]
    await settle()
    release.set()
    await asyncio.gather(*tasks)
    assert log == ["0", "1", "2", "3", "4"]


async def test_a_waiter_that_gives_up_leaks_no_slot() -> None:
    slots, log, release = Slots(1), [], asyncio.Event()
    busy = asyncio.create_task(holder(slots, 0, log, "busy", release))
    await settle()
    gave_up = asyncio.create_task(holder(slots, 5, log, "gave-up", release))
    after = asyncio.create_task(holder(slots, 0, log, "after", release))
    await settle()
    gave_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gave_up
    release.set()
    async with asyncio.timeout(1):
        await asyncio.gather(busy, after)
    assert log == ["busy", "after"] and slots.waiting == 0
    async with asyncio.timeout(1):  # the slot is free again
        async with slots.taken():
            pass


async def test_a_waiter_cancelled_as_it_is_handed_the_slot_passes_it_on() -> None:
    slots, log = Slots(1), []
    release = asyncio.Event()
    busy = asyncio.create_task(holder(slots, 0, log, "busy", release))
    await settle()
    handed = asyncio.create_task(holder(slots, 1, log, "handed", asyncio.Event()))
    later = asyncio.create_task(holder(slots, 0, log, "later", release))
    await settle()
    release.set()  # busy leaves: the slot is set on `handed`'s waiter ...
    await asyncio.sleep(0)
    handed.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await handed
    async with asyncio.timeout(1):  # a slot lost with `handed` would leave `later` waiting
        await asyncio.gather(busy, later)
    assert "later" in log and "handed" not in log


async def test_a_call_that_waited_a_step_goes_before_a_later_stage_just_come() -> None:
    now = [0.0]
    slots, log, release = Slots(1, clock=lambda: now[0]), [], asyncio.Event()
    slots.step_s = 0.2
    busy = asyncio.create_task(holder(slots, 0, log, "busy", release))
    await settle()
    waiting = [asyncio.create_task(holder(slots, 0, log, "diagnose-old", release))]
    await settle()
    now[0] = 0.3  # it has waited more than a step when a solve comes
    waiting.append(asyncio.create_task(holder(slots, 1, log, "solve", release)))
    await settle()
    waiting.append(asyncio.create_task(holder(slots, 0, log, "diagnose-new", release)))
    await settle()
    now[0] = 0.35  # has waited less than a step: the coordinator goes first
    waiting.append(asyncio.create_task(holder(slots, 3, log, "coordinate", release)))
    await settle()
    release.set()
    await asyncio.gather(busy, *waiting)
    assert log == ["busy", "coordinate", "diagnose-old", "solve", "diagnose-new"]
