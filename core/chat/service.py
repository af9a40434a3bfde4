"""A message to the bot, answered: a question from the open incidents, a request as a card.

What cannot happen:
- an action proposed from chat running without an approver's press: its
  package has `requires_human_approval` True and its approval WAITING always,
  and the call is one the registry validated (tool and every argument against
  its pattern) — by the router, and again here;
- a question acting: only `classify` saying "request" reaches the tool call;
- two cards for one message: the run is keyed (incident, "chat:<update_id>")
  and `DecisionStore.save` keeps the first package of a run;
- a secret typed in the chat reaching a model, a package, an incident or the
  reply: the text is redacted (core/redact.py) before anything reads it.

How a request's run ends `waiting_approval`, honestly: the run is made like
every other (pending), its package is stored at once, and the debate workers
are woken. A worker claims the run under a lease, starts it, and its work
(`core.debate.work.DebateWork`) finds the stored package, posts it through the
one announce path (`bot.debates.DecisionCards`, a reply to the incident's
card) and ends the run AWAIT_APPROVAL. So the run moves pending → leased →
running → waiting_approval through `transition()` like any debate's, a crash
anywhere is recovered like any run's (the reaper, `recover_orphans`), and a
re-claimed run only posts the stored package again. Should a worker claim the
run in the instant between its creation and the package's save, it starts a
debate whose own save then returns the chat's package (the first saved), and
that is what it posts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Protocol

import structlog
from pydantic import BaseModel, ConfigDict

from core.alerting.models import Actor, Incident, IncidentView
from core.chat.intent import classify
from core.chat.prompts import IncidentBrief, brief, question_request, request_request
from core.chat.requests import chat_package, labels_of, matching_incident, named_incident
from core.debate.ports import DecisionStore
from core.debate.scheduler import ASKED_PRIORITY
from core.llm.completion import Completer
from core.llm.errors import ToolCallError
from core.llm.schemas import ChatAnswer, ToolChoice
from core.llm.toolcalls import validate_tool_call
from core.llm.types import ToolCall, ToolSpec
from core.policy import Autopilot
from core.ports import Clock
from core.runs import RunStore

log = structlog.get_logger(__name__)

#: open incidents a question is answered from (and a request may attach to)
OPEN_LIMIT = 20


def chat_trigger(update_id: int) -> str:
    """A chat request's run trigger: one per Telegram update, so a re-delivery is no rerun."""
    return f"chat:{update_id}"


class ChatIncidents(Protocol):
    """What the chat reads and opens (the incident service)."""

    async def recent(self, *, open_only: bool = True, limit: int = 20) -> list[Incident]: ...

    async def find(self, incident_id: int) -> IncidentView | None: ...

    async def open_manual(self, text: str, *, actor: Actor) -> Incident: ...


class Answered(BaseModel):
    """A question, answered from the open incidents."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["answer"] = "answer"
    text: str
    open_incidents: int
    #: the provider that answered ("embedded", "default", …)
    provider: str = ""


class Proposed(BaseModel):
    """A request that became a decision package waiting for an approver."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["proposed"] = "proposed"
    call: ToolCall
    incident_id: int
    incident_title: str
    run_id: str
    #: the incident was opened for this request (none fitted)
    opened: bool = False


class Refused(BaseModel):
    """A request no registered action fits."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["refused"] = "refused"
    text: str
    reason: str
    #: what the registry can do, for the answer
    tools: tuple[ToolSpec, ...] = ()


ChatReply = Answered | Proposed | Refused


class ChatService:
    """Classifies a message to the bot and answers it (see the module docstring)."""

    def __init__(
        self,
        incidents: ChatIncidents,
        completer: Completer,
        runs: RunStore,
        decisions: DecisionStore,
        tools: Sequence[ToolSpec],
        *,
        clock: Clock,
        wake: Callable[[], None],
        autopilot: Autopilot,
        redact: Callable[[str], str] = lambda text: text,
    ) -> None:
        self._incidents = incidents
        self._completer = completer
        self._runs = runs
        self._decisions = decisions
        self._tools = list(tools)
        self._clock = clock
        self._wake = wake
        self._autopilot = autopilot
        self._redact = redact

    async def handle(self, text: str, *, asker: Actor, update_id: int) -> ChatReply:
        """The answer to one message: never raises for anything the person or the model said."""
        text = self._redact(text)
        if classify(text) == "request":
            return await self.request(text, asker=asker, update_id=update_id)
        return await self.answer(text)

    async def answer(self, text: str) -> Answered:
        """A question, answered by the router (Task.CHAT) from the open incidents."""
        briefs = await self._briefs()
        completion = await self._completer.complete(question_request(text, briefs))
        value = completion.value
        answer = value.answer if isinstance(value, ChatAnswer) else ""
        return Answered(
            text=answer or "I could not answer that.",
            open_incidents=len(briefs),
            provider=completion.provider or "",
        )

    async def request(self, text: str, *, asker: Actor, update_id: int) -> Proposed | Refused:
        """A request to act: the router's tool call against the registry, then a package."""
        tools = tuple(self._tools)
        if not tools:
            return Refused(text=text, reason="no actions are registered")
        named = await self._named(text)
        named_brief = (
            brief(named.incident, None).model_copy(update={"labels": labels_of(named)})
            if named is not None
            else None
        )
        completion = await self._completer.complete(request_request(text, tools, named=named_brief))
        choice = completion.value
        call = choice.call if isinstance(choice, ToolChoice) else None
        reason = choice.reason if isinstance(choice, ToolChoice) else ""
        if call is None:
            return Refused(text=text, reason=reason or completion.error or "", tools=tools)
        try:
            # the router checked it; checked again where it turns into a card
            call = validate_tool_call(call, tools)
        except ToolCallError as exc:
            return Refused(text=text, reason=str(exc), tools=tools)
        return await self._propose(call, named, text=text, asker=asker, update_id=update_id,
                                   reason=reason)  # fmt: skip

    async def _propose(
        self,
        call: ToolCall,
        named: IncidentView | None,
        *,
        text: str,
        asker: Actor,
        update_id: int,
        reason: str,
    ) -> Proposed:
        incident, opened = await self._target(call, named, text=text, asker=asker)
        run = await self._runs.create(incident.id, chat_trigger(update_id), priority=ASKED_PRIORITY)
        spec = next(tool for tool in self._tools if tool.name == call.tool)
        package = chat_package(
            run,
            call,
            flagged_destructive=spec.destructive,
            asker=asker,
            text=text,
            reason=reason,
            autopilot=self._autopilot,
            now=self._clock.now(),
        )
        saved = await self._decisions.save(package)
        # a worker claims the run, finds the package, posts it and ends it awaiting approval
        self._wake()
        log.info(
            "chat_request_proposed",
            incident_id=incident.id,
            run_id=str(run.id),
            tool=call.tool,
            opened=opened,
            asked_by=asker.id,
        )
        shown = saved.recommended_action or call
        return Proposed(
            call=shown,
            incident_id=incident.id,
            incident_title=incident.title,
            run_id=str(run.id),
            opened=opened,
        )

    async def _target(
        self, call: ToolCall, named: IncidentView | None, *, text: str, asker: Actor
    ) -> tuple[Incident, bool]:
        """The incident the text names, else the open one the call's arguments name, else new."""
        if named is not None:
            return named.incident, False
        views = [
            view
            for incident in await self._incidents.recent(open_only=True, limit=OPEN_LIMIT)
            if (view := await self._incidents.find(incident.id)) is not None
        ]
        if (found := matching_incident(call, views)) is not None:
            return found.incident, False
        opened = await self._incidents.open_manual(f"{asker.name} asked: {text}", actor=asker)
        return opened, True

    async def _named(self, text: str) -> IncidentView | None:
        incident_id = named_incident(text)
        return await self._incidents.find(incident_id) if incident_id is not None else None

    async def _briefs(self) -> list[IncidentBrief]:
        incidents = await self._incidents.recent(open_only=True, limit=OPEN_LIMIT)
        return [
            brief(incident, await self._decisions.latest_for_incident(incident.id))
            for incident in incidents
        ]
