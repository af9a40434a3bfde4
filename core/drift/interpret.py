"""The interpreter: the model (or the embedded engine) reads the likely intent of a drift.

It reads; it never proposes a command. `DriftReading` has no field for one, and
any sentence of the explanation that looks like a command (kubectl, helm, a
backticked line, a shell prompt) is dropped before anyone sees it: the only
things that act on drift are the card's three buttons.
"""

from __future__ import annotations

import json
import re

from core.drift.models import Difference, DriftLevel, Intent, ObjectKey, Reading
from core.llm.completion import Completer
from core.llm.schemas import DriftReading
from core.llm.types import ChatMessage, ChatRequest, Task

SYSTEM = (
    "You read configuration drift in Kubernetes: a difference between what Git declares "
    "and what runs. Say what it most likely is (a hotfix, scaling during an incident, an "
    "unauthorised change, or an artefact of tooling) and whether to roll it back, adopt "
    "it into Git, ignore it or investigate. Never write commands. Answer with JSON only: "
    '{"intent": "likely_intentional|likely_accidental|unknown", '
    '"level": "low|medium|high|critical", "explanation": "...", '
    '"recommendation": "rollback|adopt|ignore|investigate"}'
)
_COMMAND = re.compile(r"`|\bkubectl\b|\bhelm\b|\bgit\s+\w|\bsudo\b|(^|\s)\$\s|\brm\s+-|\bcurl\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
MAX_EXPLANATION = 600


def without_commands(text: str) -> str:
    """The explanation with every sentence that looks like a command left out.

    >>> without_commands("Someone scaled it up. Run `kubectl scale --replicas=3`.")
    'Someone scaled it up.'
    """
    kept = [s.strip() for s in _SENTENCE.split(text) if s.strip() and not _COMMAND.search(s)]
    return " ".join(kept)[:MAX_EXPLANATION]


def intent_of(difference: Difference, reading: DriftReading) -> Intent:
    """The reading's intent in the operator's words, by what changed.

    Scaling read as intentional is incident scaling; an image, a hotfix; labels and
    annotations read as intentional, tooling; anything read as accidental, unauthorised.
    """
    path = difference.path
    if reading.intent == "likely_accidental":
        return "unauthorised change"
    if "replicas" in path and reading.intent == "likely_intentional":
        return "incident scaling"
    if difference.level is DriftLevel.INFO and reading.intent == "likely_intentional":
        return "tooling artefact"
    if path.endswith(".image") or reading.intent == "likely_intentional":
        return "hotfix"
    if difference.change != "changed" or difference.level is DriftLevel.CRITICAL:
        return "unauthorised change"
    return "unknown"


class Interpreter:
    """Asks `Task.DRIFT_INTERPRET` about an object's most significant difference."""

    def __init__(self, completer: Completer) -> None:
        self._completer = completer

    async def read(self, key: ObjectKey, difference: Difference) -> Reading:
        """The reading of one drifted object; the router never raises, so neither does this."""
        drift = {
            "resource": f"{key.kind.lower()}/{key.name}",
            "namespace": key.namespace,
            "change": difference.change,
            "field": difference.path or difference.change,
            "desired": _shown(difference.desired),
            "live": _shown(difference.live),
            "level": difference.level.value,
        }
        request = ChatRequest(
            task=Task.DRIFT_INTERPRET,
            messages=[
                ChatMessage(role="system", content=SYSTEM),
                ChatMessage(role="user", content=json.dumps({"drift": drift}, sort_keys=True)),
            ],
            json_mode=True,
            context={"drift": drift},
        )
        completion = await self._completer.complete(request)
        value = completion.value
        if not isinstance(value, DriftReading):  # a router bug, not the model's: stay useful
            value = DriftReading(
                intent="unknown",
                level="high",
                explanation="no reading",
                recommendation="investigate",
            )
        explanation = without_commands(value.explanation) or "No reading beyond the change itself."
        return Reading(
            key=key,
            intent=intent_of(difference, value),
            explanation=explanation,
            recommendation=value.recommendation,
            provider=completion.provider or "fallback",
        )


def _shown(value: object) -> object:
    """A value small enough for a prompt: whole objects are summarised, not pasted."""
    text = json.dumps(value, sort_keys=True, default=str)
    return value if len(text) <= 300 else text[:297] + "..."
