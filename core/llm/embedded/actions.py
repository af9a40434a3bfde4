"""Turning a family's kinds of action into a registry call, or deciding not to change anything.

A change is proposed only when the registry has an action that does it (read
by meaning, see `registry`), every required argument comes from the incident
and matches its pattern, and the incident carries the evidence the family
asks for and none that makes the change the wrong move. Anything less leaves
the humans with a read-only diagnostic action when the registry has one, and
read-only checks always.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.llm.embedded.evidence import evidence_in
from core.llm.embedded.guard import touches
from core.llm.embedded.incident import Incident
from core.llm.embedded.knowledge import ActionTemplate, Family, Knowledge
from core.llm.embedded.registry import calls_for, intent_of, named_destructive
from core.llm.errors import ToolCallError
from core.llm.schemas import RiskLevel, riskier
from core.llm.toolcalls import validate_tool_call
from core.llm.types import ToolCall, ToolSpec

DIAGNOSTICS = "diagnostics"

#: what a read-only diagnostic action is for, when the evidence does not justify a change
READ_ONLY = ActionTemplate(
    intent=DIAGNOSTICS,
    risk=RiskLevel.LOW,
    rationale="the evidence does not yet justify a change; a read-only look at the object, "
    "its events and logs tells the causes apart",
    effect="nothing changes; the object's state, recent events and logs are collected",
)


@dataclass(frozen=True)
class PlannedAction:
    call: ToolCall
    template: ActionTemplate
    spec: ToolSpec
    #: the template's intent claims a destructive effect
    intent_destructive: bool = False
    #: the object may migrate, delete or touch data: at least medium, a person decides
    guarded: bool = False

    @property
    def destructive(self) -> bool:
        return self.intent_destructive or named_destructive(self.spec)

    @property
    def read_only(self) -> bool:
        return self.template.intent == DIAGNOSTICS

    @property
    def risk(self) -> RiskLevel:
        floor = RiskLevel.MEDIUM if self.guarded else RiskLevel.LOW
        return riskier(self.template.risk, floor)


@dataclass(frozen=True)
class Plan:
    """What the engine would do: a change, a read-only look, or nothing — and what it held back."""

    change: PlannedAction | None = None
    look: PlannedAction | None = None
    #: the usual fix, held back because the object may migrate or touch data or money
    withheld: ActionTemplate | None = None
    #: the call that fix would have been, when the registry has one
    withheld_call: ToolCall | None = None
    #: the object may migrate, delete or touch data or money (see `guard`)
    guarded: bool = False

    @property
    def action(self) -> PlannedAction | None:
        return self.change or self.look


def _evidence_allows(template: ActionTemplate, seen: frozenset[str], text: str) -> bool:
    if set(template.blocked_by) & seen:
        return False
    if not (template.requires or template.requires_text):
        return True
    if set(template.requires) & seen:
        return True
    return any(re.search(pattern, text, re.IGNORECASE) for pattern in template.requires_text)


def _planned(
    template: ActionTemplate, spec: ToolSpec, call: ToolCall, incident: Incident, k: Knowledge
) -> PlannedAction:
    intent = k.intents[template.intent]
    guarded = not intent.read_only and touches(incident, k) == "data_change"
    return PlannedAction(
        call=call,
        template=template,
        spec=spec,
        intent_destructive=intent.destructive,
        guarded=guarded,
    )


def _change(family: Family, incident: Incident, tools: Sequence[ToolSpec], k: Knowledge) -> Plan:
    seen = evidence_in(incident, k)
    touched = touches(incident, k)
    for template in family.actions:
        if not _evidence_allows(template, seen, incident.text):
            continue
        calls = calls_for(template.intent, incident, tools, k, overrides=template.args)
        if k.intents[template.intent].repeats_work and touched:
            call = next((c for _, c in calls), None)
            return Plan(withheld=template, withheld_call=call, guarded=True)
        for spec, call in calls:
            return Plan(change=_planned(template, spec, call, incident, k))
    return Plan(guarded=touched == "data_change")


def _look(
    family: Family | None, incident: Incident, tools: Sequence[ToolSpec], k: Knowledge
) -> PlannedAction | None:
    if family is not None and not family.diagnose:
        return None
    first = (family.subject,) if family and family.subject else ()
    subjects = tuple(dict.fromkeys((*first, *k.intents[DIAGNOSTICS].subjects)))
    for spec, call in calls_for(DIAGNOSTICS, incident, tools, k, subjects=subjects):
        return _planned(READ_ONLY, spec, call, incident, k)
    return None


def plan(
    family: Family | None, incident: Incident, tools: Sequence[ToolSpec], knowledge: Knowledge
) -> Plan:
    """The change the evidence justifies, else a read-only look; an unknown alert gets no change."""
    found = _change(family, incident, tools, knowledge) if family is not None else Plan()
    if found.change is not None:
        return found
    look = _look(family, incident, tools, knowledge)
    return Plan(
        look=look,
        withheld=found.withheld,
        withheld_call=found.withheld_call,
        guarded=found.guarded,
    )


def check_call(call: ToolCall | None, tools: Sequence[ToolSpec]) -> str | None:
    """Why a proposed call may not run (unregistered, bad arguments), or None when it may."""
    if call is None:
        return None
    try:
        validate_tool_call(call, tools)
    except ToolCallError as exc:
        return str(exc)
    return None


def template_for(
    family: Family | None, call: ToolCall, tools: Sequence[ToolSpec], knowledge: Knowledge
) -> ActionTemplate | None:
    """The family's knowledge about an action someone else proposed, by what the action does."""
    spec = next((t for t in tools if t.name == call.tool), None)
    intent = intent_of(spec, knowledge) if spec is not None else None
    if intent == DIAGNOSTICS:
        return READ_ONLY
    if family is None or intent is None:
        return None
    return next((t for t in family.actions if t.intent == intent), None)


def is_destructive(call: ToolCall, tools: Sequence[ToolSpec], knowledge: Knowledge) -> bool:
    """Whether running the call changes or removes something that cannot simply be re-read."""
    spec = next((t for t in tools if t.name == call.tool), None)
    if spec is None:
        return True
    intent = intent_of(spec, knowledge)
    return named_destructive(spec) or (intent is not None and knowledge.intents[intent].destructive)
