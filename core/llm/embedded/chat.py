"""Answering a person in the chat, and turning "restart the api in prod" into a registry call.

>>> from core.llm.embedded.loader import builtin_knowledge
>>> from core.llm.types import ToolParam
>>> spec = ToolSpec(name="bounce_app", description="Rolling restart", params=(
...     ToolParam(name="name", pattern="[a-z0-9-]+"),
...     ToolParam(name="namespace", pattern="[a-z-]+")))
>>> requested_call("please restart the api in prod", {}, [spec], builtin_knowledge())
ToolCall(tool='bounce_app', arguments={'name': 'api', 'namespace': 'prod'})
>>> requested_call("what is going on?", {}, [spec], builtin_knowledge()) is None
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from core.llm.embedded.answers import Case, checks, clip, describe
from core.llm.embedded.knowledge import Knowledge
from core.llm.embedded.registry import serving
from core.llm.errors import ToolCallError
from core.llm.schemas import ChatAnswer
from core.llm.toolcalls import validate_tool_call
from core.llm.types import ToolCall, ToolSpec

#: what a person says → the intent (core/knowledge/vocabulary.toml) a registry action serves
_VERBS = (
    (r"\broll ?back\b|\bundo\b|\brevert\b", "rollback"),
    (r"\brestart\b|\bbounce\b", "restart"),
    (r"\bscale\b", "scale_out"),
    (r"\bdelete\b|\bkill\b", "recreate_pod"),
    (r"\bcordon\b", "cordon"),
    (r"\brenew\b", "renew_certificate"),
    (r"\bre-?run\b|\bretry\b", "rerun_job"),
)
_OBJECT = re.compile(
    r"(?:roll ?back|undo|revert|restart|bounce|scale|delete|kill|cordon|renew|re-?run|retry)"
    r"\s+(?:the\s+)?(?:deployment\s+|deploy/|pod\s+|node\s+|job\s+|certificate\s+)?"
    r"(?P<name>[a-z0-9][a-z0-9.-]*)"
)
_NAMESPACE = re.compile(r"\b(?:in|namespace|ns)\s+(?:the\s+)?(?:namespace\s+)?(?P<ns>[a-z0-9-]+)")
_REPLICAS = re.compile(r"\bto\s+(?P<n>\d{1,3})\b")
#: parameter names that take the object of the sentence
_NAME_PARAMS = ("name", "deployment", "node", "cronjob", "certificate", "pod")


def _wanted_tools(question: str, tools: Sequence[ToolSpec], knowledge: Knowledge) -> list[ToolSpec]:
    for pattern, intent in _VERBS:
        if re.search(pattern, question):
            return serving(intent, tools, knowledge)
    return []


def requested_call(
    question: str, labels: Mapping[str, str], tools: Sequence[ToolSpec], knowledge: Knowledge
) -> ToolCall | None:
    """The registry call a person asked for, when every argument is clear and valid."""
    text = question.lower()
    said: dict[str, str] = {}
    if match := _OBJECT.search(text):
        said["name"] = match["name"]
    if match := _NAMESPACE.search(text):
        said["namespace"] = match["ns"]
    if match := _REPLICAS.search(text):
        said["replicas"] = match["n"]
    for spec in _wanted_tools(text, tools, knowledge):
        arguments: dict[str, str] = {}
        for param in spec.params:
            key = "name" if param.name in _NAME_PARAMS else param.name
            value = said.get(key) or labels.get(param.name)
            if value:
                arguments[param.name] = value
        try:
            return validate_tool_call(ToolCall(tool=spec.name, arguments=arguments), tools)
        except ToolCallError:
            continue
    return None


def chat(case: Case) -> ChatAnswer:
    family, incident, tools, knowledge = case.family, case.incident, case.tools, case.knowledge
    question = str(incident.extra.get("question") or "")
    call = requested_call(question, incident.labels, tools, knowledge) if question else None
    lines: list[str] = []
    if family is not None:
        cause = family.causes[0]
        lines.append(f"{describe(incident)} looks like {family.title.lower()}.")
        lines.append(f"Most likely: {cause.text} (about {cause.confidence:.0%}).")
        lines.append("Check first: " + "; ".join(checks(family, incident)[:2]))
    elif incident.alert_name:
        lines.append(f"I do not recognise {incident.alert_name}; a person should look at it.")
    else:
        lines.append("I can explain firing alerts, suggest checks, and propose registered actions.")
    if call is not None:
        args = ", ".join(f"{k}={v}" for k, v in sorted(call.arguments.items()))
        lines.append(f"I can propose {call.tool}({args}); an approver must confirm it.")
    elif question and _wanted_tools(question.lower(), tools, knowledge):
        lines.append("I could not tell every argument of that action; name it and its namespace.")
    elif question and any(re.search(p, question.lower()) for p, _ in _VERBS):
        lines.append("No registered action does that.")
    return ChatAnswer(answer=clip(" ".join(lines), 3500), proposed_action=call)
