"""Reading a team's action registry by meaning: what each action does, and how to fill it.

An action serves the intent its name and description match best (a mention of
the intent's object, "pod" or "deployment", breaks ties); a read-only intent is
only served by an action that is neither flagged destructive nor named with a
destructive verb. Arguments are filled from the alert's labels and annotations
only, and a value is used only when it matches the parameter's pattern.

>>> from core.llm.embedded.loader import builtin_knowledge
>>> from core.llm.types import ToolParam
>>> k = builtin_knowledge()
>>> intent_of(ToolSpec(name="undo_release", description="Return a deployment to its "
...     "previous revision"), k)
'rollback'
>>> intent_of(ToolSpec(name="collect_diagnostics", description="Read-only: describe the "
...     "object, recent events and logs"), k)
'diagnostics'
>>> intent_of(ToolSpec(name="delete_namespace", description="Read-only view"), k) is None
True
>>> intent_of(ToolSpec(name="wipe_and_describe", description="Read-only view"), k) is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache

from core.llm.embedded.incident import Incident, resolve
from core.llm.embedded.knowledge import Intent, Knowledge
from core.llm.errors import ToolCallError
from core.llm.toolcalls import validate_tool_call
from core.llm.types import ToolCall, ToolParam, ToolSpec

#: verbs that make a tool destructive whatever its registry entry says (CONTRACT.md)
DESTRUCTIVE_VERBS = ("restart", "delete", "scale", "rollback", "apply", "drain", "kill", "expand")
#: parameter names that mean "the object this action acts on"
_GENERIC_NAMES = frozenset({"name", "target", "object", "resource", "id", "resource_name"})
#: parameter names that mean "what kind of object": filled with the object kind itself
_KIND_NAMES = frozenset({"kind", "type", "resource_kind", "object_kind", "resource_type"})


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _words(text: str) -> str:
    return re.sub(r"[_\-/.]+", " ", text).lower()


def named_destructive(spec: ToolSpec) -> bool:
    """Flagged destructive, or named with a verb that always is."""
    return spec.destructive or any(verb in spec.name.lower() for verb in DESTRUCTIVE_VERBS)


def _mentions(text: str, words: Sequence[str]) -> bool:
    return any(re.search(rf"\b{re.escape(word)}s?\b", text) for word in words)


def _score(spec: ToolSpec, intent: Intent, knowledge: Knowledge) -> int:
    name, description = _words(spec.name), spec.description.lower()
    hits = sum(2 for p in intent.phrases if _compiled(p).search(name))
    hits += sum(1 for p in intent.phrases if _compiled(p).search(description))
    if hits and intent.object in knowledge.objects:
        words = knowledge.objects[intent.object].words
        hits += 3 * _mentions(name, words) + _mentions(description, words)
    return hits


def intent_of(spec: ToolSpec, knowledge: Knowledge) -> str | None:
    """The intent this registry action serves, or None when it serves none the engine knows."""
    best, best_score = None, 0
    for name, intent in knowledge.intents.items():
        score = _score(spec, intent, knowledge)
        if score > best_score:
            best, best_score = name, score
    if best is not None and knowledge.intents[best].read_only and _changes(spec, knowledge):
        return None
    return best


def _changes(spec: ToolSpec, knowledge: Knowledge) -> bool:
    """Whether the action says it changes something: flagged, or named or described so."""
    if named_destructive(spec):
        return True
    text = f"{_words(spec.name)} {spec.description.lower()}"
    changing = [p for i in knowledge.intents.values() if i.destructive for p in i.phrases]
    return any(_compiled(p).search(text) for p in (*changing, *knowledge.guard.data_change))


def serving(intent: str, tools: Sequence[ToolSpec], knowledge: Knowledge) -> list[ToolSpec]:
    """The registry's actions for an intent, in the registry's order."""
    return [spec for spec in tools if intent_of(spec, knowledge) == intent]


def _base(name: str) -> str:
    # deployment_name names a deployment; job_name is the Job label itself
    lowered = name.lower()
    return lowered if lowered == "job_name" else lowered.removesuffix("_name")


def role_of(param: ToolParam, main: str, knowledge: Knowledge) -> str:
    """What a parameter names: `object` (what the action acts on), `kind`, an object kind, or
    `param` (a value only a label of the same name can give)."""
    name = _base(param.name)
    if main in knowledge.objects and name in knowledge.objects[main].words:
        return "object"
    for kind, obj in knowledge.objects.items():
        if name in obj.words:
            return kind
    if name in _GENERIC_NAMES:
        return "object"
    if name in _KIND_NAMES:
        return "kind"
    return "param"


def _sources(
    role: str, param: ToolParam, main: str, overrides: dict[str, tuple[str, ...]], k: Knowledge
) -> tuple[str, ...]:
    if role in overrides:
        return overrides[role]
    kind = main if role == "object" else role
    if kind in k.objects:
        return k.objects[kind].sources
    return (f"labels.{param.name}", f"annotations.{param.name}")


def _fitting(pattern: str, values: Sequence[str]) -> str | None:
    for value in values:
        try:
            if re.fullmatch(pattern, value):
                return value
        except re.error:
            return None
    return None


def fill(
    spec: ToolSpec,
    incident: Incident,
    knowledge: Knowledge,
    *,
    main: str,
    overrides: dict[str, tuple[str, ...]] | None = None,
) -> ToolCall | None:
    """The call with every argument taken from the incident, or None when one cannot be."""
    arguments: dict[str, str] = {}
    for param in spec.params:
        role = role_of(param, main, knowledge)
        if role == "kind":
            candidates = [main, main.capitalize()] if main else []
        else:
            sources = _sources(role, param, main, overrides or {}, knowledge)
            candidates = [v for s in sources if (v := resolve(incident, s)) is not None]
        if (value := _fitting(param.pattern, candidates)) is not None:
            arguments[param.name] = value
    try:
        return validate_tool_call(ToolCall(tool=spec.name, arguments=arguments), [spec])
    except ToolCallError:
        return None


def calls_for(
    intent: str,
    incident: Incident,
    tools: Sequence[ToolSpec],
    knowledge: Knowledge,
    *,
    subjects: Sequence[str] = (),
    overrides: dict[str, tuple[str, ...]] | None = None,
) -> Iterator[tuple[ToolSpec, ToolCall]]:
    """Every complete call of the registry that serves the intent, best first."""
    meaning = knowledge.intents.get(intent)
    if meaning is None:
        return
    mains = (meaning.object,) if meaning.object else tuple(subjects)
    for spec in serving(intent, tools, knowledge):
        for main in mains:
            call = fill(spec, incident, knowledge, main=main, overrides=overrides)
            if call is not None:
                yield spec, call
                break
