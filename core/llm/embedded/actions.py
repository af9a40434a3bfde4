"""Turning a family's candidate actions into a registry call, or deciding not to act.

A call is proposed only when its tool is registered, every required argument
comes from the incident itself, each matches the registry's pattern, and the
incident carries the evidence the template asks for. Anything less leaves the
humans with read-only checks, which is always safe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.llm.embedded.incident import Incident, resolve
from core.llm.embedded.knowledge import ActionTemplate, Family
from core.llm.errors import ToolCallError
from core.llm.schemas import RiskLevel
from core.llm.toolcalls import validate_tool_call
from core.llm.types import ToolCall, ToolSpec

#: verbs that make a tool destructive whatever its registry entry says (CONTRACT.md)
DESTRUCTIVE_VERBS = ("restart", "delete", "scale", "rollback", "apply", "drain", "kill", "expand")

_RISK_ORDER = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL)


def riskier(*levels: RiskLevel) -> RiskLevel:
    """The highest of the levels.

    >>> riskier(RiskLevel.LOW, RiskLevel.HIGH, RiskLevel.MEDIUM).value
    'high'
    """
    return max(levels, key=_RISK_ORDER.index)


def is_destructive(tool: str, template: ActionTemplate | None = None) -> bool:
    """Whether running the tool changes or removes something that cannot simply be re-read.

    >>> is_destructive("restart_deployment"), is_destructive("renew_certificate")
    (True, False)
    """
    if template is not None and template.destructive:
        return True
    lowered = tool.lower()
    return any(verb in lowered for verb in DESTRUCTIVE_VERBS)


@dataclass(frozen=True)
class PlannedAction:
    call: ToolCall
    template: ActionTemplate

    @property
    def destructive(self) -> bool:
        return is_destructive(self.call.tool, self.template)


def _arguments(template: ActionTemplate, spec: ToolSpec, incident: Incident) -> dict[str, str]:
    arguments: dict[str, str] = {}
    for param in spec.params:
        # a template names where each argument comes from; a label of the same name is
        # the registry author's hint when it does not
        sources = template.args.get(param.name, (f"labels.{param.name}",))
        value = next((v for s in sources if (v := resolve(incident, s)) is not None), None)
        if value is not None:
            arguments[param.name] = value
    return arguments


def _evidence_present(template: ActionTemplate, incident: Incident) -> bool:
    if not template.requires:
        return True
    return any(re.search(pattern, incident.text, re.IGNORECASE) for pattern in template.requires)


def _forbidden(template: ActionTemplate, arguments: dict[str, str]) -> bool:
    values = " ".join(arguments.values())
    return any(re.search(pattern, values, re.IGNORECASE) for pattern in template.never_for)


def plan_action(
    family: Family | None, incident: Incident, tools: Sequence[ToolSpec]
) -> PlannedAction | None:
    """The first candidate of the family that the registry and the evidence allow."""
    if family is None:
        return None
    registry = {tool.name: tool for tool in tools}
    for template in family.actions:
        spec = registry.get(template.tool)
        if spec is None or not _evidence_present(template, incident):
            continue
        arguments = _arguments(template, spec, incident)
        if _forbidden(template, arguments):
            continue
        try:
            call = validate_tool_call(ToolCall(tool=spec.name, arguments=arguments), tools)
        except ToolCallError:
            continue
        return PlannedAction(call=call, template=template)
    return None


def withheld_action(
    family: Family | None, incident: Incident, tools: Sequence[ToolSpec]
) -> ToolCall | None:
    """A call the registry would allow but the knowledge forbids here (a migration job rerun).

    Such an incident is riskier than its family's default: the usual fix is dangerous.
    """
    if family is None:
        return None
    registry = {tool.name: tool for tool in tools}
    for template in family.actions:
        spec = registry.get(template.tool)
        if spec is None or not template.never_for:
            continue
        arguments = _arguments(template, spec, incident)
        if _forbidden(template, arguments):
            return ToolCall(tool=spec.name, arguments=arguments)
    return None


def check_call(call: ToolCall | None, tools: Sequence[ToolSpec]) -> str | None:
    """Why a proposed call may not run (unregistered, bad arguments), or None when it may."""
    if call is None:
        return None
    try:
        validate_tool_call(call, tools)
    except ToolCallError as exc:
        return str(exc)
    return None


def template_for(family: Family | None, tool: str) -> ActionTemplate | None:
    """The family's knowledge about a tool someone else proposed."""
    if family is None:
        return None
    return next((t for t in family.actions if t.tool == tool), None)
