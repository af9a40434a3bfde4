"""Writing entries down: a runbook's nine sections, its minimal fallback, an anti-pattern.

Pure functions over the execution's facts (and the model's draft, when there
is one). A runbook always has the same nine sections in the same order
(`RUNBOOK_SECTIONS`); what the model did not say is filled from the facts, so
a section is never missing, only plainer. Everything the model wrote is data
for Markdown, shown escaped by the renderer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from core.alerting.durations import describe
from core.knowledge.models import ExecutionOutcome
from core.knowledge.symptoms import Symptoms
from core.llm.schemas import RunbookDraft
from core.llm.types import ToolCall

RUNBOOK_SECTIONS = (
    "Symptoms",
    "Root cause",
    "Steps taken",
    "Verification",
    "Cautions",
    "Blast radius",
    "Related incidents",
    "Prevention",
    "When it applies",
)
ANTI_PATTERN_SECTIONS = (
    "Symptoms",
    "What was tried",
    "Why it failed",
    "When not to use it",
    "Alternatives",
)
#: the line a minimal runbook opens with, so nobody mistakes it for a considered one
MINIMAL_MARK = "_Minimal runbook built from the facts: the model gave no draft"
TAIL_LINES = 8
ITEM_CHARS = 500


def call_text(call: ToolCall | None) -> str:
    """`tool(a=1, b=2)`, or "no action".

    >>> call_text(ToolCall(tool="restart", arguments={"name": "api", "namespace": "prod"}))
    'restart(name=api, namespace=prod)'
    """
    if call is None:
        return "no action"
    args = ", ".join(f"{k}={v}" for k, v in sorted(call.arguments.items()))
    return f"{call.tool}({args})"


def _clip(text: str, chars: int = ITEM_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _bullets(items: Iterable[str]) -> str:
    lines = [f"- {_clip(item)}" for item in items if str(item).strip()]
    return "\n".join(lines) or "- (none recorded)"


def _document(title: str, sections: Sequence[tuple[str, str]], *, note: str = "") -> str:
    head = [f"# {title}", *([note] if note else [])]
    body = [f"## {name}\n{text.strip()}" for name, text in sections]
    return "\n\n".join([*head, *body]) + "\n"


def _tail(outcome: ExecutionOutcome) -> str:
    output = (outcome.result.stdout or outcome.result.stderr).strip()
    lines = output.splitlines()[-TAIL_LINES:]
    if not lines:
        return ""
    return "```\n" + "\n".join(line[:200].replace("```", "'''") for line in lines) + "\n```"


def _symptom_lines(outcome: ExecutionOutcome, symptoms: Symptoms) -> list[str]:
    incident = outcome.incident
    lines = [f"{symptoms.raw_alert or incident.title} ({incident.severity.value})"]
    lines += [f"{k}={v}" for k, v in symptoms.labels.items()]
    if symptoms.service:
        lines.append(f"service {symptoms.service}")
    return lines


def _ran(outcome: ExecutionOutcome) -> str:
    result = outcome.result
    who = ", ".join(outcome.approved_by) or "policy (no approval needed)"
    when = outcome.approved_at.strftime("%Y-%m-%d %H:%M UTC")
    code = "none" if result.exit_code is None else str(result.exit_code)
    return (
        f"`{call_text(outcome.package.recommended_action)}`, approved by {who} at {when}; "
        f"{result.status.value} in {result.duration_s:.1f} s (exit code {code})"
    )


def _related(related: Sequence[int]) -> str:
    if not related:
        return "- none earlier with these symptoms"
    return _bullets(f"incident #{i}" for i in related)


def _when(symptoms: Symptoms) -> str:
    where = ", ".join(f"{k}={v}" for k, v in symptoms.labels.items()) or "any labels"
    return (
        f"- alert `{symptoms.raw_alert or symptoms.alert}` with {where}"
        f"{f', service {symptoms.service}' if symptoms.service else ''}\n"
        f"- symptoms hash `{symptoms.hash}` (the same problem on another pod or instance)"
    )


def _cautions(outcome: ExecutionOutcome, extra: Iterable[str] = ()) -> list[str]:
    review = outcome.package.review
    return [*extra, *review.concerns[:3], *review.objections[:3]]


def _blast(outcome: ExecutionOutcome, symptoms: Symptoms) -> str:
    package = outcome.package
    scope = ", ".join(f"{k}={v}" for k, v in symptoms.labels.items()) or "not narrowed by labels"
    return _bullets([f"risk {package.risk_level.value} as the debate judged it", f"scope: {scope}"])


def runbook(
    outcome: ExecutionOutcome,
    symptoms: Symptoms,
    *,
    draft: RunbookDraft,
    related: Sequence[int],
) -> tuple[str, str]:
    """(title, Markdown) of a runbook from the model's draft and the facts."""
    package = outcome.package
    steps = [*draft.steps, f"Ran {_ran(outcome)}"]
    verification = draft.verification or [
        f"the action ended {outcome.result.status.value} (exit code {outcome.result.exit_code})"
    ]
    rollback = [f"Roll back: {draft.rollback}"] if draft.rollback else []
    sections = [
        ("Symptoms", _bullets([*draft.symptoms, *_symptom_lines(outcome, symptoms)[1:]])),
        ("Root cause", _clip(package.diagnosis)),
        ("Steps taken", "\n".join(f"{n}. {_clip(s)}" for n, s in enumerate(steps, 1))),
        (
            "Verification",
            _bullets(verification) + ("\n\n" + _tail(outcome) if _tail(outcome) else ""),
        ),
        ("Cautions", _bullets(_cautions(outcome, rollback))),
        ("Blast radius", _blast(outcome, symptoms)),
        ("Related incidents", _related(related)),
        ("Prevention", _bullets(_prevention(outcome))),
        ("When it applies", _when(symptoms)),
    ]
    return _clip(draft.title, 200), _document(_clip(draft.title, 200), sections)


def minimal_runbook(
    outcome: ExecutionOutcome, symptoms: Symptoms, *, related: Sequence[int], reason: str
) -> tuple[str, str]:
    """(title, Markdown) of a runbook from the facts alone, marked as such."""
    incident, package = outcome.incident, outcome.package
    title = _clip(
        f"{symptoms.raw_alert or incident.title}: {call_text(package.recommended_action)}", 200
    )
    sections = [
        ("Symptoms", _bullets(_symptom_lines(outcome, symptoms))),
        ("Root cause", _clip(package.diagnosis)),
        ("Steps taken", f"1. Ran {_ran(outcome)}"),
        (
            "Verification",
            f"- the action ended {outcome.result.status.value}"
            + ("\n\n" + _tail(outcome) if _tail(outcome) else ""),
        ),
        (
            "Cautions",
            _bullets(
                _cautions(outcome, ["check the result by hand: this was not reviewed by a model"])
            ),
        ),
        ("Blast radius", _blast(outcome, symptoms)),
        ("Related incidents", _related(related)),
        ("Prevention", _bullets(_prevention(outcome))),
        ("When it applies", _when(symptoms)),
    ]
    note = f"{MINIMAL_MARK} ({_clip(reason, 200)})._"
    return title, _document(title, sections, note=note)


def _prevention(outcome: ExecutionOutcome) -> list[str]:
    incident = outcome.incident
    return [
        f"find why {incident.title} needed {call_text(outcome.package.recommended_action)}; "
        "fix that cause, not the symptom",
        "alert earlier on the leading signal, and link this runbook from the alert",
    ]


def anti_pattern(
    outcome: ExecutionOutcome,
    symptoms: Symptoms,
    *,
    window: timedelta,
    alternatives: Sequence[str],
) -> tuple[str, str]:
    """(title, Markdown) of an anti-pattern: what was tried on these symptoms and failed."""
    package, result = outcome.package, outcome.result
    action = call_text(package.recommended_action)
    tried_tool = package.recommended_action.tool if package.recommended_action else "repair"
    title = _clip(f"Do not {action} for {symptoms.raw_alert or outcome.incident.title}", 200)
    why = [result.reason or f"the action ended {result.status.value}"]
    if result.exit_code is not None:
        why.append(f"exit code {result.exit_code} after {result.duration_s:.1f} s")
    tail = _tail(outcome)
    sections = [
        ("Symptoms", _bullets(_symptom_lines(outcome, symptoms)) + "\n\n" + _when(symptoms)),
        ("What was tried", f"- {_ran(outcome)}\n- the diagnosis then: {_clip(package.diagnosis)}"),
        ("Why it failed", _bullets(why) + (f"\n\n{tail}" if tail else "")),
        (
            "When not to use it",
            f"- on these symptoms: automatic {tried_tool} "
            f"is blocked for {describe(window)}; a person may still approve it knowingly",
        ),
        (
            "Alternatives",
            _bullets(alternatives or ["read-only checks first, then a person decides"]),
        ),
    ]
    return title, _document(title, sections)
