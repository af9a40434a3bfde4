"""The embedded engine plays every role: five distinct turns; later roles check the Solver."""

from __future__ import annotations

from core.debate.agents import Agents
from core.debate.models import AlertEvidence, ApprovalState, DebateStatus, Role, Vote
from core.debate.orchestrator import Debate
from core.llm.completion import Completion
from core.llm.embedded import EmbeddedEngine
from core.llm.limits import EMBEDDED, ProviderLimits
from core.llm.router import Router
from core.llm.schemas import Proposal, RiskLevel
from core.llm.types import ChatRequest, Task, ToolCall
from tests.unit.debate.fakes import (
    DESCRIBE,
    NOW,
    RESTART,
    RUN,
    FixedClock,
    MemoryTurnLog,
    snapshot,
)

STUCK = AlertEvidence(
    name="KubeDeploymentReplicasMismatch",
    status="firing",
    severity="warning",
    labels={
        "alertname": "KubeDeploymentReplicasMismatch",
        "namespace": "prod",
        "deployment": "api",
    },
    annotations={"summary": "api has 1 of 3 replicas ready; the workers hang and stop polling"},
    starts_at=NOW,
)


def embedded() -> Router:
    return Router([EmbeddedEngine()], limits={EMBEDDED: ProviderLimits(rpm=None)})


def debate(completer: object, turns: MemoryTurnLog) -> Debate:
    clock, tools = FixedClock(), [RESTART, DESCRIBE]
    return Debate(Agents(completer, tools, clock), turns, tools, clock, ceiling_s=5)  # type: ignore[arg-type]


async def test_the_embedded_engine_debates_a_stuck_deployment_and_a_person_approves() -> None:
    turns = MemoryTurnLog()
    package = await debate(embedded(), turns).run(RUN, snapshot(alerts=(STUCK,)))
    outputs = {t.role: t.output for t in turns.turns}
    assert set(outputs) == set(Role) and len({str(o) for o in outputs.values()}) == 5
    assert all(t.provider == "embedded" and not t.degraded for t in turns.turns)
    assert outputs[Role.SOLVER]["action"]["tool"] == "restart_deployment"
    assert outputs[Role.CRITIC]["objections"], "the critic argues against the plan"
    assert package.status is DebateStatus.COMPLETED
    assert package.recommended_action == ToolCall(
        tool="restart_deployment", arguments={"name": "api", "namespace": "prod"}
    )
    assert package.approval.state is ApprovalState.WAITING
    assert "restart_deployment is destructive" in package.why_human


class SolverSays:
    """The embedded engine in every role but the Solver's, whose answer is given."""

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal
        self.engine = embedded()

    async def complete(self, request: ChatRequest) -> Completion:
        if request.task is Task.SOLVE:
            return Completion(value=self.proposal, provider="model", attempts=["model: ok"])
        return await self.engine.complete(request)


async def test_the_reviewer_vetoes_a_solver_whose_plan_cannot_run() -> None:
    smuggled = ToolCall(
        tool="restart_deployment", arguments={"name": "api; rm -rf /", "namespace": "prod"}
    )
    proposal = Proposal(action=smuggled, rationale="restart it", risk_level=RiskLevel.LOW)
    turns = MemoryTurnLog()
    package = await debate(SolverSays(proposal), turns).run(RUN, snapshot(alerts=(STUCK,)))
    review = next(t for t in turns.turns if t.role is Role.REVIEWER)
    assert review.vote is Vote.REJECT
    assert package.recommended_action != smuggled
    assert package.requires_human_approval


async def test_the_critic_and_reviewer_raise_a_risk_the_solver_understated() -> None:
    call = ToolCall(tool="restart_deployment", arguments={"name": "api", "namespace": "prod"})
    proposal = Proposal(action=call, rationale="restart it", risk_level=RiskLevel.LOW)
    turns = MemoryTurnLog()
    package = await debate(SolverSays(proposal), turns).run(RUN, snapshot(alerts=(STUCK,)))
    critic = next(t for t in turns.turns if t.role is Role.CRITIC)
    assert RiskLevel(critic.output["risk_level"]).rank > RiskLevel.LOW.rank
    assert package.risk_level.rank > RiskLevel.LOW.rank
    assert package.requires_human_approval
