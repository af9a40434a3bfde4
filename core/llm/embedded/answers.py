"""One pure function per task: the incident and the knowledge in, the task's contract out.

Unknown incidents get the conservative answer of each contract: no action,
high enough risk that a person looks, and the checks that would tell more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core.llm.embedded.actions import (
    Plan,
    PlannedAction,
    check_call,
    is_destructive,
    plan,
    template_for,
)
from core.llm.embedded.incident import Incident, fill
from core.llm.embedded.knowledge import Family, Knowledge
from core.llm.embedded.risk import NO_ACTION_FITS, floors_for, needs_attention
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
    riskier,
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


@dataclass(frozen=True)
class Case:
    """One request as the engine sees it: the incident, its family, the registry, the knowledge."""

    family: Family | None
    incident: Incident
    tools: Sequence[ToolSpec]
    knowledge: Knowledge

    def plan(self) -> Plan:
        return plan(self.family, self.incident, self.tools, self.knowledge)

    def floors(self) -> list[str]:
        """Why the risk may not go below its floors ([floor.X] in the knowledge)."""
        return [f.why for _, f in floors_for(self.incident, self.family, self.knowledge)]


def situation_risk(case: Case, planned: PlannedAction | None) -> RiskLevel:
    """The family's usual risk, the action's, and every floor the situation is under."""
    family = case.family
    base = UNKNOWN_RISK if family is None else family.risk
    if family is not None and planned is not None:
        base = riskier(base, planned.risk)
    floors = floors_for(case.incident, family, case.knowledge)
    return riskier(base, *(f.risk for _, f in floors))


def _args(call: ToolCall) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(call.arguments.items()))


def _no_change_reason(case: Case, found: Plan) -> str:
    family = case.family
    if family is None:
        return "unknown alert: no change until a person has looked"
    if found.withheld is not None:
        call = found.withheld_call
        usual = (
            f"{call.tool}({_args(call)})" if call else f"the usual fix ({found.withheld.intent})"
        )
        return (
            f"{usual} is not for this object: it may migrate, delete or touch data or money, "
            "and running it again unchecked can repeat a half-applied change. "
            "A person must inspect it first"
        )
    if family.actions:
        return "the evidence does not justify a change yet, or no registered action fits it"
    return "the safe first move is read-only investigation"


def runbook_call(case: Case) -> tuple[ToolCall, str] | None:
    """The action of a published runbook for these symptoms, when the registry still runs it.

    The debate puts them in the context as `runbooks` (core/debate/agents.py);
    a team's own record of what worked beats the engine's general knowledge.
    """
    raw: Any = case.incident.extra.get("runbooks")
    if not isinstance(raw, list):
        return None
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("tool"), str):
            continue
        raw_args = item.get("arguments")
        arguments: dict[Any, Any] = raw_args if isinstance(raw_args, dict) else {}
        call = ToolCall(tool=item["tool"], arguments={str(k): str(v) for k, v in arguments.items()})
        if check_call(call, case.tools) is None:
            return call, clip(str(item.get("title") or "a published runbook"), 200)
    return None


def _from_runbook(case: Case, found: Plan) -> Proposal | None:
    if found.withheld is not None:
        return None  # the object may migrate or touch data: no runbook makes that automatic
    chosen = runbook_call(case)
    if chosen is None:
        return None
    call, title = chosen
    risk = situation_risk(case, None)
    if is_destructive(call, case.tools, case.knowledge):
        risk = riskier(risk, RiskLevel.MEDIUM)
    return Proposal(
        action=call,
        rationale=clip(
            f"the published runbook {title} resolved these same symptoms with "
            f"{call.tool}({_args(call)})",
            1500,
        ),
        risk_level=risk,
        expected_effect=f"as recorded in the runbook {title}",
        read_only_checks=checks(case.family, case.incident),
    )


def solve(case: Case) -> Proposal:
    family, incident = case.family, case.incident
    found = case.plan()
    if (learned := _from_runbook(case, found)) is not None:
        return learned
    planned = found.action
    risk = situation_risk(case, planned)
    if found.guarded:
        # anything that may migrate, delete, or touch data or money: a person decides
        risk = riskier(risk, RiskLevel.HIGH if found.withheld else RiskLevel.MEDIUM)
    if found.change is None:
        reason = _no_change_reason(case, found)
        why = family.why_human if family else ""
        return Proposal(
            action=planned.call if planned else None,
            rationale=clip(f"{reason}. {why}".strip(), 1500),
            risk_level=risk,
            expected_effect=planned.template.effect if planned else "",
            read_only_checks=checks(family, incident),
        )
    template = found.change.template
    return Proposal(
        action=found.change.call,
        rationale=clip(template.rationale, 1500),
        risk_level=risk,
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


def review(case: Case) -> Review:
    family, incident, tools = case.family, case.incident, case.tools
    proposal = _proposal(incident) or solve(case)
    risk = riskier(proposal.risk_level, situation_risk(case, None))
    concerns: list[str] = []
    if proposal.action is None:
        if family is None:
            concerns.append("unknown alert: a person should confirm what it measures")
        return Review(verdict="approve", concerns=concerns, risk_level=risk)
    problem = check_call(proposal.action, tools)
    if problem:
        return Review(verdict="reject", concerns=[f"not runnable: {problem}"], risk_level=risk)
    learned = runbook_call(case)
    if learned is not None and learned[0] == proposal.action:
        concerns.append(f"the action of the published runbook {learned[1]}")
        return Review(verdict="approve", concerns=concerns, risk_level=risk)
    template = template_for(family, proposal.action, tools, case.knowledge)
    if template is None:
        concerns.append(
            f"{proposal.action.tool} is not a usual remedy for "
            f"{family.title if family else 'this alert'}"
        )
        return Review(verdict="revise", concerns=concerns, risk_level=riskier(risk, RiskLevel.HIGH))
    risk = riskier(risk, template.risk)
    if proposal.risk_level != risk:
        concerns.append(f"risk is {risk.value}, not {proposal.risk_level.value}")
    own = case.plan().action
    conditional = template.requires or template.requires_text or template.blocked_by
    if conditional and (own is None or own.call != proposal.action):
        concerns.append("the evidence this action needs is not in the alert")
        return Review(verdict="revise", concerns=concerns, risk_level=risk)
    return Review(verdict="approve", concerns=concerns, risk_level=risk)


def critique(case: Case) -> Critique:
    family = case.family
    proposal = _proposal(case.incident) or solve(case)
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
    risk = riskier(proposal.risk_level, situation_risk(case, None))
    worst = family.worst_case if family else "acting on a misread alert makes the outage worse"
    return Critique(objections=objections, worst_case=worst, risk_level=risk)


def coordinate(case: Case) -> DecisionDraft:
    family, incident, tools = case.family, case.incident, case.tools
    own = solve(case)
    proposal = _proposal(incident) or own
    blocked: str | None = None
    action: ToolCall | None = proposal.action
    if (problem := check_call(action, tools)) is not None:
        blocked, action = f"proposed action not runnable: {problem}", own.action
    template = template_for(family, action, tools, case.knowledge) if action else None
    risk = riskier(proposal.risk_level, own.risk_level)
    if template is not None:
        risk = riskier(risk, template.risk)
    for earlier in ("review", "critique"):
        if (level := _risk_of(incident.extra.get(earlier))) is not None:
            risk = riskier(risk, level)
    review_raw = incident.extra.get("review")
    if isinstance(review_raw, dict) and review_raw.get("verdict") == "reject" and action:
        blocked, action = "the reviewer rejected the action", None
    destructive = action is not None and is_destructive(action, tools, case.knowledge)
    human = family is None or risk is not RiskLevel.LOW or destructive
    if action is not None and template is None:
        # an action the knowledge cannot place is a guess: a person decides
        human = True
    # proposing nothing for an alert that still fires must not mean nobody looks
    unattended = action is None and needs_attention(incident, case.knowledge)
    human = human or unattended
    return DecisionDraft(
        recommended_action=action,
        risk_level=risk,
        requires_human_approval=human,
        confidence=_confidence(family, incident),
        diagnosis=clip(
            family.causes[0].text if family else "unknown alert: no matching knowledge", 500
        ),
        summary=clip(_summary(family, incident, action, own), 3000),
        why_human=_why_human(case, risk, destructive, unattended) if human else "",
        blocked_reason=blocked,
    )


def _summary(
    family: Family | None, incident: Incident, action: ToolCall | None, own: Proposal
) -> str:
    head = f"{family.title if family else 'Unrecognised alert'}: {describe(incident)}."
    if action is None:
        first = "; ".join(own.read_only_checks[:2])
        return f"{head} No action proposed; check first: {first}"
    return f"{head} Proposed {action.tool}({_args(action)}). {own.rationale}"


def _why_human(case: Case, risk: RiskLevel, destructive: bool, unattended: bool) -> str:
    family = case.family
    if family is None:
        reasons = ["the alert is not one the engine recognises; a person must judge it"]
        return "; ".join([*reasons, *case.floors()])
    reasons = [family.why_human] if family.why_human else []
    if unattended:
        reasons.append(NO_ACTION_FITS)
    reasons.extend(case.floors())
    if destructive:
        reasons.append("the action is destructive")
    if risk is not RiskLevel.LOW:
        reasons.append(f"risk is {risk.value}")
    return "; ".join(reasons) or "the proposed action is not one the engine knows"


def tool_call(case: Case, forced: str | None) -> ToolChoice:
    if forced == "none":
        return ToolChoice(call=None, reason="tool_choice is none")
    planned = case.plan().action
    other_forced = forced not in (None, "auto", "required")
    if planned is None or (other_forced and planned.call.tool != forced):
        why = "no registered tool fits with arguments from the alert's labels"
        return ToolChoice(call=None, reason=why)
    return ToolChoice(call=planned.call, reason=clip(planned.template.rationale, 1000))


def runbook(case: Case) -> RunbookDraft:
    family, incident = case.family, case.incident
    planned = case.plan().action
    title = family.title if family else f"Handling {incident.alert_name or 'an unknown alert'}"
    symptoms = [describe(incident)]
    if incident.summary:
        symptoms.append(incident.summary)
    steps = [f"Check: {c}" for c in checks(family, incident)]
    if planned is not None:
        verb = "First" if planned.read_only else "If the checks confirm it"
        steps.append(f"{verb}: {planned.call.tool}({_args(planned.call)}) after approval")
    if family is not None:
        steps.extend(f"Confirm: {fill(v, incident)}" for v in family.verification)
    rollback = planned.template.rollback if planned else ""
    return RunbookDraft(
        title=clip(title, 200),
        symptoms=[clip(s, 500) for s in symptoms],
        steps=[clip(s, 500) for s in steps],
        rollback=fill(rollback, incident) if rollback else "",
    )
