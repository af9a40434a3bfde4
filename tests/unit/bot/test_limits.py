"""Sliding-window budgets and the priority headroom the delivery worker plans with."""

from __future__ import annotations

from bot.delivery import headroom
from bot.telegram_limits import GROUP, PRIVATE, SlidingBudget, Window, chat_window
from core.messages import Priority


def test_groups_and_private_chats_have_telegrams_limits() -> None:
    assert chat_window(-100123) == GROUP == Window(20, 60.0)
    assert chat_window(42) == PRIVATE == Window(1, 1.0)


def test_window_slides() -> None:
    budget = SlidingBudget(Window(20, 60.0))
    for second in range(20):
        budget.record(float(second))
    assert budget.remaining(19.0) == 0
    assert budget.wait(19.0) == 41.0  # the first send ages out at t=60
    assert budget.wait(60.0) == 0.0
    assert budget.remaining(60.5) == 1


def test_headroom_keeps_slots_for_people() -> None:
    budget = SlidingBudget(Window(20, 60.0))
    for _ in range(17):
        budget.record(0.0)
    assert budget.wait(1.0, keep_free=headroom(Priority.CARD_NEW)) > 0
    assert budget.wait(1.0, keep_free=headroom(Priority.CARD_UPDATE)) == 0
    assert budget.wait(1.0, keep_free=headroom(Priority.REPLY)) == 0


def test_block_until_after_a_429() -> None:
    budget = SlidingBudget(Window(20, 60.0))
    budget.block_until(10.0, 0.0)
    assert budget.wait(0.0) == 10.0
    assert budget.wait(10.0) == 0.0
