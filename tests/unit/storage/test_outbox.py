"""The outbox on a real SQLite file: convergence, claims, storms, recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.messages import Card, OutboundKind, OutboundMessage, Priority, Rendered
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories.outbox import SqlOutbox
from tests.storage_scenarios import exercise_storm_digests


class FakeClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[SqlOutbox]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    await upgrade(engine)
    yield SqlOutbox.over(session_factory(engine), FakeClock())
    await engine.dispose()


def card(key: str, text: str, *, chat: int = -1, line: str | None = None) -> Card:
    return Card(key=key, chat_id=chat, content=Rendered(text=text), digest_line=line)


async def due(outbox: SqlOutbox) -> list[tuple[str, str | None, str]]:
    """(kind, card key, text) of what is due; a digest shows its lines as the worker gets them."""
    items = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=100)
    return [(i.kind.value, i.card_key, await _text(outbox, i)) for i in items]


async def _text(outbox: SqlOutbox, item: OutboundMessage) -> str:
    if not (item.card_key or "").startswith("digest:"):
        return item.text
    claimed = await outbox.queue.claim(item.id)
    assert claimed is not None and claimed.digest_lines is not None
    await outbox.queue.release(item.id, not_before=datetime(2000, 1, 1, tzinfo=UTC))
    return "\n".join(claimed.digest_lines)


async def test_pending_send_takes_the_latest_content(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("c", "v1"))
    await outbox.cards.put_card(card("c", "v2"))
    assert await due(outbox) == [("send", "c", "v2")]


async def test_identical_content_queues_nothing(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("c", "v1"))
    [item] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
    await outbox.queue.claim(item.id)
    await outbox.queue.mark_sent(item.id, message_id=10, at=datetime.now(UTC))
    await outbox.cards.put_card(card("c", "v1"))
    assert await due(outbox) == []


async def test_after_the_send_changes_are_one_coalesced_edit(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("c", "v1"))
    [item] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
    await outbox.queue.claim(item.id)
    await outbox.queue.mark_sent(item.id, message_id=10, at=datetime.now(UTC))
    await outbox.cards.put_card(card("c", "v2"))
    await outbox.cards.put_card(card("c", "v3"))
    [edit] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
    claimed = await outbox.queue.claim(edit.id)
    assert claimed is not None
    assert (claimed.kind, claimed.message_id, claimed.text) == (OutboundKind.EDIT, 10, "v3")
    assert claimed.priority == Priority.CARD_UPDATE


async def test_a_change_during_the_send_becomes_an_edit(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("c", "v1"))
    [item] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
    claimed = await outbox.queue.claim(item.id)
    assert claimed is not None and claimed.text == "v1"
    await outbox.cards.put_card(card("c", "v2"))  # while v1 is in flight
    assert await outbox.queue.claim(item.id) is None, "a claimed delivery cannot be claimed twice"
    assert await due(outbox) == [("edit", "c", "v2")]


async def test_a_reply_held_for_its_card_goes_as_soon_as_the_card_is_posted(
    outbox: SqlOutbox,
) -> None:
    now = FakeClock().at
    await outbox.cards.put_card(card("incident", "the incident"))
    answer = card("decision", "the decision").model_copy(update={"reply_to_card": "incident"})
    await outbox.cards.put_card(answer)
    due_now = {i.card_key: i for i in await outbox.queue.due(now=now, limit=10)}
    assert await outbox.queue.claim(due_now["decision"].id) is None, "held for its card"
    assert [i.card_key for i in await outbox.queue.due(now=now, limit=10)] == ["incident"]
    assert await outbox.queue.claim(due_now["incident"].id) is not None
    await outbox.queue.mark_sent(due_now["incident"].id, message_id=10, at=now)
    # due at once, not at the held send's next look a second later
    [held] = await outbox.queue.due(now=now, limit=10)
    claimed = await outbox.queue.claim(held.id)
    assert claimed is not None and claimed.card_key == "decision"
    assert claimed.reply_to_message_id == 10


async def test_replies_come_before_cards(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("c", "card"))
    await outbox.queue.reply(-1, Rendered(text="answer"))
    assert [text for _, _, text in await due(outbox)] == ["answer", "card"]


async def test_a_dead_first_send_forgets_the_card(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("c", "bad"))
    [item] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
    await outbox.queue.claim(item.id)
    await outbox.queue.mark_dead(item.id, error="BadRequest: can't parse entities")
    await outbox.cards.put_card(card("c", "good"))
    assert await due(outbox) == [("send", "c", "good")]
    assert (await outbox.queue.counts())["dead"] == 1


async def test_recover_returns_in_flight_deliveries(outbox: SqlOutbox) -> None:
    await outbox.queue.reply(-1, Rendered(text="x"))
    [item] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
    await outbox.queue.claim(item.id)
    assert await due(outbox) == []
    assert await outbox.queue.recover() == 1
    assert await due(outbox) == [("send", None, "x")]


async def test_retry_postpones(outbox: SqlOutbox) -> None:
    await outbox.queue.reply(-1, Rendered(text="x"))
    [item] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
    await outbox.queue.claim(item.id)
    later = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)
    await outbox.queue.mark_retry(item.id, not_before=later, error="NetworkError")
    assert await outbox.queue.due(now=later - timedelta(seconds=1), limit=10) == []
    [again] = await outbox.queue.due(now=later, limit=10)
    assert again.attempts == 1


async def test_storm_folds_new_cards_into_one_digest(outbox: SqlOutbox) -> None:
    for n in range(5):
        await outbox.cards.put_card(card(f"incident:{n}", f"card {n}", line=f"line {n}"))
    assert await outbox.digests.pending_new_cards(-1) == 5
    assert await outbox.digests.fold_new_cards(-1) == 5
    [(kind, key, text)] = await due(outbox)
    assert kind == "send" and key is not None and key.startswith("digest:")
    assert text.splitlines() == [f"line {n}" for n in range(5)]
    # A folded card's change shows as a change of its digest line.
    await outbox.cards.put_card(card("incident:3", "card 3 resolved", line="line 3 resolved"))
    [(_, _, text)] = await due(outbox)
    assert "line 3 resolved" in text.splitlines()


async def test_fold_ignores_other_chats_and_replies(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("incident:1", "a", chat=-1))
    await outbox.cards.put_card(card("incident:2", "b", chat=-2))
    await outbox.queue.reply(-1, Rendered(text="answer"))
    assert await outbox.digests.fold_new_cards(-1) == 1
    texts = [text for _, _, text in await due(outbox)]
    assert "answer" in texts and "b" in texts


async def test_a_change_after_a_dead_first_send_posts_the_card(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("c", "v1"))
    [send] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
    await outbox.queue.claim(send.id)
    await outbox.cards.put_card(card("c", "v2"))  # queued as an edit while v1 is in flight
    await outbox.queue.mark_retry(send.id, not_before=datetime(2100, 1, 1, tzinfo=UTC), error="x")
    await outbox.queue.mark_dead(send.id, error="gave up")
    # mark_dead forgot the card and its pending edit; a new change starts afresh.
    await outbox.cards.put_card(card("c", "v3"))
    items = await outbox.queue.due(now=datetime(2099, 1, 1, tzinfo=UTC), limit=10)
    claimed = await outbox.queue.claim(items[0].id)
    assert claimed is not None and (claimed.kind, claimed.text) == (OutboundKind.SEND, "v3")


async def test_an_edit_waits_while_the_first_send_is_pending(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("c", "v1"))
    [send] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
    await outbox.queue.claim(send.id)
    await outbox.cards.put_card(card("c", "v2"))  # an edit, waiting for v1's message id
    await outbox.queue.mark_retry(send.id, not_before=datetime(2100, 1, 1, tzinfo=UTC), error="x")
    await outbox.queue.repost_card(send.id)  # still a send, pending far in the future
    [edit] = await outbox.queue.due(now=datetime(2099, 1, 1, tzinfo=UTC), limit=10)
    claimed = await outbox.queue.claim(edit.id)
    assert claimed is not None and claimed.kind == OutboundKind.EDIT and claimed.message_id is None


def urgent(key: str, text: str, *, line: str) -> Card:
    return card(key, text, line=line).model_copy(update={"priority": Priority.URGENT})


async def send_all(outbox: SqlOutbox, *, first_id: int = 100) -> list[str]:
    """Deliver everything due as the worker would; returns the card keys sent or edited."""
    done: list[str] = []
    for n, item in enumerate(await outbox.queue.due(now=FAR, limit=100)):
        claimed = await outbox.queue.claim(item.id)
        assert claimed is not None
        message_id = claimed.message_id or first_id + n
        await outbox.queue.mark_sent(item.id, message_id=message_id, at=outbox_clock(outbox).now())
        done.append(f"{claimed.kind.value} {claimed.card_key}")
    return done


def outbox_clock(outbox: SqlOutbox) -> FakeClock:
    clock = outbox.queue._clock
    assert isinstance(clock, FakeClock)
    return clock


FAR = datetime(2100, 1, 1, tzinfo=UTC)


async def test_a_new_card_goes_before_edits_and_urgent_before_new(outbox: SqlOutbox) -> None:
    await outbox.cards.put_card(card("incident:1", "v1"))
    await send_all(outbox)
    await outbox.cards.put_card(card("incident:1", "v2"))  # an edit of a posted card
    await outbox.cards.put_card(card("incident:2", "new"))
    await outbox.cards.put_card(urgent("incident:3", "critical", line="c"))
    assert [(kind, key) for kind, key, _ in await due(outbox)] == [
        ("send", "incident:3"),
        ("send", "incident:2"),
        ("edit", "incident:1"),
    ]


async def test_a_fold_keeps_the_most_urgent_cards_and_lists_urgent_lines_first(
    outbox: SqlOutbox,
) -> None:
    for n in range(4):
        await outbox.cards.put_card(card(f"incident:{n}", f"card {n}", line=f"line {n}"))
    await outbox.cards.put_card(urgent("incident:9", "card 9", line="line 9"))
    assert await outbox.digests.fold_new_cards(-1, keep=2) == 3
    kept = [key for _, key, _ in await due(outbox) if not key.startswith("digest:")]
    assert kept == ["incident:9", "incident:0"], "the critical one and the oldest keep cards"
    await outbox.cards.put_card(urgent("incident:8", "card 8", line="line 8"))
    await outbox.cards.put_card(card("incident:7", "card 7", line="line 7"))
    assert await outbox.digests.fold_new_cards(-1) == 4
    [(_, digest, text)] = await due(outbox)
    assert digest.startswith("digest:")
    # the critical ones first (then by arrival; the fake clock stands still, so by key)
    assert text.splitlines() == [f"line {n}" for n in (8, 9, 0, 1, 2, 3, 7)]
    [item] = await outbox.queue.due(now=FAR, limit=10)
    assert item.priority == Priority.URGENT, "a digest naming a critical incident is urgent"


async def test_a_digest_gains_lines_only_until_it_is_sent(outbox: SqlOutbox) -> None:
    clock = outbox_clock(outbox)
    for n in range(2):
        await outbox.cards.put_card(card(f"incident:{n}", f"card {n}", line=f"line {n}"))
    await outbox.digests.fold_new_cards(-1)
    await outbox.cards.put_card(card("incident:2", "card 2", line="line 2"))
    await outbox.digests.fold_new_cards(-1)  # the digest is still waiting: it joins
    [(_, first, text)] = await due(outbox)
    assert text.splitlines() == ["line 0", "line 1", "line 2"]
    [item] = await outbox.queue.due(now=FAR, limit=10)
    await outbox.queue.claim(item.id)  # on its way: too late to join

    clock.at += timedelta(seconds=1)
    await outbox.cards.put_card(card("incident:3", "card 3", line="line 3"))
    await outbox.digests.fold_new_cards(-1)
    [(kind, key, text)] = await due(outbox)
    assert kind == "send" and key != first, "a new digest message, not an edit of the first"
    assert text.splitlines() == ["line 3"]
    await outbox.queue.mark_sent(item.id, message_id=7, at=clock.now())
    assert [k for k, _, _ in await due(outbox)] == ["send"], "the first digest is not edited"


async def test_after_the_storm_open_folded_cards_get_their_own_message(
    outbox: SqlOutbox,
) -> None:
    for n in range(3):
        await outbox.cards.put_card(card(f"incident:{n}", f"card {n}", line=f"line {n}"))
    await outbox.digests.fold_new_cards(-1)
    await send_all(outbox)
    assert await outbox.digests.folded_chats() == [-1]
    # while folded: #1 changes, #2 resolves (closed: it stays a digest line)
    await outbox.cards.put_card(card("incident:1", "card 1 v2", line="line 1 v2"))
    closed = card("incident:2", "card 2 resolved", line="line 2 resolved")
    await outbox.cards.put_card(closed.model_copy(update={"closed": True}))
    [(kind, _, text)] = await due(outbox)
    assert kind == "edit" and text.splitlines() == ["line 0", "line 1 v2", "line 2 resolved"]
    await send_all(outbox)

    assert await outbox.digests.unfold(-1, limit=10) == 2
    assert sorted((k, key, t) for k, key, t in await due(outbox)) == [
        ("send", "incident:0", "card 0"),
        ("send", "incident:1", "card 1 v2"),
    ]
    assert await outbox.digests.folded_chats() == []
    await send_all(outbox)
    # an unfolded card is a card like any other: edited in place, its line kept in step
    await outbox.cards.put_card(card("incident:0", "card 0 v2", line="line 0 v2"))
    kinds = sorted((k, key.split(":")[0]) for k, key, _ in await due(outbox))
    assert kinds == [("edit", "digest"), ("edit", "incident")]


async def test_storm_digest_scenario_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    await upgrade(engine)
    try:
        await exercise_storm_digests(engine)
    finally:
        await engine.dispose()


async def test_deliveries_go_first_on_sqlites_one_writer(tmp_path: Path) -> None:
    """A card's delivery is what a person waits for: it does not queue behind bookkeeping."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    await upgrade(engine)
    sessions = session_factory(engine)
    outbox = SqlOutbox.over(sessions, FakeClock())
    try:
        await outbox.cards.put_card(card("c", "v1"))
        [item] = await outbox.queue.due(now=datetime(2100, 1, 1, tzinfo=UTC), limit=10)
        done: list[str] = []
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with sessions.begin():
                holding.set()
                await release.wait()

        async def bookkeeping() -> None:
            async with sessions.begin():
                done.append("bookkeeping")

        async def deliver() -> None:
            assert await outbox.queue.claim(item.id) is not None
            done.append("claimed")
            await outbox.queue.mark_sent(item.id, message_id=5, at=FakeClock().now())
            done.append("sent")

        holder = asyncio.create_task(hold())
        await holding.wait()
        later = asyncio.create_task(bookkeeping())
        await asyncio.sleep(0.01)  # queued first
        delivery = asyncio.create_task(deliver())
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(holder, later, delivery)
        assert done[0] == "claimed"
    finally:
        await engine.dispose()
