"""One pure function per task: the incident and the knowledge in, the task's contract out.

Unknown incidents get the conservative answer of each contract: no action,
high enough risk that a person looks, and the checks that would tell more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from core.llm.embedded.actions import (
    PlannedAction,
    check_call,
    is_destructive,
    plan_action,
    riskier,
    template_for,
    withheld_action,
)
from core.llm.embedded.incident import Incident, fill
from core.llm.embedded.knowledge import Family
from core.llm.schemas import (
    Critique,
    DecisionDraft,
    Diagnosis,
    Hypothesis,
    Proposal,
    Review,
    RiskLevel,
    RunbookDraft,
    ToolChoice,
)
from core.llm.types import ToolCall, ToolSpec

#: when the engine does not recognise an alert, a person decides
UNKNOWN_RISK = RiskLevel.MEDIUM
UNKNOWN_CHECKS = (
    "kubectl get events -A --sort-by=.lastTimestamp | tail -30",
    "open the alert's runbook_url and dashboard",
    'ALERTS{{alertstate="firing"}}',
)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(incident: Incident) -> str:
    """How the humans would name this alert in one phrase."""
    name = incident.alert_name or "an alert"
    where = incident.labels.get("namespace") or incident.labels.get("instance") or ""
    subject = (
        incident.labels.get("deployment")
        or incident.labels.get("pod")
        or incident.labels.get("node")
        or incident.labels.get("service")
        or ""
    )
    parts = [name, f"on {subject}" if subject else "", f"in {where}" if where else ""]
    return " ".join(p for p in parts if p)


def checks(family: Family | None, incident: Incident) -> list[str]:
    templates = family.checks if family else UNKNOWN_CHECKS
    return [clip(fill(t, incident), 400) for t in templates]


def _confidence(family: Family | None, incident: Incident) -> float:
    if family is None or not family.causes:
        return 0.2
    top = family.causes[0].confidence
    # a family found by keywords alone is a weaker identification than by alert name
    return round(top if incident.alert_name else top * 0.7, 2)


def diagnose(family: Family | None, incident: Incident) -> Diagnosis:
    if family is None:
        return Diagnosis(
            summary=clip(f"{describe(incident)}: not an alert family I know", 500),
            hypotheses=[Hypothesis(cause="unknown: no matching on-call knowledge", confidence=0.1)],
            read_only_checks=checks(None, incident),
            missing_evidence=["what the alert measures and who owns it"],
        )
    scale = 1.0 if incident.alert_name else 0.7
    hypotheses = [
        Hypothesis(
            cause=cause.text,
            confidence=round(cause.confidence * scale, 2),
            evidence=[f"{family.title} ({incident.alert_name or 'keywords'})"],
        )
        for cause in family.causes
    ]
    missing = sorted({p.strip("<>") for c in checks(family, incident) for p in _holes(c)})
    return Diagnosis(
        summary=clip(f"{family.title}: {describe(incident)}. {incident.summary}".strip(), 500),
        hypotheses=hypotheses,
        read_only_checks=checks(family, incident),
        missing_evidence=[f"label {name}" for name in missing],
    )


def _holes(check: str) -> list[str]:
    return [word for word in check.replace("'", " ").split() if word.startswith("<")]


def situation_risk(family: Family | None, planned: PlannedAction | None) -> RiskLevel:
    if family is None:
        return UNKNOWN_RISK
    if planned is None:
        return family.risk
    return riskier(family.risk, planned.template.risk)


def solve(family: Family | None, incident: Incident, tools: Sequence[ToolSpec]) -> Proposal:
    planned = plan_action(family, incident, tools)
    if planned is None and (withheld := withheld_action(family, incident, tools)) is not None:
        return Proposal(
            action=None,
            rationale=clip(
                f"{withheld.tool} is the usual fix but not for "
                f"{', '.join(withheld.arguments.values())}: running it again unchecked can "
                "repeat a half-applied change. A person must inspect it first.",
                1500,
            ),
            risk_level=riskier(situation_risk(family, None), RiskLevel.HIGH),
            read_only_checks=checks(family, incident),
        )
    if planned is None:
        reason = (
            "no registered tool fits this alert with arguments taken from its labels"
            if family and family.actions
            else "the safe first move is read-only investigation"
        )
        if family is None:
            reason = "unknown alert: only read-only checks until a person has looked"
        return Proposal(
            action=None,
            rationale=clip(f"{reason}. {family.why_human if family else ''}".strip(), 1500),
            risk_level=situation_risk(family, None),
            read_only_checks=checks(family, incident),
        )
    template = planned.template
    return Proposal(
        action=planned.call,
        rationale=clip(template.rationale, 1500),
        risk_level=situation_risk(family, planned),
        expected_effect=template.effect,
        rollback=fill(template.rollback, incident) if template.rollback else "",
        read_only_checks=checks(family, incident),
    )


def _proposal(incident: Incident) -> Proposal | None:
    """The solver's proposal from context, if it is a valid one."""
    raw: Any = incident.extra.get("proposal")
    if not isinstance(raw, dict):
        return None
    try:
        return Proposal.model_validate(raw)
    except ValidationError:
        return None


def _risk_of(raw: Any) -> RiskLevel | None:
    if isinstance(raw, dict):
        try:
            return RiskLevel(str(raw.get("risk_level") or raw.get("level")))
        except ValueError:
            return None
    return None


def review(family: Family | None, incident: Incident, tools: Sequence[ToolSpec]) -> Review:
    proposal = _proposal(incident) or solve(family, incident, tools)
    known = situation_risk(family, None)
    risk = riskier(proposal.risk_level, known)
    concerns: list[str] = []
    if proposal.action is None:
        if family is None:
            concerns.append("unknown alert: a person should confirm what it measures")
        return Review(verdict="approve", concerns=concerns, risk_level=risk)
    problem = check_call(proposal.action, tools)
    if problem:
        return Review(verdict="reject", concerns=[f"not runnable: {problem}"], risk_level=risk)
    template = template_for(family, proposal.action.tool)
    if template is None:
        concerns.append(
            f"{proposal.action.tool} is not a usual remedy for "
            f"{family.title if family else 'this alert'}"
        )
        return Review(verdict="revise", concerns=concerns, risk_level=riskier(risk, RiskLevel.HIGH))
    risk = riskier(risk, template.risk)
    if proposal.risk_level != risk:
        concerns.append(f"risk is {risk.value}, not {proposal.risk_level.value}")
    if template.requires and plan_action(family, incident, tools) is None:
        concerns.append("the evidence this action needs (a recent change) is not in the alert")
        return Review(verdict="revise", concerns=concerns, risk_level=risk)
    return Review(verdict="approve", concerns=concerns, risk_level=risk)


def critique(family: Family | None, incident: Incident, tools: Sequence[ToolSpec]) -> Critique:
    proposal = _proposal(incident) or solve(family, incident, tools)
    objections: list[str] = []
    if family is None:
        objections.append("the alert is not recognised; any action is a guess")
    elif len(family.causes) > 1:
        alternative = family.causes[1].text
        objections.append(f"the evidence fits another cause as well: {alternative}")
    if proposal.action is not None and family is not None:
        objections.append(family.why_human or "the action changes live state")
    if proposal.action is None:
        objections.append("doing nothing leaves the symptom in place until someone looks")
    risk = riskier(proposal.risk_level, situation_risk(family, None))
    worst = family.worst_case if family else "acting on a misread alert makes the outage worse"
    return Critique(objections=objections, worst_case=worst, risk_level=risk)


def coordinate(
    family: Family | None, incident: Incident, tools: Sequence[ToolSpec]
) -> DecisionDraft:
    own = solve(family, incident, tools)
    proposal = _proposal(incident) or own
    blocked: str | None = None
    action: ToolCall | None = proposal.action
    if (problem := check_call(action, tools)) is not None:
        blocked, action = f"proposed action not runnable: {problem}", own.action
    template = template_for(family, action.tool) if action else None
    risk = riskier(proposal.risk_level, own.risk_level)
    if template is not None:
        risk = riskier(risk, template.risk)
    for earlier in ("review", "critique"):
        if (level := _risk_of(incident.extra.get(earlier))) is not None:
            risk = riskier(risk, level)
    review_raw = incident.extra.get("review")
    if isinstance(review_raw, dict) and review_raw.get("verdict") == "reject" and action:
        blocked, action = "the reviewer rejected the action", None
    destructive = action is not None and is_destructive(action.tool, template)
    human = family is None or risk is not RiskLevel.LOW or destructive
    if family is not None and action is None and risk is RiskLevel.LOW:
        human = False
    return DecisionDraft(
        recommended_action=action,
        risk_level=risk,
        requires_human_approval=human,
        confidence=_confidence(family, incident),
        diagnosis=clip(
            family.causes[0].text if family else "unknown alert: no matching knowledge", 500
        ),
        summary=clip(_summary(family, incident, action, own), 3000),
        why_human=_why_human(family, risk, destructive) if human else "",
        blocked_reason=blocked,
    )


def _summary(
    family: Family | None, incident: Incident, action: ToolCall | None, own: Proposal
) -> str:
    head = f"{family.title if family else 'Unrecognised alert'}: {describe(incident)}."
    if action is None:
        first = "; ".join(own.read_only_checks[:2])
        return f"{head} No action proposed; check first: {first}"
    args = ", ".join(f"{k}={v}" for k, v in sorted(action.arguments.items()))
    return f"{head} Proposed {action.tool}({args}). {own.rationale}"


def _why_human(family: Family | None, risk: RiskLevel, destructive: bool) -> str:
    if family is None:
        return "the alert is not one the engine recognises; a person must judge it"
    reasons = [family.why_human] if family.why_human else []
    if destructive:
        reasons.append("the action is destructive")
    if risk is not RiskLevel.LOW:
        reasons.append(f"risk is {risk.value}")
    return "; ".join(reasons)


def tool_call(
    family: Family | None, incident: Incident, tools: Sequence[ToolSpec], forced: str | None
) -> ToolChoice:
    if forced == "none":
        return ToolChoice(call=None, reason="tool_choice is none")
    planned = plan_action(family, incident, tools)
    other_forced = forced not in (None, "auto", "required")
    if planned is None or (other_forced and planned.call.tool != forced):
        why = "no registered tool fits with arguments from the alert's labels"
        return ToolChoice(call=None, reason=why)
    return ToolChoice(call=planned.call, reason=clip(planned.template.rationale, 1000))


def runbook(family: Family | None, incident: Incident, tools: Sequence[ToolSpec]) -> RunbookDraft:
    planned = plan_action(family, incident, tools)
    title = family.title if family else f"Handling {incident.alert_name or 'an unknown alert'}"
    symptoms = [describe(incident)]
    if incident.summary:
        symptoms.append(incident.summary)
    steps = [f"Check: {c}" for c in checks(family, incident)]
    if planned is not None:
        args = ", ".join(f"{k}={v}" for k, v in sorted(planned.call.arguments.items()))
        steps.append(f"If the checks confirm it: {planned.call.tool}({args}) after approval")
    if family is not None:
        steps.extend(f"Confirm: {fill(v, incident)}" for v in family.verification)
    rollback = planned.template.rollback if planned else ""
    return RunbookDraft(
        title=clip(title, 200),
        symptoms=[clip(s, 500) for s in symptoms],
        steps=[clip(s, 500) for s in steps],
        rollback=fill(rollback, incident) if rollback else "",
    )
