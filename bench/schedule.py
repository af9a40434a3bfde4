"""The best a storm of debates can do with W workers and C provider slots, Howl costing nothing.

A discrete-event schedule, no clock involved: each worker takes the next
debate when its last one ends; a debate asks 1, 1, 2 (review ‖ critique), 1
calls of `latency` each; calls wait for the provider's slots as on the
router's (core/slots.py): by stage, furthest along first, but a call that
has waited one call's latency counts one stage further (the router's step is
its provider's typical call time); equal ones in arrival order. The storm's
time against this tells what the worker count costs (the tail, when fewer
debates than slots are left) apart from what Howl's own steps between calls
cost.

>>> schedule_bound(1, workers=8, slots=8, latency=1.0)
4.0
>>> schedule_bound(8, workers=8, slots=8, latency=1.0)  # 40 calls, 8 slots: 5 at best
6.0
>>> schedule_bound(2, workers=1, slots=8, latency=1.0)
8.0
"""

from __future__ import annotations

import heapq

#: calls per step of a debate: diagnose, solve, review ‖ critique, coordinate
STEPS = (1, 1, 2, 1)


def schedule_bound(debates: int, *, workers: int, slots: int, latency: float) -> float:
    """Seconds until the last of `debates` decides, with no cost but the model's."""
    # events: (time, order, debate) when one of its calls ends
    ends: list[tuple[float, int, int]] = []
    # calls waiting for a slot: (rank, arrival, debate), lowest rank first: when it came,
    # less one latency per stage the debate is along
    waiting: list[tuple[float, int, int, int]] = []
    step = [0] * debates
    open_calls = [0] * debates
    started = 0
    free, order, now, finished = slots, 0, 0.0, 0

    def ask(debate: int) -> None:
        nonlocal order
        calls = STEPS[step[debate]]
        open_calls[debate] = calls
        for _ in range(calls):
            order += 1
            heapq.heappush(waiting, (now - step[debate] * latency, -step[debate], order, debate))

    def dispatch() -> None:
        nonlocal free, order
        while free and waiting:
            free -= 1
            order += 1
            heapq.heappush(ends, (now + latency, order, heapq.heappop(waiting)[3]))

    for _ in range(min(workers, debates)):
        ask(started)
        started += 1
    dispatch()
    while ends:
        now, _, debate = heapq.heappop(ends)
        free += 1
        open_calls[debate] -= 1
        if open_calls[debate] == 0:
            step[debate] += 1
            if step[debate] < len(STEPS):
                ask(debate)
            else:
                finished += 1
                if started < debates:  # its worker takes the next debate
                    ask(started)
                    started += 1
        dispatch()
    assert finished == debates
    return now
