"""The evidence's knowledge: the same symptoms first, lexically close ones when none match."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.actions.executor import ActionStatus
from core.knowledge.models import EntryStatus, KnowledgeEntry, NewEntry
from core.knowledge.service import KnowledgeService
from core.knowledge.source import SCAN_LIMIT, StoredKnowledge
from tests.unit.knowledge.fakes import (
    LABELS,
    Clock,
    MemoryKnowledgeStore,
    RecordingCards,
    RunbookCompleter,
    outcome,
)


async def learned() -> tuple[KnowledgeService, MemoryKnowledgeStore, Clock]:
    clock, store = Clock(), MemoryKnowledgeStore()
    learn = KnowledgeService(store, RecordingCards(), RunbookCompleter(), clock)
    return learn, store, clock


async def test_only_published_runbooks_and_active_anti_patterns_are_evidence() -> None:
    learn, store, clock = await learned()
    source = StoredKnowledge(store, clock)
    draft = await learn.learn(outcome())
    assert draft is not None
    assert await source.for_symptoms(LABELS, "WorkerQueueStuck") == [], "a draft is not evidence"
    await learn.review(draft.id, publish=True, by="Alice")
    anti = await learn.learn(outcome(ActionStatus.FAILED))
    assert anti is not None
    notes = await source.for_symptoms({**LABELS, "pod": "api-7d9f8b6c4-other"}, "x")
    assert [(n.kind, n.entry_id, n.match) for n in notes] == [
        ("anti_pattern", anti.id, "same_symptoms"),
        ("runbook", draft.id, "same_symptoms"),
    ]
    runbook = notes[1]
    assert runbook.tool == "restart_deployment"
    assert runbook.arguments == {"name": "api", "namespace": "prod"}
    assert notes[0].expires_at == anti.created_at + timedelta(days=7)
    clock.advance(timedelta(days=8))
    later = await source.for_symptoms(LABELS, "WorkerQueueStuck")
    assert [n.kind for n in later] == ["runbook"], "the anti-pattern's window has passed"


async def test_close_symptoms_are_shown_when_none_match_and_never_gate() -> None:
    learn, store, clock = await learned()
    anti = await learn.learn(outcome(ActionStatus.FAILED))
    assert anti is not None
    source = StoredKnowledge(store, clock)
    # the same alert on another deployment of the same namespace: close, not the same
    close = {**LABELS, "deployment": "api-v2", "pod": "api-v2-7d9f8b6c4-x2x9k"}
    [note] = await source.for_symptoms(close, "WorkerQueueStuck")
    assert note.match == "similar" and note.entry_id == anti.id
    far = {"alertname": "DiskFull", "namespace": "billing", "device": "sda"}
    assert await source.for_symptoms(far, "DiskFull") == []


async def test_the_same_symptoms_are_found_however_many_entries_are_newer() -> None:
    learn, store, clock = await learned()
    draft = await learn.learn(outcome())
    assert draft is not None
    published, _ = await store.review(draft.id, EntryStatus.PUBLISHED, by="Alice", at=clock.now())
    assert published is not None
    reads: list[str | None] = []
    usable = store.usable

    async def counted(**asked: Any) -> list[KnowledgeEntry]:
        reads.append(asked["symptoms_hash"])
        return await usable(**asked)

    store.usable = counted  # type: ignore[method-assign]
    source = StoredKnowledge(store, clock)
    [note] = await source.for_symptoms(LABELS, "WorkerQueueStuck")
    assert note.entry_id == draft.id and reads == [None], "a small store: one read answers"
    # more newer runbooks of other symptoms than one scan holds: the same symptoms are
    # asked for by their hash
    for n in range(SCAN_LIMIT):
        fields = published.model_dump(include=set(NewEntry.model_fields))
        await store.add(NewEntry(**{**fields, "symptoms_hash": f"{n:016x}"}))
    reads.clear()
    [note] = await source.for_symptoms(LABELS, "WorkerQueueStuck")
    assert note.entry_id == draft.id and reads == [None, draft.symptoms_hash]
