"""The debate runtime of `howl run`: workers claiming debate runs, the scheduler, decision cards.

Built once by the composition root over the services. At start it returns the
runs of a process that died (`kill -9`) to the queue, makes the runs a crash
left unmade, then starts `WORKERS` workers. A run the reaper times out (its
workers kept dying) still answers its incident: a package saying so, which
asks for a person, posted like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import structlog

from bot.keyboards import CallbackCodec
from bot.render.decision import decision_card
from bot.render.incident import card_key
from core.alerting.service import IncidentService
from core.approvals import ApprovalRequest
from core.debate.agents import Agents
from core.debate.models import DecisionPackage
from core.debate.orchestrator import Debate
from core.debate.ports import DecisionStore, TurnLog
from core.debate.scheduler import DebateScheduler
from core.debate.work import Announce, DebateWork, Evidence, abandoned_package
from core.llm.completion import Completer
from core.llm.types import ToolSpec
from core.policy import Autopilot
from core.ports import CardSink, Clock
from core.run_worker import RunWorker, poke_for, reap_expired, recover_orphans, worker_owner
from core.runs import Reaping, Run, RunEvent, RunStore

log = structlog.get_logger(__name__)

#: debates at once in this process; each waits on the model most of the time, so more
#: workers than providers' concurrency keeps every provider busy
WORKERS = 16


class DecisionCards:
    """Posts a package as its card, a reply to its incident's card; nowhere in shadow mode."""

    def __init__(
        self,
        incidents: IncidentService,
        cards: CardSink,
        buttons: CallbackCodec,
        *,
        chat_id: int | None,
        shadow: bool,
    ) -> None:
        self._incidents = incidents
        self._cards = cards
        self._buttons = buttons
        self._chat_id = chat_id
        self._shadow = shadow

    async def __call__(
        self, package: DecisionPackage, request: ApprovalRequest | None = None
    ) -> None:
        """Put the package's card (an edit when it was posted before: same key)."""
        if self._shadow or self._chat_id is None:
            log.info(
                "decision_not_posted",
                why="shadow mode" if self._shadow else "no alert chat",
                incident_id=package.incident_id,
            )
            return
        incident = await self._incidents.find_incident(package.incident_id)
        if incident is None:
            log.warning("decision_incident_gone", incident_id=package.incident_id)
            return
        card = decision_card(
            package,
            incident,
            chat_id=self._chat_id,
            buttons=self._buttons,
            approval_id=request.id if request is not None else None,
        )
        await self._cards.put_card(
            card.model_copy(update={"reply_to_card": card_key(package.incident_id)})
        )


@dataclass
class DebateRuntime:
    runs: RunStore
    decisions: DecisionStore
    scheduler: DebateScheduler
    announce: Announce
    clock: Clock
    workers: list[RunWorker]
    #: the card publisher's poke: the incident card shows the run's last stage
    on_card_change: Callable[[Iterable[int]], None] = lambda _ids: None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Recover what a dead process left, then start the workers."""
        await recover_orphans(self.runs, self.clock)
        await self.scheduler.catch_up()
        self._tasks = [
            asyncio.create_task(worker.run_forever(), name=f"howl-debate-{worker.owner}")
            for worker in self.workers
        ]

    def wake(self, runs: int | None = None) -> None:
        poke_for(self.workers, runs)

    async def stop(self) -> None:
        await self.scheduler.drain()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def reap(self) -> list[Reaping]:
        """The reaper's round: expired leases back to the queue, hopeless runs answered."""
        applied = await reap_expired(self.runs, self.clock)
        for decision in applied:
            if decision.event is RunEvent.TIME_OUT:
                await self._answer_timed_out(decision)
        expired = sum(d.event is RunEvent.EXPIRE for d in applied)
        if expired:
            self.wake(expired)
        return applied

    async def _answer_timed_out(self, decision: Reaping) -> None:
        run = decision.run
        # reaped, the run has no holder; the incident card stops saying "diagnosing…"
        if await self.runs.set_stage(run.model_copy(update={"lease_owner": None}), "timeout"):
            self.on_card_change([run.incident_id])
        package = await self.decisions.for_run(run.id)
        if package is None:
            package = await self.decisions.save(
                abandoned_package(run, decision.reason, self.clock.now())
            )
        try:
            await self.announce(package)
        except Exception:
            log.exception("decision_post_failed", incident_id=run.incident_id)


def build_runtime(
    *,
    runs: RunStore,
    turns: TurnLog,
    decisions: DecisionStore,
    evidence: Evidence,
    completer: Completer,
    tools: Sequence[ToolSpec],
    clock: Clock,
    ceiling_s: float,
    announce: Announce,
    on_card_change: Callable[[Iterable[int]], None],
    on_settled: Callable[[Run], Awaitable[None]] | None = None,
    autopilot: Autopilot = "off",
    workers: int = WORKERS,
) -> DebateRuntime:
    """The debate stack: agents over the router, the orchestrator, the work, the workers.

    `announce` posts a package (the approval flow's, which opens its request first);
    `on_settled` hears each run as its worker left it (the flow acts on waiting_approval).
    """
    debate = Debate(
        Agents(completer, tools, clock),
        turns,
        tools,
        clock,
        ceiling_s=ceiling_s,
        autopilot=autopilot,
    )
    work = DebateWork(evidence, debate, decisions, runs, announce, on_card_change=on_card_change)
    pool = [
        RunWorker(runs, work, owner=worker_owner(i), on_settled=on_settled) for i in range(workers)
    ]

    def wake(runs: int | None = None) -> None:
        poke_for(pool, runs)

    return DebateRuntime(
        runs=runs,
        decisions=decisions,
        scheduler=DebateScheduler(runs, clock, wake=wake),
        announce=announce,
        clock=clock,
        workers=pool,
        on_card_change=on_card_change,
    )
