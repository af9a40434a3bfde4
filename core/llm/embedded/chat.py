"""Answering a person in the chat, and turning "restart the api in prod" into a registry call.

A value is taken as the person typed it, up to a space or sentence punctuation,
and used only if it matches its parameter's pattern: "restart api;rm -rf /" is
refused, never trimmed into something that runs. English and Traditional
Chinese (重啟 prod 的 api, 把 checkout 回滾, 擴容 api 到 6 個).

>>> from core.llm.embedded.loader import builtin_knowledge
>>> from core.llm.types import ToolParam
>>> spec = ToolSpec(name="bounce_app", description="Rolling restart", params=(
...     ToolParam(name="name", pattern="[a-z0-9-]+"),
...     ToolParam(name="namespace", pattern="[a-z-]+")))
>>> requested_call("please restart the api in prod", {}, [spec], builtin_knowledge())
ToolCall(tool='bounce_app', arguments={'name': 'api', 'namespace': 'prod'})
>>> requested_call("請幫我重啟 prod 的 api", {}, [spec], builtin_knowledge())
ToolCall(tool='bounce_app', arguments={'name': 'api', 'namespace': 'prod'})
>>> requested_call("what is going on?", {}, [spec], builtin_knowledge()) is None
True
>>> requested_choice("restart api;rm in prod", {}, [spec], builtin_knowledge()).reason
"bounce_app: name 'api;rm' does not match [a-z0-9-]+"
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.llm.embedded.answers import Case, checks, clip, describe
from core.llm.embedded.incident import Incident
from core.llm.embedded.knowledge import Knowledge
from core.llm.embedded.registry import calls_for, serving
from core.llm.errors import ToolCallError
from core.llm.schemas import ChatAnswer, ToolChoice
from core.llm.toolcalls import validate_tool_call
from core.llm.types import ToolCall, ToolSpec

#: what a person says → the intent (core/knowledge/vocabulary.toml) a registry action serves
_VERBS = (
    (r"\broll ?back\b|\bundo\b|\brevert\b|回滾|回退|還原", "rollback"),
    (r"\brestart\b|\bbounce\b|重新啟動|重啟|重開", "restart"),
    (r"\bscale\b|擴容|擴充|擴展", "scale_out"),
    (r"\bdelete\b|\bkill\b|刪除|刪掉|移除|殺掉", "recreate_pod"),
    (r"\bcordon\b|隔離", "cordon"),
    (r"\brenew\b|續期", "renew_certificate"),
    (r"\bre-?run\b|\bretry\b|重跑|重試|重新執行", "rerun_job"),
    (r"\bdiagnos\w*|\bcollect\b|收集|診斷", "diagnostics"),
)
#: a value as typed: up to a space, a Han character or sentence punctuation (never `;` or `|`)
_VALUE = r"[^\s,，。！？!?、\u4e00-\u9fff]+"
_OBJECT = re.compile(
    r"(?:roll ?back|undo|revert|restart|bounce|scale|delete|kill|cordon|renew|re-?run|retry"
    r"|重新啟動|重啟|重開|回滾|回退|還原|擴容|擴充|擴展|刪除|刪掉|移除|殺掉|隔離|續期|重跑|重試"
    r"|重新執行|collect|收集|診斷|(?:run\s+)?diagnos\w*\s+(?:for|of|on))\s*(?:一下\s*)?(?:the\s+)?"
    r"(?:(?:diagnostics|logs|診斷資料|日誌)\s+(?:(?:for|of|on|from)\s+)?(?:the\s+)?)?"
    r"(?:deployment\s+|deploy/|pod\s+|node\s+|job\s+|certificate\s+)?"
    r"(?:(?:named|called)\s+)?"
    rf"(?P<name>{_VALUE})"
)
#: 把 api 重啟: the object before the verb
_BA_OBJECT = re.compile(rf"把\s*(?:the\s+)?(?P<name>{_VALUE})")
#: prod 的 api, prod 環境的 api: namespace, then object
_OF_OBJECT = re.compile(
    rf"(?P<ns>{_VALUE})\s*(?:環境|命名空間)?\s*(?:裡|中|內)?\s*的\s*(?P<name>{_VALUE})"
)
_NAMESPACE = re.compile(
    rf"(?:\b(?:in|namespace|ns)\s+(?:the\s+)?(?:namespace\s+)?|在\s*|於\s*|命名空間\s*)(?P<ns>{_VALUE})"
)
_REPLICAS = re.compile(r"(?:\bto\s+|到\s*|至\s*)(?P<n>\d{1,3})\b|(?P<m>\d{1,3})\s*(?:個|份|台)")
#: parameter names that take the object of the sentence
_NAME_PARAMS = ("name", "deployment", "node", "cronjob", "certificate", "pod")
#: words that point at an object instead of naming it: the named incident's labels say which
_POINTERS = frozenset({"it", "this", "that", "them", "everything", "all", "一下", "它"})


#: words too common to tie a question to an incident
_COMMON = frozenset(
    {"the", "and", "for", "are", "was", "what", "what's", "which", "any", "anything", "with",
     "about", "there", "this", "that", "now", "open", "incident", "incidents", "going", "happening",
     "right", "how", "why", "who", "can", "you", "please", "tell", "show", "list", "all"}
)  # fmt: skip


def _wanted_tools(question: str, tools: Sequence[ToolSpec], knowledge: Knowledge) -> list[ToolSpec]:
    for pattern, intent in _VERBS:
        if re.search(pattern, question):
            return serving(intent, tools, knowledge)
    return []


def _asked_change(question: str) -> str | None:
    return next((intent for pattern, intent in _VERBS if re.search(pattern, question)), None)


def _said(text: str) -> dict[str, str]:
    """The values the sentence gives: its object, namespace and a count."""
    said: dict[str, str] = {}
    if match := _OF_OBJECT.search(text):
        said["name"], said["namespace"] = match["name"], match["ns"]
    elif match := (_BA_OBJECT.search(text) or _OBJECT.search(text)):
        said["name"] = match["name"]
    if "namespace" not in said and (match := _NAMESPACE.search(text)):
        said["namespace"] = match["ns"]
    if match := _REPLICAS.search(text):
        said["replicas"] = match["n"] or match["m"]
    # a sentence's full stop is not part of a value; anything else typed is
    return {k: v.rstrip(".") for k, v in said.items() if v.rstrip(".") not in _POINTERS}


def requested_choice(
    question: str, labels: Mapping[str, str], tools: Sequence[ToolSpec], knowledge: Knowledge
) -> ToolChoice:
    """The registry call a person asked for when every argument is clear and valid, else why not."""
    text = question.lower()
    intent = _asked_change(text)
    if intent is None:
        return ToolChoice(call=None, reason="the message asks for no change I know")
    wanted = serving(intent, tools, knowledge)
    if not wanted:
        return ToolChoice(call=None, reason=f"no registered action does {intent.replace('_', ' ')}")
    said = _said(text)
    problems: list[str] = []
    for spec in wanted:
        # what the sentence leaves out ("restart it" about #12), the incident's labels fill
        # the way the engine fills a debate's call (registry.fill), each value checked
        from_labels = next(
            (c.arguments for _, c in calls_for(intent, Incident(labels=dict(labels)), [spec],
                                                knowledge)),
            {},
        )  # fmt: skip
        arguments: dict[str, str] = {}
        for param in spec.params:
            key = "name" if param.name in _NAME_PARAMS else param.name
            value = said.get(key) or labels.get(param.name) or from_labels.get(param.name)
            if value:
                arguments[param.name] = value
        try:
            call = validate_tool_call(ToolCall(tool=spec.name, arguments=arguments), tools)
        except ToolCallError:
            problems.append(_why_not(spec, arguments))
            continue
        return ToolChoice(call=call, reason=f"the message asks for {intent.replace('_', ' ')}")
    return ToolChoice(call=None, reason="; ".join(problems))


def _why_not(spec: ToolSpec, arguments: Mapping[str, str]) -> str:
    for param in spec.params:
        value = arguments.get(param.name)
        if value is None:
            if param.required:
                return f"{spec.name}: the message does not say its {param.name}"
            continue
        if not re.fullmatch(param.pattern, value):
            return f"{spec.name}: {param.name} {clip(value, 40)!r} does not match {param.pattern}"
    return f"{spec.name}: the arguments do not fit"


def requested_call(
    question: str, labels: Mapping[str, str], tools: Sequence[ToolSpec], knowledge: Knowledge
) -> ToolCall | None:
    """The registry call a person asked for, when every argument is clear and valid."""
    return requested_choice(question, labels, tools, knowledge).call


def chat_tool_call(case: Case, forced: str | None) -> ToolChoice:
    """tool_call for a person's request (the context carries `question`)."""
    if forced == "none":
        return ToolChoice(call=None, reason="tool_choice is none")
    question = str(case.incident.extra.get("question") or "")
    # only the labels of the incident the person named; never values parsed out of prose
    raw = case.incident.extra.get("incident_labels")
    labels = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    choice = requested_choice(question, labels, case.tools, case.knowledge)
    if choice.call is not None and forced not in (None, "auto", "required", choice.call.tool):
        return ToolChoice(
            call=None, reason=f"the message asks for {choice.call.tool}, not {forced}"
        )
    return choice


def _grounded(question: str, incidents: list[Any]) -> list[str]:
    """The open incidents the question is about (those it names or shares words with), or all."""
    chinese = re.search(r"[\u4e00-\u9fff]", question) is not None
    rows = [i for i in incidents if isinstance(i, dict)]
    if not rows:
        return ["目前沒有未解決的事件。" if chinese else "No open incidents right now."]
    text = question.lower()
    named = {int(n) for n in re.findall(r"#(\d{1,9})", text)}
    words = set(re.findall(r"[a-z0-9][a-z0-9_.-]{2,}", text)) - _COMMON
    if "嚴重" in text:
        words.add("critical")

    def score(row: dict[str, Any]) -> int:
        """How many of the question's words the incident answers to (named: all of them)."""
        if row.get("id") in named:
            return len(words) + 1
        labels = row.get("labels") or {}
        values = {str(v).lower() for v in labels.values()} if isinstance(labels, dict) else set()
        mentioned = set(re.findall(r"[a-z0-9][a-z0-9_.-]{2,}", str(row.get("title", "")).lower()))
        facts = {str(row.get("severity", "")), str(row.get("status", ""))}
        return len(words & (values | mentioned | facts))

    # the incidents that answer to the most of the question's words; all when none does
    scores = [score(row) for row in rows]
    best = max(scores)
    relevant = [row for row, n in zip(rows, scores, strict=True) if n == best] if best else rows
    head = (
        f"未解決的事件（{len(relevant)}／{len(rows)}）："
        if chinese
        else f"Open incidents{' about that' if len(relevant) < len(rows) else ''}: "
        f"{len(relevant)} of {len(rows)}."
    )
    lines = [head]
    for row in relevant[:10]:
        line = f"#{row.get('id')} {row.get('severity')} {row.get('status')} — {row.get('title')}"
        if row.get("decision"):
            line += f"; {'最新決策' if chinese else 'latest decision'}: {row['decision']}"
        lines.append(line)
    return lines


def chat(case: Case) -> ChatAnswer:
    family, incident, tools, knowledge = case.family, case.incident, case.tools, case.knowledge
    question = str(incident.extra.get("question") or "")
    open_incidents = incident.extra.get("open_incidents")
    if isinstance(open_incidents, list):
        # a person asking about the team's incidents: answer from them, nothing else
        return ChatAnswer(answer=clip("\n".join(_grounded(question, open_incidents)), 3500))
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
    elif question and _asked_change(question.lower()):
        lines.append("No registered action does that.")
    return ChatAnswer(answer=clip(" ".join(lines), 3500), proposed_action=call)
