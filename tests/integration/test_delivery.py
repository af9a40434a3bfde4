"""The delivery worker against the Bot API emulator over HTTP, with Telegram's limits on."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.delivery import DeliveryWorker
from core.messages import Card, Priority, Rendered
from core.ports import SystemClock
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlOutbox
from tests.integration.conftest import ONCALL, TelegramWorld
from tests.servers.telegram import wait_for


@dataclass
class Pipeline:
    outbox: SqlOutbox
    bot: Bot
    world: TelegramWorld

    def worker(self) -> DeliveryWorker:
        return DeliveryWorker(
            self.outbox.queue,
            self.outbox.digests,
            self.bot,
            clock=SystemClock(),
            max_backoff_s=0.5,
            poll_s=0.2,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[DeliveryWorker]:
        """A started worker, stopped on the way out whatever the test did."""
        worker = self.worker()
        await worker.start()
        try:
            yield worker
        finally:
            await worker.stop()


@pytest.fixture
async def pipeline(tmp_path: Path, telegram: TelegramWorld) -> AsyncIterator[Pipeline]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'howl.db'}")
    await upgrade(engine)
    outbox = SqlOutbox.over(session_factory(engine), SystemClock())
    bot = Bot(
        telegram.emulator.token,
        base_url=f"{telegram.base_url}/bot",
        request=HTTPXRequest(connection_pool_size=16),
    )
    await bot.initialize()
    yield Pipeline(outbox, bot, telegram)
    await bot.shutdown()
    await engine.dispose()


def card(key: str, text: str, *, line: str | None = None) -> Card:
    return Card(key=key, chat_id=ONCALL, content=Rendered(text=text), digest_line=line)


def critical_card(n: int) -> Card:
    """Incident `n`'s first card, critical: PaymentsDown."""
    first = card(f"incident:{n}", "🔴 PaymentsDown", line=f"🔴 #{n} PaymentsDown · prod")
    return first.model_copy(update={"priority": Priority.URGENT})


def assert_critical_card_of_its_own(pipeline: Pipeline) -> None:
    """`critical_card` went as a message of its own (not a digest line), with no 429."""
    emulator = pipeline.world.emulator
    [posting] = [p for p in emulator.postings if "PaymentsDown" in p.text]
    assert (posting.method, posting.text) == ("sendMessage", "🔴 PaymentsDown"), "not folded"
    assert emulator.stats.too_many_requests == 0


async def fifteen_replies_sent(pipeline: Pipeline) -> None:
    """Spend 15 of the group's 20 slots of this minute on answers to people."""
    for n in range(15):
        await pipeline.outbox.queue.reply(ONCALL, Rendered(text=f"answer {n}"))
    await wait_for(lambda: len(pipeline.world.emulator.bot_messages(ONCALL)) == 15, timeout=20)


async def test_a_card_converges_to_its_latest_content(pipeline: Pipeline) -> None:
    worker = pipeline.worker()
    for text in ("<b>v1</b>", "<b>v2</b>", "<b>v3</b>"):
        await pipeline.outbox.cards.put_card(card("incident:1", text))
    await worker.start()
    try:
        await wait_for(
            lambda: [m for m in pipeline.world.emulator.bot_messages(ONCALL) if m.text == "v3"]
        )
        await pipeline.outbox.cards.put_card(card("incident:1", "<b>v4</b>"))
        await wait_for(
            lambda: [m for m in pipeline.world.emulator.bot_messages(ONCALL) if m.text == "v4"]
        )
    finally:
        await worker.stop()
    messages = pipeline.world.emulator.bot_messages(ONCALL)
    assert [m.text for m in messages] == ["v4"], "one message, edited in place"
    assert pipeline.world.emulator.stats.calls.get("sendMessage") == 1


async def test_not_modified_counts_as_delivered(pipeline: Pipeline) -> None:
    worker = pipeline.worker()
    await worker.start()
    try:
        await pipeline.outbox.cards.put_card(card("incident:7", "first"))
        await wait_for(lambda: pipeline.world.emulator.bot_messages(ONCALL))
        message = pipeline.world.emulator.bot_messages(ONCALL)[0]
        # The edit landed at Telegram, but we died before recording it: on retry
        # Telegram says "not modified", which means done, not failed.
        await worker.stop()
        await pipeline.outbox.cards.put_card(card("incident:7", "second"))
        message.html, message.text = "second", "second"
        worker = pipeline.worker()
        await worker.start()
        await wait_for(lambda: pipeline.world.emulator.stats.errors >= 1)
        for _ in range(100):
            counts = await pipeline.outbox.queue.counts()
            if counts["pending"] == counts["sending"] == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    counts = await pipeline.outbox.queue.counts()
    assert counts == {"pending": 0, "sending": 0, "sent": 2, "dead": 0}
    assert pipeline.world.emulator.bot_messages(ONCALL)[0].text == "second"


async def test_retry_after_is_honoured_and_nothing_is_lost(pipeline: Pipeline) -> None:
    pipeline.world.emulator.force_retry_after(ONCALL, 2)
    worker = pipeline.worker()
    started = time.monotonic()
    await pipeline.outbox.queue.reply(ONCALL, Rendered(text="hello"))
    await worker.start()
    try:
        await wait_for(lambda: pipeline.world.emulator.bot_messages(ONCALL), timeout=10)
    finally:
        await worker.stop()
    assert time.monotonic() - started >= 1.9
    assert pipeline.world.emulator.stats.too_many_requests == 1, "one 429, then it waited"
    assert (await pipeline.outbox.queue.counts())["dead"] == 0


async def test_outage_then_restart_delivers_everything(pipeline: Pipeline) -> None:
    emulator = pipeline.world.emulator
    emulator.outage = {"*"}
    worker = pipeline.worker()
    await worker.start()
    for n in range(5):
        await pipeline.outbox.cards.put_card(card(f"incident:{n}", f"incident {n}"))
    await wait_for(lambda: emulator.stats.errors >= 5, what="failed attempts during the outage")
    await worker.stop()  # the process dies while Telegram is still down
    assert (await pipeline.outbox.queue.counts())["pending"] == 5
    emulator.outage = set()
    worker = pipeline.worker()  # a new process
    await worker.start()
    try:
        await wait_for(lambda: len(emulator.bot_messages(ONCALL)) == 5, timeout=15)
    finally:
        await worker.stop()
    assert sorted(m.text for m in emulator.bot_messages(ONCALL)) == [
        f"incident {n}" for n in range(5)
    ]
    assert (await pipeline.outbox.queue.counts())["dead"] == 0


async def test_a_storm_is_folded_into_a_digest_without_429(pipeline: Pipeline) -> None:
    emulator = pipeline.world.emulator
    worker = pipeline.worker()
    await worker.start()
    started = time.monotonic()
    try:
        for n in range(60):
            line = f"🔴 <b>critical</b> · Service{n} down"
            await pipeline.outbox.cards.put_card(card(f"incident:{n}", f"card {n}", line=line))
        await pipeline.outbox.queue.reply(ONCALL, Rendered(text="status during the storm"))

        def visible() -> set[int]:
            text = "\n".join(m.text for m in emulator.bot_messages(ONCALL))
            return {n for n in range(60) if f"card {n}" in text or f"Service{n} down" in text}

        await wait_for(lambda: len(visible()) == 60, timeout=30, what="every incident visible")
        await wait_for(
            lambda: any(m.text == "status during the storm" for m in emulator.bot_messages(ONCALL))
        )
    finally:
        await worker.stop()
    assert time.monotonic() - started < 20
    assert emulator.stats.too_many_requests == 0
    assert len(emulator.bot_messages(ONCALL)) <= 20, "within one group's minute budget"
    assert any("Alert storm" in m.text for m in emulator.bot_messages(ONCALL))


async def test_after_fifteen_replies_a_new_critical_incident_is_a_message_of_its_own(
    pipeline: Pipeline,
) -> None:
    emulator = pipeline.world.emulator
    async with pipeline.running():
        await fifteen_replies_sent(pipeline)
        await pipeline.outbox.cards.put_card(critical_card(1))
        await wait_for(lambda: len(emulator.bot_messages(ONCALL)) == 16, timeout=20)
    assert_critical_card_of_its_own(pipeline)


async def test_a_storm_of_warnings_leaves_a_new_critical_card_room_to_go_at_once(
    pipeline: Pipeline,
) -> None:
    emulator = pipeline.world.emulator
    async with pipeline.running():
        for n in range(30):
            line = f"🟡 warning · Disk{n} filling"
            await pipeline.outbox.cards.put_card(card(f"incident:{n}", f"warning {n}", line=line))

        def visible() -> set[int]:
            text = "\n".join(m.text for m in emulator.bot_messages(ONCALL))
            return {n for n in range(30) if f"warning {n}" in text or f"Disk{n} filling" in text}

        await wait_for(lambda: len(visible()) == 30, timeout=30, what="every warning visible")
        spent = len(emulator.bot_messages(ONCALL))
        put_at = time.monotonic()
        await pipeline.outbox.cards.put_card(critical_card(99))
        await wait_for(
            lambda: any(m.text == "🔴 PaymentsDown" for m in emulator.bot_messages(ONCALL)),
            timeout=30,
            what="the critical card",
        )
        waited = time.monotonic() - put_at
    assert spent <= 20 - 4, "warnings leave the group's last four slots"
    assert waited < 5, f"the critical card waited {waited:.1f} s for the warnings' minute"
    assert_critical_card_of_its_own(pipeline)


async def test_after_the_storm_open_folded_incidents_get_their_own_card(
    pipeline: Pipeline,
) -> None:
    emulator = pipeline.world.emulator
    # The worker plans on a clock we move: Telegram's limits are kept by its plan
    # (at most 20 sends per minute of that clock), not by the emulator's real time.
    emulator.enforce_limits = False
    now = [0.0]
    worker = DeliveryWorker(
        pipeline.outbox.queue,
        pipeline.outbox.digests,
        pipeline.bot,
        clock=SystemClock(),
        monotonic=lambda: now[0],
        poll_s=0.1,
    )

    def own_cards() -> set[int]:
        texts = {m.text for m in emulator.bot_messages(ONCALL)}
        return {n for n in range(30) if f"card {n}" in texts}

    await worker.start()
    try:
        for n in range(30):
            await pipeline.outbox.cards.put_card(card(f"incident:{n}", f"card {n}", line=f"L{n}"))
        await wait_for(lambda: any("Alert storm" in m.text for m in emulator.bot_messages(ONCALL)))
        folded = sorted(set(range(30)) - own_cards())
        assert folded, "a storm of 30 in one minute folds"
        gone = card(f"incident:{folded[0]}", "resolved", line=f"L{folded[0]} resolved")
        await pipeline.outbox.cards.put_card(gone.model_copy(update={"closed": True}))
        for _ in range(20):  # quiet minutes go by until every open one has its card
            if own_cards() >= set(folded[1:]):
                break
            now[0] += 61.0
            worker.wake()
            await asyncio.sleep(0.5)
        assert own_cards() >= set(folded[1:]), "every open folded incident got its own card"
    finally:
        await worker.stop()
    assert folded[0] not in own_cards(), "a resolved incident stays a digest line"
    digest = next(m.text for m in emulator.bot_messages(ONCALL) if "Alert storm" in m.text)
    assert f"L{folded[0]} resolved" in digest, "the line follows its incident's state"
    sends = [p.at for p in emulator.postings if p.method == "sendMessage"]
    assert len(sends) == 30, "29 cards of their own and one digest"


async def test_in_a_busy_minute_a_critical_incidents_decision_goes_before_a_warnings(
    pipeline: Pipeline,
) -> None:
    """Outside a storm a decision card may use the slots kept for critical announcements
    only when its incident is critical: an approver may be waiting for it."""
    emulator = pipeline.world.emulator
    async with pipeline.running():
        await fifteen_replies_sent(pipeline)
        await pipeline.outbox.cards.put_card(critical_card(1))
        urgent = card("decision:1", "critical decision").model_copy(
            update={"reply_to_card": "incident:1", "priority": Priority.URGENT_DECISION}
        )
        await pipeline.outbox.cards.put_card(urgent)
        await wait_for(lambda: len(emulator.bot_messages(ONCALL)) == 17, timeout=10)
        calm = card("decision:2", "warning decision").model_copy(
            update={"priority": Priority.DECISION}
        )
        await pipeline.outbox.cards.put_card(calm)
        await asyncio.sleep(2.0)
        texts = [m.text for m in emulator.bot_messages(ONCALL)]
    assert "critical decision" in texts, "17 of 20 used: a critical incident's decision went"
    assert "warning decision" not in texts, "a warning's leaves the last four slots"
    assert emulator.stats.too_many_requests == 0


async def test_a_reply_held_for_its_card_costs_the_chat_no_slot_while_it_waits(
    pipeline: Pipeline,
) -> None:
    """A decision ready before its incident's card waits for it; each look it takes at the
    card is no delivery, so it must not spend the group's 20-a-minute window."""
    worker = pipeline.worker()
    await worker.start()
    try:
        answer = card("decision:1", "the decision").model_copy(
            update={"reply_to_card": "incident:1", "priority": Priority.DECISION}
        )
        await pipeline.outbox.cards.put_card(answer)
        await asyncio.sleep(3.5)  # three looks at a card that is not there yet
        assert pipeline.world.emulator.bot_messages(ONCALL) == []
        await pipeline.outbox.cards.put_card(card("incident:1", "the incident"))
        sent = await wait_for(
            lambda: (
                len(pipeline.world.emulator.bot_messages(ONCALL)) == 2
                and pipeline.world.emulator.bot_messages(ONCALL)
            ),
            timeout=10,
        )
        incident, decision = sent
        assert decision.reply_to == incident.message_id
        # two messages went out, and two slots of the window are taken: no more
        budget = worker._budget(ONCALL)  # the window is the worker's own state
        assert budget.remaining(time.monotonic()) == budget.window.count - 2
    finally:
        await worker.stop()


async def test_a_delivery_waiting_for_its_chats_budget_does_not_make_the_worker_spin(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A due delivery the chat cannot take yet waits for the budget, not in 10 ms rounds:
    each round reads the queue, and in a storm hundreds of deliveries wait like this."""
    emulator, queue = pipeline.world.emulator, pipeline.outbox.queue
    rounds = 0
    plan = queue.plan

    async def counted(**kwargs: object) -> object:
        nonlocal rounds
        rounds += 1
        return await plan(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(queue, "plan", counted)
    worker = pipeline.worker()  # polls every 0.2 s when nothing else wakes it
    await worker.start()
    try:
        for n in range(21):  # a group takes 20 a minute: the last one must wait
            await queue.reply(ONCALL, Rendered(text=f"answer {n}"))
        await wait_for(lambda: len(emulator.bot_messages(ONCALL)) == 20, timeout=20)
        await asyncio.sleep(0.1)
        before = rounds
        await asyncio.sleep(1.0)
        waiting_rounds = rounds - before
    finally:
        await worker.stop()
    assert len(emulator.bot_messages(ONCALL)) == 20 and emulator.stats.too_many_requests == 0
    assert (await queue.counts())["pending"] == 1, "still owed, not lost"
    assert waiting_rounds <= 10, f"{waiting_rounds} rounds in a second while nothing could go"
