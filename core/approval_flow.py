"""The approval flow: a proposed action waits for approvers, runs once, and everything is audited.

The promise, and where it is kept:
- nothing runs unless `judge` (core/approvals.py) counted enough presses, or
  HOWL_AUTOPILOT=low and policy let the package run unasked (checked again
  here against the registry's destructive flag, whatever the package says);
- an action runs at most once: it starts only through the run's conditional
  move waiting_approval -> executing, which one caller wins;
- a refused press changes nothing: no row, no audit line, no card edit;
- every approval, rejection (and its reason), expiry, execution and result is
  appended to the audit log with who, when, the run id and its trace id;
- in shadow mode (HOWL_SHADOW=1) nothing is posted or executed: the audit log
  says what would have happened.

Who calls what: the decision card announcer calls `announce`; the run worker
calls `settled` after the run's transition (so a press that came before the
run reached waiting_approval is still carried out); button presses call
`press`; the reason reply calls `record_reason`; a job calls `sweep`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from core.actions.executor import ActionResult, ActionStatus, Executor
from core.actions.registry import ActionRegistry
from core.approvals import (
    AUTOPILOT,
    ApprovalRequest,
    ApprovalStore,
    Counted,
    Opened,
    Press,
    Verdict,
    autopilot_request,
    expire,
    judge,
    new_request,
    package_approval,
    with_reason,
)
from core.audit import AuditEntry
from core.debate.models import (
    ApprovalState,
    DecisionPackage,
    Execution,
    ExecutionState,
)
from core.debate.ports import DecisionStore
from core.policy import Autopilot, is_destructive
from core.ports import AuditLog, Clock
from core.redact import Redactor
from core.runs import (
    TERMINAL,
    IllegalTransition,
    Run,
    RunEvent,
    RunState,
    RunStore,
    StaleRun,
)
from core.tracecontext import parse_traceparent

log = structlog.get_logger(__name__)

#: posts (or edits) a package's decision card; the request gives its buttons their id
PostCard = Callable[[DecisionPackage, ApprovalRequest | None], Awaitable[None]]

GONE = "This request is no longer valid; nothing changed."
BUSY = "Several people pressed at once; please press again."
#: writes retried when another press won the version (each retry judges afresh)
WRITE_TRIES = 5
MAX_REASON = 500
SWEEP_BATCH = 100
#: an executing run's lease outlasts its action's timeout by this much
EXECUTION_MARGIN_S = 60.0
#: what the card says of an action whose process died while it ran
OUTCOME_UNKNOWN = "Howl stopped while it ran; its outcome is unknown, check by hand"


@dataclass(frozen=True)
class PressAnswer:
    """The one-line answer to a press, and what the caller does next."""

    notice: str
    request: ApprovalRequest | None = None
    #: the action may start now (call `execute` with the run id)
    execute: bool = False
    #: a rejection: ask the rejecter for an optional reason
    ask_reason: bool = False


#: after an action ran: the package, its result, who approved, when
Learn = Callable[[DecisionPackage, ActionResult, tuple[str, ...], datetime], Awaitable[None]]


@dataclass(frozen=True)
class FlowSettings:
    approvers: frozenset[int]
    ttl: timedelta
    autopilot: Autopilot = "off"
    shadow: bool = False


class ApprovalFlow:
    """Approval requests, presses, expiry and execution over the stores (see module docstring)."""

    def __init__(
        self,
        *,
        approvals: ApprovalStore,
        runs: RunStore,
        decisions: DecisionStore,
        registry: ActionRegistry,
        executor: Executor,
        audit: AuditLog,
        clock: Clock,
        settings: FlowSettings,
        redactor: Redactor,
        post: PostCard,
        owner: str = "approval-flow",
        learn: Learn | None = None,
    ) -> None:
        self._owner = owner
        #: told every action that ran (runbooks from successes, anti-patterns from failures)
        self._learn = learn
        self._approvals = approvals
        self._runs = runs
        self._decisions = decisions
        self._registry = registry
        self._executor = executor
        self._audit_log = audit
        self._clock = clock
        self._settings = settings
        self._redactor = redactor
        self._post = post

    # --- the package is out ---------------------------------------------------------

    async def announce(self, package: DecisionPackage) -> None:
        """Open the package's request (once per run) and post its card; in shadow, audit only."""
        run = await self._runs.get(package.run_id)
        # a run that is over (timed out by the reaper) has nothing left to approve
        live = run is not None and run.state not in TERMINAL
        running = (
            package.execution is not None and package.execution.state is ExecutionState.RUNNING
        )
        if running and not live and package.execution is not None:
            package = await self._outcome_unknown(package, package.execution)
        wanted = live and self._wants_request(package)
        request: ApprovalRequest | None
        if wanted and not self._settings.shadow:
            # no read first: the store opens a run's request once and answers any later
            # open with the first one (a re-claimed run's card keeps its request)
            package, request = await self._open(package, run)
        else:
            request = await self._approvals.for_run(package.run_id)
            if request is None and wanted:
                await self._audit_shadow(package, run)
        await self._post(package, request)

    @staticmethod
    def _wants_request(package: DecisionPackage) -> bool:
        open_states = (ApprovalState.WAITING, ApprovalState.NOT_NEEDED)
        return (
            package.recommended_action is not None
            and package.approval.state in open_states
            and package.execution is None
        )

    def _runs_unasked(self, package: DecisionPackage) -> bool:
        """Policy said so, the team allows it, and the registry does not call it destructive."""
        action = package.recommended_action
        if action is None or package.approval.state is not ApprovalState.NOT_NEEDED:
            return False
        spec = self._registry.get(action.tool)
        return (
            self._settings.autopilot == "low"
            and spec is not None
            and not is_destructive(spec.name, flagged=spec.destructive)
        )

    async def _open(
        self, package: DecisionPackage, run: Run | None
    ) -> tuple[DecisionPackage, ApprovalRequest]:
        now = self._clock.now()
        unasked = self._runs_unasked(package)
        fresh = (
            autopilot_request(package, now=now)
            if unasked
            else new_request(package, now=now, ttl=self._settings.ttl)
        )
        if unasked:
            entry = self._audit_entry(
                "approval.approved", fresh, run, actor=AUTOPILOT, name=AUTOPILOT, autopilot=True
            )
        else:
            entry = self._audit_entry(
                "approval.requested",
                fresh,
                run,
                actor="system",
                name="Howl",
                required=fresh.required,
                expires_at=fresh.expires_at.isoformat(),
            )
        # the request, its audit line and the package's approval commit together
        request, updated = await self._approvals.open(
            fresh, opened=Opened(audit=entry, approval=package_approval(fresh))
        )
        return updated or package, request

    async def _audit_shadow(self, package: DecisionPackage, run: Run | None) -> None:
        action = package.recommended_action
        assert action is not None
        unasked = self._runs_unasked(package)
        await self._append(
            "action.would_execute" if unasked else "approval.requested",
            package.run_id,
            run,
            actor=AUTOPILOT if unasked else "system",
            name=AUTOPILOT if unasked else "Howl",
            incident_id=package.incident_id,
            action=action.tool,
            arguments=dict(action.arguments),
            shadow=True,
        )

    async def _outcome_unknown(
        self, package: DecisionPackage, execution: Execution
    ) -> DecisionPackage:
        """A run timed out while its action ran (its process died): the card must not say
        "running" for ever."""
        ended = execution.model_copy(
            update={
                "state": ExecutionState.FAILED,
                "finished_at": self._clock.now(),
                "reason": OUTCOME_UNKNOWN,
            }
        )
        return await self._decisions.set_execution(package.run_id, ended) or package

    # --- the run reached waiting_approval ------------------------------------------------

    async def settled(self, run: Run) -> None:
        """After the run's own transition: start an approved action, close a refused one."""
        if run.state is not RunState.WAITING_APPROVAL:
            return
        if self._settings.shadow:
            await self._complete(run.id, "shadow mode: nothing executed")
            return
        request = await self._approvals.for_run(run.id)
        if request is None:
            return
        if request.state is ApprovalState.APPROVED:
            await self.execute(run.id)
        elif request.state in (ApprovalState.REJECTED, ApprovalState.EXPIRED):
            await self._complete(run.id, f"approval {request.state.value}")

    # --- presses -------------------------------------------------------------------------

    async def press(
        self, request_id: UUID, verdict: Verdict, *, user_id: int, name: str
    ) -> PressAnswer:
        """Count a press, or say why it does not count (and then change nothing)."""
        for _ in range(WRITE_TRIES):
            request = await self._approvals.get(request_id)
            if request is None:
                return PressAnswer(GONE)
            judged = judge(
                request,
                Press(user_id=user_id, name=name, verdict=verdict, at=self._clock.now()),
                approvers=self._settings.approvers,
            )
            if not isinstance(judged, Counted):
                return PressAnswer(judged.notice)
            if await self._approvals.write(judged.after):
                return await self._counted(judged.after, user_id=user_id, name=name)
        return PressAnswer(BUSY)

    async def _counted(self, after: ApprovalRequest, *, user_id: int, name: str) -> PressAnswer:
        package = await self._decisions.update_approval(after.run_id, package_approval(after))
        run = await self._runs.get(after.run_id)
        actor = f"tg:{user_id}"
        tool = after.action.tool
        if after.state is ApprovalState.REJECTED:
            await self._audit("approval.rejected", after, run, actor=actor, name=name)
            await self._repost(package, after)
            await self._complete(after.run_id, f"rejected by {name}")
            return PressAnswer(
                f"Rejected by {name}; {tool} will not run.", request=after, ask_reason=True
            )
        approvals = len(after.approvers)
        await self._audit(
            "approval.approved",
            after,
            run,
            actor=actor,
            name=name,
            approvals=approvals,
            required=after.required,
        )
        await self._repost(package, after)
        if after.state is ApprovalState.WAITING:
            return PressAnswer(
                f"Approved by {name}; {after.required - approvals} more approver needed.",
                request=after,
            )
        return PressAnswer(f"Approved by {name}; {tool} runs now.", request=after, execute=True)

    async def record_reason(self, request_id: UUID, *, user_id: int, name: str, text: str) -> bool:
        """Keep the rejecter's reason (once; only the rejecter's); False when it is not theirs."""
        request = await self._approvals.get(request_id)
        reason = " ".join(self._redactor.redact(text).split())[:MAX_REASON]
        after = with_reason(request, user_id=user_id, reason=reason) if request else None
        if after is None or not reason or not await self._approvals.write(after):
            return False
        package = await self._decisions.update_approval(after.run_id, package_approval(after))
        run = await self._runs.get(after.run_id)
        await self._audit(
            "approval.reason", after, run, actor=f"tg:{user_id}", name=name, reason=reason
        )
        await self._repost(package, after)
        return True

    # --- expiry ----------------------------------------------------------------------------

    async def sweep(self) -> int:
        """Expire stale requests (card edited, run completed); start approved actions a race
        or a crash left unstarted. How many expired."""
        now = self._clock.now()
        expired = 0
        for request in await self._approvals.due(now=now, limit=SWEEP_BATCH):
            after = expire(request, now=now)
            if after is None or not await self._approvals.write(after):
                continue  # a press decided it in between
            expired += 1
            package = await self._decisions.update_approval(after.run_id, package_approval(after))
            run = await self._runs.get(after.run_id)
            await self._audit("approval.expired", after, run, actor="approval-expiry", name="Howl")
            await self._repost(package, after)
            await self._complete(after.run_id, "approval expired")
        for request in await self._approvals.approved_not_started(limit=SWEEP_BATCH):
            await self.execute(request.run_id)
        return expired

    # --- execution -------------------------------------------------------------------------

    async def execute(self, run_id: UUID) -> None:
        """Run the approved action once: only the caller that moves the run to executing does."""
        run = await self._runs.get(run_id)
        request = await self._approvals.for_run(run_id)
        if run is None or request is None or self._settings.shadow:
            return
        if (
            run.state is not RunState.WAITING_APPROVAL
            or request.state is not ApprovalState.APPROVED
        ):
            return
        by = ", ".join(d.name for d in request.approvers)
        spec = self._registry.get(request.action.tool)
        # held for the action's timeout and a margin: if this process dies mid-action the
        # reaper times the run out (never retried, so the action cannot run twice)
        hold = timedelta(seconds=(spec.timeout_s if spec else 0) + EXECUTION_MARGIN_S)
        try:
            run = await self._runs.advance(
                run,
                RunEvent.EXECUTE,
                reason=f"approved by {by}",
                lease=(self._owner, hold),
            )
        except (StaleRun, IllegalTransition):
            return  # another caller started it
        started = self._clock.now()
        package = await self._decisions.set_execution(
            run_id, Execution(state=ExecutionState.RUNNING, started_at=started)
        )
        await self._repost(package, request)
        action = request.action
        await self._audit(
            "action.started", request, run, actor="system", name="Howl", approved_by=by
        )
        try:
            result = await self._executor.execute(action.tool, action.arguments)
        except Exception as exc:  # the executor returns values; this is a bug: say so, fail the run
            log.exception("action_crashed", run_id=str(run_id))
            result = ActionResult(action.tool, ActionStatus.FAILED, f"{type(exc).__name__}")
        execution = _execution(result, started=started, finished=self._clock.now())
        package = await self._decisions.set_execution(run_id, execution)
        await self._repost(package, request)
        await self._audit(
            "action.succeeded" if result.status is ActionStatus.SUCCEEDED else "action.failed",
            request,
            run,
            actor="system",
            name="Howl",
            status=result.status.value,
            exit_code=result.exit_code,
            duration_s=round(result.duration_s, 3),
            reason=result.reason,
            argv=list(result.argv),
        )
        if self._learn is not None and package is not None:
            try:
                approved_at = request.decided_at or started
                await self._learn(
                    package, result, tuple(d.name for d in request.approvers), approved_at
                )
            except Exception:  # learning never stands in the way of the run's end
                log.exception("learning_failed", run_id=str(run_id))
        event = RunEvent.COMPLETE if result.status is ActionStatus.SUCCEEDED else RunEvent.FAIL
        why = f"{action.tool} {result.status.value}" + (
            f": {result.reason}" if result.reason else ""
        )
        try:
            await self._runs.advance(run, event, reason=why[:500])
        except (StaleRun, IllegalTransition):
            log.warning("execution_end_not_recorded", run_id=str(run_id))

    # --- helpers ---------------------------------------------------------------------------

    async def _repost(self, package: DecisionPackage | None, request: ApprovalRequest) -> None:
        if package is None:
            return
        try:
            await self._post(package, request)
        except Exception:  # the card is a view of what is stored; the decision stands
            log.exception("decision_card_update_failed", run_id=str(package.run_id))

    async def _complete(self, run_id: UUID, reason: str) -> None:
        run = await self._runs.get(run_id)
        if run is None or run.state is not RunState.WAITING_APPROVAL:
            return  # not there yet: `settled` closes it when the worker lets go
        with contextlib.suppress(StaleRun, IllegalTransition):
            await self._runs.advance(run, RunEvent.COMPLETE, reason=reason)

    async def _audit(
        self,
        what: str,
        request: ApprovalRequest,
        run: Run | None,
        /,
        *,
        actor: str,
        name: str,
        **detail: Any,
    ) -> None:
        await self._audit_log.append(
            self._audit_entry(what, request, run, actor=actor, name=name, **detail)
        )

    def _audit_entry(
        self,
        what: str,
        request: ApprovalRequest,
        run: Run | None,
        /,
        *,
        actor: str,
        name: str,
        **detail: Any,
    ) -> AuditEntry:
        return self._entry(
            what,
            request.run_id,
            run,
            actor=actor,
            name=name,
            approval_id=str(request.id),
            incident_id=request.incident_id,
            action=request.action.tool,
            **detail,
        )

    async def _append(
        self, what: str, run_id: UUID, run: Run | None, /, *, actor: str, name: str, **detail: Any
    ) -> None:
        await self._audit_log.append(
            self._entry(what, run_id, run, actor=actor, name=name, **detail)
        )

    def _entry(
        self, what: str, run_id: UUID, run: Run | None, /, *, actor: str, name: str, **detail: Any
    ) -> AuditEntry:
        user_id = int(actor.removeprefix("tg:")) if actor.startswith("tg:") else None
        trace_id = parse_traceparent(run.traceparent).trace_id if run is not None else None
        return AuditEntry(
            at=self._clock.now(),
            actor=actor,
            action=what,
            subject=f"run:{run_id}",
            detail=self._redactor.redact_value(
                {
                    "by": name,
                    "user_id": user_id,
                    "run_id": str(run_id),
                    "trace_id": trace_id,
                    **detail,
                }
            ),
        )


def _execution(result: ActionResult, *, started: datetime, finished: datetime) -> Execution:
    return Execution(
        state=ExecutionState(result.status.value),
        started_at=started,
        finished_at=finished,
        exit_code=result.exit_code,
        duration_s=round(result.duration_s, 3),
        reason=result.reason,
        stdout=result.stdout,
        stderr=result.stderr,
    )
