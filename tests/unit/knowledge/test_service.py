"""Learning from executions: a draft runbook and its card after a success, a published
anti-pattern and its notice after a failure, a minimal runbook when the model fails."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import structlog

from core.actions.executor import ActionStatus
from core.config import load_settings
from core.errors import NotFoundError
from core.knowledge.models import EntryKind, EntryStatus
from core.knowledge.service import AlreadyReviewed, KnowledgeService
from core.knowledge.symptoms import incident_symptoms
from core.knowledge.writing import ANTI_PATTERN_SECTIONS, MINIMAL_MARK, RUNBOOK_SECTIONS
from core.llm.router import build_router
from core.llm.types import Task
from core.redact import Redactor
from tests.unit.knowledge.fakes import (
    LABELS,
    Clock,
    MemoryKnowledgeStore,
    RecordingCards,
    RunbookCompleter,
    outcome,
)


def service(
    completer: object | None = None,
    *,
    cards: RecordingCards | None = None,
    store: MemoryKnowledgeStore | None = None,
    timeout_s: float = 5.0,
    redactor: Redactor | None = None,
) -> tuple[KnowledgeService, MemoryKnowledgeStore, RecordingCards]:
    store = store or MemoryKnowledgeStore()
    cards = cards or RecordingCards()
    made = KnowledgeService(
        store,
        cards,
        completer or RunbookCompleter(),  # type: ignore[arg-type]
        Clock(),
        runbook_timeout_s=timeout_s,
        redactor=redactor,
    )
    return made, store, cards


def sections(body: str) -> list[str]:
    return [line.removeprefix("## ") for line in body.splitlines() if line.startswith("## ")]


async def test_a_success_writes_a_draft_runbook_of_nine_sections_and_shows_its_card() -> None:
    completer = RunbookCompleter()
    learn, store, cards = service(completer)
    store.incidents = {1: "x", 4: incident_symptoms(LABELS, "WorkerQueueStuck").hash}
    entry = await learn.on_execution(outcome())
    assert entry is not None and entry.kind is EntryKind.RUNBOOK
    assert entry.status is EntryStatus.DRAFT and not entry.minimal
    assert sections(entry.body) == list(RUNBOOK_SECTIONS)
    assert entry.title == "Unstick the api workers"
    assert "Restart the api deployment" in entry.body
    assert "restart_deployment(name=api, namespace=prod)" in entry.body
    assert "approved by Alice" in entry.body and "incident #4" in entry.body
    assert entry.symptoms_hash == incident_symptoms(LABELS, "WorkerQueueStuck").hash
    assert entry.action == "restart_deployment"
    assert entry.arguments == {"name": "api", "namespace": "prod"}
    assert cards.shown == [entry]
    [asked] = completer.requests
    assert asked.task is Task.RUNBOOK and asked.context["alert_name"] == "WorkerQueueStuck"


async def test_on_execution_returns_at_once_and_learns_in_the_background() -> None:
    learn, store, cards = service(RunbookCompleter("hang"), timeout_s=0.2)
    task = learn.on_execution(outcome())
    assert not task.done() and store.entries == {}, "nothing waited for the model"
    await learn.drain()
    assert task.result() is not None and cards.shown


@pytest.mark.parametrize("mode", ["fallback", "hang", "raise"])
async def test_a_failing_or_slow_model_gives_a_minimal_runbook_marked_as_such(mode: str) -> None:
    learn, _, cards = service(RunbookCompleter(mode), timeout_s=0.05)
    with structlog.testing.capture_logs() as logs:
        entry = await learn.learn(outcome())
    assert entry is not None and entry.minimal and entry.status is EntryStatus.DRAFT
    assert MINIMAL_MARK in entry.body
    assert sections(entry.body) == list(RUNBOOK_SECTIONS)
    assert "restart_deployment(name=api, namespace=prod)" in entry.body
    assert "succeeded in 2.5 s" in entry.body
    assert cards.shown == [entry], "the card goes out all the same, no error in the chat"
    assert any(log["event"] == "runbook_minimal" for log in logs)


async def test_the_embedded_engine_drafts_a_runbook_too() -> None:
    router = build_router(load_settings(_env_file=None), {})
    learn, _, _ = service(router)
    entry = await learn.learn(outcome())
    assert entry is not None and not entry.minimal
    assert sections(entry.body) == list(RUNBOOK_SECTIONS)


async def test_a_failure_publishes_an_anti_pattern_at_once_and_shows_a_notice() -> None:
    completer = RunbookCompleter()
    learn, _, cards = service(completer)
    entry = await learn.learn(outcome(ActionStatus.FAILED, exit_code=1, stdout="error: boom"))
    assert entry is not None and entry.kind is EntryKind.ANTI_PATTERN
    assert entry.status is EntryStatus.PUBLISHED
    assert sections(entry.body) == list(ANTI_PATTERN_SECTIONS)
    assert "exit code 1" in entry.body and "error: boom" in entry.body
    assert "blocked for 7d" in entry.body
    assert entry.action == "restart_deployment"
    assert cards.shown == [entry]
    assert completer.requests == [], "an anti-pattern is written from the facts"


async def test_a_timeout_is_a_failure_and_a_refusal_teaches_nothing() -> None:
    learn, store, cards = service()
    timed_out = await learn.learn(outcome(ActionStatus.TIMED_OUT, exit_code=None))
    assert timed_out is not None and timed_out.kind is EntryKind.ANTI_PATTERN
    assert await learn.learn(outcome(ActionStatus.REFUSED)) is None
    assert len(store.entries) == 1 and len(cards.shown) == 1


async def test_an_anti_pattern_names_the_runbooks_that_worked_as_alternatives() -> None:
    learn, store, _ = service()
    worked = await learn.learn(outcome())
    assert worked is not None
    await learn.review(worked.id, publish=True, by="Alice")
    store.entries[worked.id] = store.entries[worked.id].model_copy(update={"action": "scale_up"})
    failed = await learn.learn(outcome(ActionStatus.FAILED))
    assert failed is not None and f"runbook #{worked.id}" in failed.body


async def test_a_broken_store_or_card_is_logged_never_raised() -> None:
    learn, _, _ = service(cards=RecordingCards(fail=True))
    with structlog.testing.capture_logs() as logs:
        assert await learn.learn(outcome()) is not None
    assert any(log["event"] == "knowledge_card_failed" for log in logs)

    class Broken(MemoryKnowledgeStore):
        async def add(self, entry: object) -> object:  # type: ignore[override]
            raise RuntimeError("disk full")

    learn, _, cards = service(store=Broken())
    with structlog.testing.capture_logs() as logs:
        assert await learn.learn(outcome()) is None
    assert cards.shown == []
    assert any(log["event"] == "knowledge_learning_failed" for log in logs)


async def test_secrets_in_the_output_are_redacted() -> None:
    learn, _, _ = service(redactor=Redactor(["hunter2-secret-token"]))
    entry = await learn.learn(outcome(stdout="token=hunter2-secret-token\n"))
    assert entry is not None and "hunter2-secret-token" not in entry.body


async def test_a_draft_is_published_or_rejected_once_and_its_card_edited() -> None:
    learn, _, cards = service()
    first = await learn.learn(outcome())
    second = await learn.learn(outcome(incident_id=2))
    assert first is not None and second is not None
    published = await learn.review(first.id, publish=True, by="Alice")
    assert published.status is EntryStatus.PUBLISHED and published.reviewed_by == "Alice"
    assert cards.shown[-1] == published
    with pytest.raises(AlreadyReviewed, match="already published by Alice"):
        await learn.review(first.id, publish=False, by="Bob")
    rejected = await learn.review(second.id, publish=False, by="Bob")
    assert rejected.status is EntryStatus.REJECTED
    with pytest.raises(NotFoundError):
        await learn.review(99, publish=True, by="Alice")


async def test_two_presses_at_once_decide_once() -> None:
    learn, _, _ = service()
    entry = await learn.learn(outcome())
    assert entry is not None
    results = await asyncio.gather(
        learn.review(entry.id, publish=True, by="Alice"),
        learn.review(entry.id, publish=False, by="Carol"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, AlreadyReviewed) for r in results) == 1


async def test_an_anti_pattern_cannot_be_reviewed() -> None:
    learn, _, _ = service()
    entry = await learn.learn(outcome(ActionStatus.FAILED))
    assert entry is not None
    with pytest.raises(AlreadyReviewed):
        await learn.review(entry.id, publish=False, by="Alice")
    assert learn.anti_pattern_window == timedelta(days=7)
