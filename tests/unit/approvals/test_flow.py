"""The approval flow over real SQLite stores and real subprocesses (no Telegram).

Every refused press is checked to change nothing: not the request row, not the
package, not the audit log, not the card, and nothing executed. The action is a
tiny script that appends its argv to a file, so "ran once" and "reached argv
literally" are read off the file.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.actions import ActionRegistry, Executor, SubprocessRunner
from core.approval_flow import GONE, ApprovalFlow, FlowSettings
from core.approvals import (
    ALREADY_APPROVED_BY_YOU,
    EXPIRED,
    NOT_APPROVER,
    ApprovalRequest,
    Opened,
    new_request,
    package_approval,
)
from core.audit import AuditEntry
from core.debate.models import (
    Approval,
    ApprovalState,
    DecisionPackage,
    ExecutionState,
)
from core.llm.schemas import RiskLevel
from core.llm.types import ToolCall
from core.policy import Autopilot
from core.redact import Redactor
from core.run_worker import reap_expired
from core.runs import Run, RunEvent, RunState
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlApprovalStore, SqlAuditLog, SqlDecisionStore, SqlRunStore
from tests.debate_store_scenarios import package as a_package
from tests.run_scenarios import LEASE, FakeClock, add_incident

ALICE, BOB, MALLORY = 501, 502, 666
TTL = timedelta(minutes=15)
#: appends its arguments, as JSON, to the file named first
WRITE_ARGV = "import json, sys; open(sys.argv[1], 'a').write(json.dumps(sys.argv[2:]) + '\\n')"
FAIL = "import sys; print('checking'); print('pod api-1 not found', file=sys.stderr); sys.exit(3)"


def actions(argv_file: Path) -> list[dict[str, Any]]:
    return [
        {
            "name": "restart_deployment",
            "description": "Rolling restart",
            "command": [sys.executable, "-c", WRITE_ARGV, str(argv_file), "{name}", "{namespace}"],
            "params": {"name": "^[a-z0-9-]{1,63}$", "namespace": "^[a-z0-9-]{1,63}$"},
            "timeout_s": 10,
        },
        {
            "name": "annotate",
            "description": "Writes a note (non-destructive)",
            "command": [sys.executable, "-c", WRITE_ARGV, str(argv_file), "--note={note}"],
            "params": {"note": "^[ -~]{1,80}$"},
            "timeout_s": 10,
        },
        {
            "name": "hang",
            "description": "Never ends",
            "command": [sys.executable, "-c", "import time; time.sleep(30)"],
            "timeout_s": 0.5,
        },
        {
            "name": "broken_check",
            "description": "Exits 3",
            "command": [sys.executable, "-c", FAIL],
            "timeout_s": 10,
        },
    ]


@dataclass
class World:
    engine: AsyncEngine
    argv_file: Path
    clock: FakeClock = field(default_factory=FakeClock)
    posted: list[tuple[DecisionPackage, ApprovalRequest | None]] = field(default_factory=list)

    def flow(
        self,
        *,
        autopilot: Autopilot = "off",
        shadow: bool = False,
        executor: Executor | None = None,
    ) -> ApprovalFlow:
        sessions = session_factory(self.engine)
        registry = ActionRegistry.from_config({"actions": actions(self.argv_file)})
        redactor = Redactor()

        async def post(package: DecisionPackage, request: ApprovalRequest | None) -> None:
            self.posted.append((package, request))

        return ApprovalFlow(
            approvals=SqlApprovalStore(sessions),
            runs=self.runs,
            decisions=self.decisions,
            registry=registry,
            executor=executor or Executor(registry, SubprocessRunner(), redactor=redactor),
            audit=self.audit,
            clock=self.clock,
            settings=FlowSettings(
                approvers=frozenset({ALICE, BOB}), ttl=TTL, autopilot=autopilot, shadow=shadow
            ),
            redactor=redactor,
            post=post,
        )

    @property
    def runs(self) -> SqlRunStore:
        return SqlRunStore(session_factory(self.engine), self.clock)

    @property
    def decisions(self) -> SqlDecisionStore:
        return SqlDecisionStore(session_factory(self.engine))

    @property
    def audit(self) -> SqlAuditLog:
        return SqlAuditLog(session_factory(self.engine))

    @property
    def approvals(self) -> SqlApprovalStore:
        return SqlApprovalStore(session_factory(self.engine))

    def executions(self) -> list[list[str]]:
        if not self.argv_file.exists():
            return []
        return [json.loads(line) for line in self.argv_file.read_text().splitlines()]

    async def actions_audited(self) -> list[str]:
        return [entry.action for entry in reversed(await self.audit.recent(limit=100))]

    async def snapshot(self, run_id: UUID) -> tuple[Any, ...]:
        """Everything a refused press must leave as it was."""
        return (
            await self.approvals.for_run(run_id),
            await self.decisions.for_run(run_id),
            await self.audit.recent(limit=100),
            len(self.posted),
            self.executions(),
            (await self.runs.get(run_id)),
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    await upgrade(engine)
    yield World(engine, tmp_path / "argv.jsonl")
    await engine.dispose()


async def running_run(world: World) -> Run:
    runs = world.runs
    incident = await add_incident(world.engine, f"g{uuid4().hex[:6]}")
    run = await runs.create(incident, "opened")
    claimed = await runs.claim("w1", lease_for=LEASE)
    assert claimed is not None and claimed.id == run.id
    return await runs.advance(claimed, RunEvent.START)


async def announced(
    world: World,
    flow: ApprovalFlow,
    *,
    action: ToolCall | None = None,
    risk: RiskLevel = RiskLevel.MEDIUM,
    approval: ApprovalState = ApprovalState.WAITING,
    wait: bool = True,
) -> tuple[Run, ApprovalRequest | None]:
    """A debate run whose package was stored and announced; waiting_approval if `wait`."""
    run = await running_run(world)
    package = a_package(
        run.id,
        run.incident_id,
        risk_level=risk,
        approval=Approval(state=approval),
        **({"recommended_action": action} if action else {}),
    )
    await world.decisions.save(package)
    await flow.announce(package)
    if wait:
        run = await world.runs.advance(run, RunEvent.AWAIT_APPROVAL)
        await flow.settled(run)
    return run, await world.approvals.for_run(run.id)


async def final_state(world: World, run_id: UUID) -> RunState:
    run = await world.runs.get(run_id)
    assert run is not None
    return run.state


async def test_an_approved_action_runs_once_and_the_card_follows_it(world: World) -> None:
    flow = world.flow()
    run, request = await announced(world, flow)
    assert request is not None and request.id != run.id and request.required == 1
    [(first, offered)] = world.posted
    assert offered == request and first.approval.state is ApprovalState.WAITING

    answer = await flow.press(request.id, "approve", user_id=ALICE, name="Alice")
    assert answer.notice == "Approved by Alice; restart_deployment runs now." and answer.execute
    await flow.execute(run.id)

    assert world.executions() == [["api", "prod"]]
    assert await final_state(world, run.id) is RunState.COMPLETED
    cards = [p for p, _ in world.posted]
    assert [c.approval.state for c in cards] == [ApprovalState.WAITING] + [
        ApprovalState.APPROVED
    ] * 3
    assert cards[1].approval.by == ("Alice",) and cards[1].execution is None
    assert cards[2].execution is not None and cards[2].execution.state is ExecutionState.RUNNING
    done = cards[3].execution
    assert done is not None and done.state is ExecutionState.SUCCEEDED and done.exit_code == 0
    stored = await world.decisions.for_run(run.id)
    assert stored is not None and stored.execution == done
    assert await world.actions_audited() == [
        "approval.requested",
        "approval.approved",
        "action.started",
        "action.succeeded",
    ]
    entries = await world.audit.recent(subject=f"run:{run.id}", limit=10)
    trace = run.traceparent.split("-")[1]
    assert {e.detail["trace_id"] for e in entries} == {trace}
    approved = next(e for e in entries if e.action == "approval.approved")
    assert (approved.actor, approved.detail["by"], approved.detail["user_id"]) == (
        "tg:501",
        "Alice",
        ALICE,
    )
    assert approved.detail["approval_id"] == str(request.id)

    # executing again, the sweep, a late press: nothing runs twice
    await flow.execute(run.id)
    await flow.sweep()
    before = await world.snapshot(run.id)
    late = await flow.press(request.id, "approve", user_id=BOB, name="Bob")
    assert late.notice == "This request was already approved; nothing changed."
    assert not late.execute and await world.snapshot(run.id) == before


async def test_a_press_from_a_non_approver_changes_nothing(world: World) -> None:
    flow = world.flow()
    run, request = await announced(world, flow)
    assert request is not None
    before = await world.snapshot(run.id)
    for verdict in ("approve", "reject"):
        answer = await flow.press(request.id, verdict, user_id=MALLORY, name="Mallory")  # type: ignore[arg-type]
        assert answer.notice == NOT_APPROVER and not answer.execute and not answer.ask_reason
    assert await world.snapshot(run.id) == before


async def test_an_unknown_request_id_changes_nothing(world: World) -> None:
    flow = world.flow()
    run, _ = await announced(world, flow)
    before = await world.snapshot(run.id)
    assert (await flow.press(uuid4(), "approve", user_id=ALICE, name="Alice")).notice == GONE
    assert (await flow.press(run.id, "approve", user_id=ALICE, name="Alice")).notice == GONE
    assert await world.snapshot(run.id) == before


async def test_many_presses_at_the_same_instant_execute_one_action(world: World) -> None:
    flow, other = world.flow(), world.flow()
    run, request = await announced(world, flow)
    assert request is not None
    presses = [
        (flow if i % 2 else other).press(
            request.id, "approve", user_id=(ALICE, BOB)[i % 2], name=("Alice", "Bob")[i % 2]
        )
        for i in range(10)
    ]
    answers = await asyncio.gather(*presses)
    counted = [a for a in answers if a.execute]
    assert len(counted) == 1
    assert {a.notice for a in answers if not a.execute} <= {
        "This request was already approved; nothing changed."
    }
    # every caller that was told it may start tries at once, and the sweep too
    await asyncio.gather(*(flow.execute(run.id) for _ in range(5)), flow.sweep(), other.sweep())
    assert world.executions() == [["api", "prod"]]
    audited = await world.actions_audited()
    assert audited.count("approval.approved") == 1 and audited.count("action.started") == 1


async def test_an_expired_request_refuses_presses_and_the_sweep_closes_it(world: World) -> None:
    flow = world.flow()
    run, request = await announced(world, flow)
    assert request is not None
    world.clock.advance(TTL)
    before = await world.snapshot(run.id)
    answer = await flow.press(request.id, "approve", user_id=ALICE, name="Alice")
    assert answer.notice == EXPIRED and not answer.execute
    assert await world.snapshot(run.id) == before

    assert await flow.sweep() == 1
    assert await flow.sweep() == 0, "expired once"
    stored = await world.approvals.get(request.id)
    assert stored is not None and stored.state is ApprovalState.EXPIRED
    card, _ = world.posted[-1]
    assert card.approval.state is ApprovalState.EXPIRED and not card.waits_for_approval
    assert await final_state(world, run.id) is RunState.COMPLETED
    assert (await world.actions_audited())[-1] == "approval.expired"
    assert world.executions() == []
    late = await flow.press(request.id, "approve", user_id=ALICE, name="Alice")
    assert late.notice == "This request was already expired; nothing changed."


async def test_critical_risk_needs_two_different_approvers(world: World) -> None:
    flow = world.flow()
    run, request = await announced(world, flow, risk=RiskLevel.CRITICAL)
    assert request is not None and request.required == 2
    first = await flow.press(request.id, "approve", user_id=ALICE, name="Alice")
    assert first.notice == "Approved by Alice; 1 more approver needed." and not first.execute
    card, offered = world.posted[-1]
    assert card.waits_for_approval and card.approval.by == ("Alice",) and offered is not None
    before = await world.snapshot(run.id)
    again = await flow.press(request.id, "approve", user_id=ALICE, name="Alice")
    assert again.notice == ALREADY_APPROVED_BY_YOU
    assert await world.snapshot(run.id) == before
    await flow.execute(run.id)
    assert world.executions() == [], "one approval of two runs nothing"

    second = await flow.press(request.id, "approve", user_id=BOB, name="Bob")
    assert second.execute
    await flow.execute(run.id)
    assert world.executions() == [["api", "prod"]]
    assert world.posted[-1][0].approval.by == ("Alice", "Bob")


async def test_a_rejection_runs_nothing_and_keeps_the_rejecters_reason(world: World) -> None:
    flow = world.flow()
    run, request = await announced(world, flow)
    assert request is not None
    answer = await flow.press(request.id, "reject", user_id=BOB, name="Bob")
    assert answer.notice == "Rejected by Bob; restart_deployment will not run."
    assert answer.ask_reason and not answer.execute
    assert await final_state(world, run.id) is RunState.COMPLETED
    card, _ = world.posted[-1]
    assert card.approval == Approval(
        state=ApprovalState.REJECTED, by=("Bob",), at=world.clock.now()
    )
    assert not await flow.record_reason(request.id, user_id=ALICE, name="Alice", text="mine")
    assert await flow.record_reason(
        request.id,
        user_id=BOB,
        name="Bob",
        text="wrong\nservice, token=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    )
    assert not await flow.record_reason(request.id, user_id=BOB, name="Bob", text="again")
    stored = await world.decisions.for_run(run.id)
    assert stored is not None and stored.approval.reason is not None
    assert stored.approval.reason.startswith("wrong service")
    assert "ghp_abcdefghij" not in stored.approval.reason, "the reason is redacted"
    entries = await world.audit.recent(subject=f"run:{run.id}", limit=10)
    assert [e.action for e in reversed(entries)] == [
        "approval.requested",
        "approval.rejected",
        "approval.reason",
    ]
    assert entries[0].detail["reason"] == stored.approval.reason
    await flow.execute(run.id)
    await flow.sweep()
    assert world.executions() == []


async def test_an_argument_off_its_pattern_is_refused_at_execution(world: World) -> None:
    flow = world.flow()
    bad = ToolCall(
        tool="restart_deployment", arguments={"name": "api/../../x", "namespace": "prod"}
    )
    run, request = await announced(world, flow, action=bad)
    assert request is not None
    assert (await flow.press(request.id, "approve", user_id=ALICE, name="Alice")).execute
    await flow.execute(run.id)
    assert world.executions() == [], "nothing started"
    assert await final_state(world, run.id) is RunState.FAILED
    done = world.posted[-1][0].execution
    assert done is not None and done.state is ExecutionState.REFUSED
    assert done.reason == "argument name: 'api/../../x' does not match ^[a-z0-9-]{1,63}$"
    failed = (await world.audit.recent(subject=f"run:{run.id}", limit=1))[0]
    assert failed.action == "action.failed" and failed.detail["status"] == "refused"


@pytest.mark.parametrize(
    "note", ["x; touch /tmp/pwned", "$(id) `id` && echo", "a | cat > /etc/passwd", "'\" \\ *"]
)
async def test_shell_metacharacters_reach_argv_literally(world: World, note: str) -> None:
    flow = world.flow()
    run, request = await announced(
        world, flow, action=ToolCall(tool="annotate", arguments={"note": note})
    )
    assert request is not None
    await flow.press(request.id, "approve", user_id=ALICE, name="Alice")
    await flow.execute(run.id)
    assert world.executions() == [[f"--note={note}"]]
    assert await final_state(world, run.id) is RunState.COMPLETED


async def test_a_timed_out_action_fails_the_run_and_says_so(world: World) -> None:
    flow = world.flow()
    run, request = await announced(world, flow, action=ToolCall(tool="hang", arguments={}))
    assert request is not None
    await flow.press(request.id, "approve", user_id=ALICE, name="Alice")
    await flow.execute(run.id)
    assert await final_state(world, run.id) is RunState.FAILED
    done = world.posted[-1][0].execution
    assert done is not None and done.state is ExecutionState.TIMED_OUT
    assert done.reason == "killed after 0.5s" and done.exit_code is None


async def test_a_failing_action_keeps_its_exit_status_and_last_output(world: World) -> None:
    flow = world.flow()
    run, request = await announced(world, flow, action=ToolCall(tool="broken_check", arguments={}))
    assert request is not None
    await flow.press(request.id, "approve", user_id=ALICE, name="Alice")
    await flow.execute(run.id)
    run_after = await world.runs.get(run.id)
    assert run_after is not None and run_after.state is RunState.FAILED
    assert run_after.reason == "broken_check failed: exited with status 3"
    done = world.posted[-1][0].execution
    assert done is not None and (done.exit_code, done.stdout, done.stderr) == (
        3,
        "checking",
        "pod api-1 not found",
    )


async def test_a_press_before_the_run_waits_is_carried_out_when_it_does(world: World) -> None:
    flow = world.flow()
    run, request = await announced(world, flow, wait=False)
    assert request is not None and run.state is RunState.RUNNING
    assert (await flow.press(request.id, "approve", user_id=ALICE, name="Alice")).execute
    await flow.execute(run.id)
    assert world.executions() == [], "the debate's worker still holds the run"
    waiting = await world.runs.advance(run, RunEvent.AWAIT_APPROVAL)
    await flow.settled(waiting)
    assert world.executions() == [["api", "prod"]]
    assert await final_state(world, run.id) is RunState.COMPLETED


async def test_a_package_is_announced_again_with_the_same_request(world: World) -> None:
    flow = world.flow()
    run, request = await announced(world, flow)
    stored = await world.decisions.for_run(run.id)
    assert stored is not None and request is not None
    await flow.announce(stored)
    assert world.posted[-1][1] == request
    assert (await world.actions_audited()).count("approval.requested") == 1


LOW_NOTE = ToolCall(tool="annotate", arguments={"note": "queue depth 41"})


async def test_autopilot_runs_a_low_risk_non_destructive_action_unasked(world: World) -> None:
    flow = world.flow(autopilot="low")
    run, request = await announced(
        world, flow, action=LOW_NOTE, risk=RiskLevel.LOW, approval=ApprovalState.NOT_NEEDED
    )
    assert request is not None and request.state is ApprovalState.APPROVED
    assert world.executions() == [["--note=queue depth 41"]]
    assert await final_state(world, run.id) is RunState.COMPLETED
    stored = await world.decisions.for_run(run.id)
    assert stored is not None and stored.approval.by == ("autopilot",)
    assert await world.actions_audited() == [
        "approval.approved",
        "action.started",
        "action.succeeded",
    ]
    assert (await world.audit.recent(limit=3))[-1].actor == "autopilot"


@pytest.mark.parametrize("autopilot", ["low", "off"])
async def test_autopilot_never_runs_a_destructive_action_or_when_off(
    world: World, autopilot: Autopilot
) -> None:
    """Even a package claiming no approval is needed (a bug, a forged row) waits for a person."""
    flow = world.flow(autopilot=autopilot)
    action = None if autopilot == "low" else LOW_NOTE
    run, request = await announced(
        world, flow, action=action, risk=RiskLevel.LOW, approval=ApprovalState.NOT_NEEDED
    )
    assert request is not None and request.state is ApprovalState.WAITING
    assert world.executions() == []
    assert await final_state(world, run.id) is RunState.WAITING_APPROVAL
    stored = await world.decisions.for_run(run.id)
    assert stored is not None and stored.waits_for_approval
    assert world.posted[-1][1] == request, "posted with its buttons"


async def test_shadow_mode_opens_nothing_runs_nothing_and_audits_what_would_have(
    world: World,
) -> None:
    flow = world.flow(shadow=True, autopilot="low")
    waited, request = await announced(world, flow)
    unasked, none = await announced(
        world, flow, action=LOW_NOTE, risk=RiskLevel.LOW, approval=ApprovalState.NOT_NEEDED
    )
    assert request is None and none is None, "no request: nobody could press"
    assert world.executions() == []
    for run in (waited, unasked):
        assert await final_state(world, run.id) is RunState.COMPLETED
    entries = list(reversed(await world.audit.recent(limit=10)))
    assert [(e.action, e.subject, e.detail["shadow"]) for e in entries] == [
        ("approval.requested", f"run:{waited.id}", True),
        ("action.would_execute", f"run:{unasked.id}", True),
    ]
    assert entries[1].detail["arguments"] == {"note": "queue depth 41"}
    assert all(offered is None for _, offered in world.posted)


class Stuck(Executor):
    """An executor whose action never returns (the process dies while it runs)."""

    def __init__(self) -> None:
        super().__init__(ActionRegistry(), SubprocessRunner(), redactor=Redactor())
        self.started = asyncio.Event()

    async def execute(self, name: str, arguments: Any, *, dry_run: bool = False) -> Any:
        self.started.set()
        await asyncio.Event().wait()


async def test_an_action_whose_process_dies_is_timed_out_never_retried(world: World) -> None:
    stuck = Stuck()
    flow = world.flow(executor=stuck)
    run, request = await announced(world, flow)
    assert request is not None
    await flow.press(request.id, "approve", user_id=ALICE, name="Alice")
    task = asyncio.create_task(flow.execute(run.id))
    await stuck.started.wait()
    executing = await world.runs.get(run.id)
    assert executing is not None and executing.state is RunState.EXECUTING
    assert executing.lease_owner == "approval-flow" and executing.lease_expires_at is not None
    task.cancel()  # the process dies
    with pytest.raises(asyncio.CancelledError):
        await task

    world.clock.advance(timedelta(seconds=10 + 61))  # the action's timeout and the margin
    [reaped] = await reap_expired(world.runs, world.clock)
    assert reaped.event is RunEvent.TIME_OUT and "cannot run twice" in reaped.reason
    package = await world.decisions.for_run(run.id)
    assert package is not None
    await flow.announce(package)  # what the reaper's answer does
    shown = world.posted[-1][0].execution
    assert shown is not None and shown.state is ExecutionState.FAILED
    assert shown.reason.startswith("Howl stopped while it ran")
    await flow.sweep()
    await flow.execute(run.id)
    assert await final_state(world, run.id) is RunState.TIMED_OUT


async def test_a_new_request_commits_with_its_audit_line_and_its_packages_approval(
    world: World,
) -> None:
    run = await running_run(world)
    package = a_package(run.id, run.incident_id, approval=Approval(state=ApprovalState.WAITING))
    await world.decisions.save(package)
    sessions = session_factory(world.engine)
    store, writes = SqlApprovalStore(sessions), 0
    begin = sessions.begin

    def counted() -> Any:
        nonlocal writes
        writes += 1
        return begin()

    sessions.begin = counted  # type: ignore[method-assign]
    fresh = new_request(package, now=world.clock.now(), ttl=timedelta(minutes=30))
    entry = AuditEntry(
        at=world.clock.now(), actor="system", action="approval.requested",
        subject=f"run:{run.id}", detail={"by": "Howl"},
    )  # fmt: skip
    opened = Opened(audit=entry, approval=package_approval(fresh))
    request, updated = await store.open(fresh, opened=opened)
    assert writes == 1, "request, audit line and package approval: one transaction"
    assert request == fresh and updated is not None
    assert updated.approval == package_approval(fresh)
    assert (await world.decisions.for_run(run.id)) == updated
    assert await world.actions_audited() == ["approval.requested"]
    # a second open finds the first request and writes nothing else
    other = new_request(package, now=world.clock.now(), ttl=timedelta(minutes=30))
    again, unchanged = await store.open(other, opened=Opened(audit=entry, approval=opened.approval))
    assert again.id == fresh.id and unchanged is None
    assert await world.actions_audited() == ["approval.requested"]
