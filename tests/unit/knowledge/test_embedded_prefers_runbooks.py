"""The embedded engine prefers a published runbook's action for the same symptoms."""

from __future__ import annotations

from core.debate.agents import Agents
from core.debate.models import AlertEvidence, DecisionPackage, KnowledgeNote, Role
from core.debate.orchestrator import Debate
from core.llm.embedded import EmbeddedEngine
from core.llm.limits import EMBEDDED, ProviderLimits
from core.llm.router import Router
from core.llm.types import ToolCall
from tests.unit.debate.fakes import DESCRIBE, NOW, RESTART, RUN, FixedClock, MemoryTurnLog, snapshot

#: an alert the engine has no family for: on its own it would propose no change
ODD = AlertEvidence(
    name="LedgerReconcilerWedged",
    status="firing",
    severity="critical",
    labels={"alertname": "LedgerReconcilerWedged", "namespace": "prod", "deployment": "ledger"},
    annotations={"summary": "the ledger reconciler stopped making progress"},
    starts_at=NOW,
)
RESTART_LEDGER = ToolCall(
    tool="restart_deployment", arguments={"name": "ledger", "namespace": "prod"}
)


def runbook(**changes: object) -> KnowledgeNote:
    values: dict[str, object] = {
        "kind": "runbook",
        "title": "#4 Unwedge the ledger reconciler",
        "body": "# Unwedge\n",
        "tool": "restart_deployment",
        "arguments": {"name": "ledger", "namespace": "prod"},
        "entry_id": 4,
    }
    values.update(changes)
    return KnowledgeNote.model_validate(values)


async def run(*notes: KnowledgeNote) -> tuple[DecisionPackage, MemoryTurnLog]:
    turns, clock, tools = MemoryTurnLog(), FixedClock(), [RESTART, DESCRIBE]
    router = Router([EmbeddedEngine()], limits={EMBEDDED: ProviderLimits(rpm=None)})
    debate = Debate(Agents(router, tools, clock), turns, tools, clock, ceiling_s=5)
    package = await debate.run(RUN, snapshot(alerts=(ODD,), knowledge=notes))
    return package, turns


async def test_without_a_runbook_the_engine_changes_nothing() -> None:
    package, _ = await run()
    assert package.recommended_action != RESTART_LEDGER


async def test_a_published_runbook_is_proposed_reviewed_and_named() -> None:
    package, turns = await run(runbook())
    outputs = {t.role: t.output for t in turns.turns}
    assert outputs[Role.SOLVER]["action"] == RESTART_LEDGER.model_dump()
    assert "#4 Unwedge the ledger reconciler" in outputs[Role.SOLVER]["rationale"]
    assert outputs[Role.REVIEWER]["verdict"] == "approve"
    assert package.recommended_action == RESTART_LEDGER
    assert "#4 Unwedge the ledger reconciler" in package.summary
    assert package.requires_human_approval, "a destructive action still waits"


async def test_a_similar_runbook_or_one_the_registry_refuses_is_not_proposed() -> None:
    for note in (
        runbook(match="similar"),
        runbook(tool="delete_namespace"),
        runbook(arguments={"name": "Bad Name!", "namespace": "prod"}),
    ):
        package, _ = await run(note)
        assert package.recommended_action != RESTART_LEDGER, note
