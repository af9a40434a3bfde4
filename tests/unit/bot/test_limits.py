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


def test_headroom_keeps_slots_for_people_then_announcements() -> None:
    budget = SlidingBudget(Window(20, 60.0))
    for _ in range(15):
        budget.record(0.0)
    # 15 of 20 used: an edit must leave 5 free, a new card or digest 4, a critical
    # incident's card 2, a reply none
    assert budget.wait(1.0, keep_free=headroom(Priority.CARD_UPDATE)) > 0
    assert budget.wait(1.0, keep_free=headroom(Priority.CARD_NEW)) == 0
    assert budget.wait(1.0, keep_free=headroom(Priority.DIGEST)) == 0
    budget.record(1.0)
    assert budget.wait(1.0, keep_free=headroom(Priority.CARD_NEW)) > 0
    assert budget.wait(1.0, keep_free=headroom(Priority.DIGEST)) > 0
    # the two slots warnings may not take are a critical incident's
    assert budget.wait(1.0, keep_free=headroom(Priority.URGENT)) == 0
    budget.record(1.0)
    assert budget.wait(1.0, keep_free=headroom(Priority.URGENT)) == 0
    budget.record(1.0)
    assert budget.wait(1.0, keep_free=headroom(Priority.URGENT)) > 0
    assert budget.wait(1.0, keep_free=headroom(Priority.REPLY)) == 0


def test_capacity_counts_what_frees_up_within_the_horizon() -> None:
    budget = SlidingBudget(Window(20, 60.0))
    for second in range(15):  # fifteen replies in the last minute
        budget.record(float(second))
    assert budget.capacity(20.0, within=0.0, keep_free=2) == 3
    # by t=65 the first six (t=0..5) have aged out: six more fit
    assert budget.capacity(20.0, within=45.0, keep_free=2) == 3 + 6
    assert budget.capacity(20.0, within=60.0, keep_free=2) == 18


def test_block_until_after_a_429() -> None:
    budget = SlidingBudget(Window(20, 60.0))
    budget.block_until(10.0, 0.0)
    assert budget.wait(0.0) == 10.0
    assert budget.wait(10.0) == 0.0
