"""The decision card: what the debate concluded, and the buttons when an action waits.

Guarantees: every string a model or an alert supplied is escaped (and cut, so
the card stays within Telegram's 4096 characters after entity parsing); the
proposed action's arguments are shown as they would run (`literal`: quoted and
spelled out, so a value can neither pose as another argument nor hide a
character); the approval state is always shown, whatever had to be cut above
it; Approve /
Reject appear only while an action waits for a person (carrying its approval
request's id), and a decided card names who decided and when, then what the
action did (running; exit status, duration and the last lines of output).
The incident card's progress line while the debate runs is `bot.render.progress`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import structlog

from bot.keyboards import CallbackCodec, approval_keyboard
from bot.render.html import (
    MAX_MESSAGE_CHARS,
    code,
    esc,
    fit_lines,
    literal,
    spelled_out,
    truncate,
    visible_length,
)
from bot.render.incident import SEVERITY_ICON, clock, plural
from core.alerting.models import Incident, Severity
from core.debate.models import (
    ApprovalState,
    DebateStatus,
    DecisionPackage,
    ExecutionState,
    ReviewSummary,
    Role,
    Vote,
)
from core.llm.schemas import RiskLevel
from core.llm.types import ToolCall
from core.messages import Card, Keyboard, Priority, Rendered

log = structlog.get_logger(__name__)

RISK_ICON = {
    RiskLevel.LOW: "🟢",
    RiskLevel.MEDIUM: "🟡",
    RiskLevel.HIGH: "🟠",
    RiskLevel.CRITICAL: "🔴",
}
STATUS_ICON = {
    DebateStatus.COMPLETED: "✅",
    DebateStatus.DEGRADED: "⚠️",
    DebateStatus.TIMEOUT: "⌛",
    DebateStatus.FAILED: "❌",
}
VERDICT = {
    Vote.APPROVE: "✅ approves",
    Vote.REVISE: "✏️ asks for a revision",
    Vote.REJECT: "❌ rejects",
    Vote.ABSTAIN: "➖ abstained",
}
#: the card lists at most this many concerns, objections, arguments and approvers
MAX_ITEMS = 3
MAX_ARGUMENTS = 6
MAX_NAMES = 5
#: budgets shrink by these factors until the card fits (emoji count twice in UTF-16)
SCALES = (1.0, 0.7, 0.5, 0.35, 0.25)


@dataclass(frozen=True)
class _Budget:
    """Visible characters per field at full size; `at(scale)` shrinks the free texts."""

    title: int = 120
    diagnosis: int = 400
    summary: int = 700
    tool: int = 64
    arg_name: int = 32
    arg_value: int = 100
    item: int = 240
    worst_case: int = 300
    why_human: int = 400
    blocked: int = 300
    name: int = 48

    def at(self, scale: float) -> _Budget:
        return _Budget(**{k: max(int(v * scale), 8) for k, v in self.__dict__.items()})


def decision_key(run_id: UUID) -> str:
    """The decision card's key: one card per run."""
    return f"decision:{run_id}"


def _flat(value: object) -> str:
    """Model text on one line: its line breaks would break the card's layout."""
    return " ".join(str(value).split())


def _clip(value: object, limit: int) -> str:
    return truncate(_flat(value), limit)


def _names(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def percent(confidence: float) -> str:
    """Confidence as a whole percentage.

    >>> percent(0.725), percent(1.0), percent(0.004)
    ('73%', '100%', '0%')
    """
    return f"{int(confidence * 100 + 0.5)}%"


def action_is_cut(action: ToolCall | None, budget: _Budget = _Budget()) -> bool:
    """Whether `action_text` shows less than the whole call (the approver should know)."""
    if action is None:
        return False
    names = [(action.tool, budget.tool)]
    names += [(k, budget.arg_name) for k in action.arguments]
    names += [(v, budget.arg_value) for v in action.arguments.values()]
    too_long = any(len(spelled_out(text)) > limit for text, limit in names)
    return too_long or len(action.arguments) > MAX_ARGUMENTS


def action_text(action: ToolCall | None, budget: _Budget = _Budget()) -> str:
    """`tool(arg=value, ...)` as escaped HTML, or that there is none.

    >>> action_text(ToolCall(tool="restart", arguments={"name": "api", "ns": "a&b"}))
    '<code>restart(name=api, ns="a&amp;b")</code>'
    >>> action_text(None)
    'no action proposed'
    """
    if action is None:
        return "no action proposed"
    items = list(action.arguments.items())
    shown = [
        f"{literal(k, budget.arg_name)}={literal(v, budget.arg_value)}"
        for k, v in items[:MAX_ARGUMENTS]
    ]
    if len(items) > MAX_ARGUMENTS:
        shown.append(f"+{len(items) - MAX_ARGUMENTS} more")
    return f"<code>{literal(action.tool, budget.tool)}({', '.join(shown)})</code>"


def _roles(roles: Sequence[Role]) -> str:
    unique = list(dict.fromkeys(roles))
    return _names([f"the {role.value}" for role in unique])


def status_lines(package: DecisionPackage) -> list[str]:
    """The debate's status; for anything but a clean run, plainly what happened."""
    status = package.status
    line = f"Debate: {STATUS_ICON[status]} <b>{status.value}</b>"
    abstained = _roles(package.degraded_roles)
    if status is DebateStatus.DEGRADED:
        who = abstained or "an agent"
        return [
            f"{line} — {who} abstained (the model failed or answered nonsense); "
            "the package stands on the other agents."
        ]
    lines = [line]
    if status is DebateStatus.TIMEOUT:
        lines[0] += (
            " — the debate's time limit (HOWL_DEBATE_TIMEOUT_S) passed before it finished,"
            " so a person decides."
        )
    elif status is DebateStatus.FAILED:
        lines[0] += " — the debate hit an unexpected error, so a person decides."
    if abstained and status is not DebateStatus.COMPLETED:
        lines.append(f"Did not answer: {abstained}.")
    return lines


def _listed(title: str, items: Sequence[str], limit: int) -> list[str]:
    shown = [f"  • {_clip(item, limit)}" for item in items[:MAX_ITEMS] if _flat(item)]
    if len(items) > MAX_ITEMS:
        shown.append(f"  <i>+{len(items) - MAX_ITEMS} more {title}</i>")
    return shown


def review_lines(
    review: ReviewSummary, budget: _Budget, *, abstained: Sequence[Role] = ()
) -> list[str]:
    """The Reviewer's vote and concerns; the Critic's objections and worst case.

    A role that abstained says so, rather than "approves" or "no objections".
    """
    verdict = Vote.ABSTAIN if Role.REVIEWER in abstained else review.reviewer_verdict
    lines = [f"🔍 <b>Reviewer</b>: {VERDICT[verdict]}"]
    lines.extend(_listed("concerns", review.concerns, budget.item))
    if Role.CRITIC in abstained:
        lines.append(f"😈 <b>Critic</b>: {VERDICT[Vote.ABSTAIN]}")
    elif review.objections or _flat(review.worst_case):
        lines.append(f"😈 <b>Critic</b>: {plural(len(review.objections), 'objection')}")
        lines.extend(_listed("objections", review.objections, budget.item))
        if worst := _flat(review.worst_case):
            lines.append(f"  Worst case: {truncate(worst, budget.worst_case)}")
    else:
        lines.append("😈 <b>Critic</b>: no objections")
    return lines


def approval_lines(package: DecisionPackage, budget: _Budget) -> list[str]:
    """Who decided and when, or that the action waits (and for how many approvers)."""
    approval = package.approval
    names = [_clip(name, budget.name) for name in approval.by[:MAX_NAMES]]
    if len(approval.by) > MAX_NAMES:
        names.append(f"{len(approval.by) - MAX_NAMES} more")
    by = f" by {_names(names)}" if names else ""
    at = f" at {clock(approval.at)}" if approval.at else ""
    state = approval.state
    if package.waits_for_approval:
        lines = ["✋ <b>Waiting for an approver</b>: nothing runs until someone presses Approve."]
        if package.risk_level is RiskLevel.CRITICAL:
            lines.append("Critical risk: two different approvers must approve.")
        if names:
            lines.append(f"Approved so far{by}; one more approver is needed.")
        return lines
    if state is ApprovalState.APPROVED:
        return [f"✅ <b>Approved</b>{by}{at}"]
    if state is ApprovalState.REJECTED:
        lines = [f"❌ <b>Rejected</b>{by}{at}: nothing ran."]
        if approval.reason:
            lines.append(f"Reason: {_clip(approval.reason, budget.why_human)}")
        return lines
    if state is ApprovalState.EXPIRED:
        return [f"⌛ <b>Expired</b>{at}: nobody approved in time, so nothing ran."]
    if package.recommended_action is not None:
        return ["🤖 <b>No approval needed</b>: policy lets this action run without asking."]
    return ["ℹ️ Nothing to approve: no action proposed."]


#: the last lines of an action's output the card shows (the JSON view keeps more)
OUTPUT_LINES = 8
OUTPUT_CHARS = 600


def _tail_of(text: str) -> str:
    lines = text.rstrip("\n").splitlines()[-OUTPUT_LINES:]
    kept = "\n".join(lines)
    return kept if len(kept) <= OUTPUT_CHARS else "…" + kept[-OUTPUT_CHARS:]


def execution_lines(package: DecisionPackage, scale: float = 1.0) -> list[str]:
    """What the approved action is doing, or did: status, exit code, duration, last output."""
    run = package.execution
    if run is None:
        return []
    tool = code(_flat(package.recommended_action.tool)[:64]) if package.recommended_action else ""
    if run.state is ExecutionState.RUNNING:
        return [f"⚙️ <b>Running</b> {tool} since {clock(run.started_at)}…"]
    took = f"{run.duration_s:.1f} s" if run.duration_s is not None else "?"
    exit_code = f"exit {run.exit_code}" if run.exit_code is not None else "no exit status"
    if run.state is ExecutionState.SUCCEEDED:
        lines = [f"✅ <b>Ran</b> {tool}: {exit_code} in {took}."]
    else:
        what = EXECUTION_FAILURE[run.state]
        reason = f": {_clip(run.reason, 200)}" if run.reason else ""
        lines = [
            f"❌ <b>{what}</b> {tool}{reason} ({exit_code}, {took}).",
            "The incident stays open.",
        ]
    output = "\n".join(part for part in (run.stdout, run.stderr) if part.strip())
    if output and scale >= 0.5:
        lines.append(f"<pre>{esc(_tail_of(output))}</pre>")
    return lines


EXECUTION_FAILURE = {
    ExecutionState.FAILED: "Failed",
    ExecutionState.TIMED_OUT: "Timed out",
    ExecutionState.REFUSED: "Refused before running",
}


def _head(package: DecisionPackage, incident: Incident, budget: _Budget) -> list[str]:
    return [
        f"⚖️ <b>Decision · #{incident.id} {truncate(incident.title, budget.title)}</b>",
        f"{SEVERITY_ICON[incident.severity]} {incident.severity.value} incident",
        *status_lines(package),
    ]


def _body(package: DecisionPackage, budget: _Budget) -> list[str]:
    lines = [
        "",
        f"🩺 <b>Diagnosis</b> ({percent(package.confidence)} confidence): "
        f"{_clip(package.diagnosis, budget.diagnosis) or 'none given'}",
    ]
    if summary := _clip(package.summary, budget.summary):
        lines.append(summary)
    lines += [
        "",
        f"🛠 <b>Proposed action</b>: {action_text(package.recommended_action, budget)}",
        *(
            [f"<i>(cut to fit: GET /api/runs/{package.run_id} shows the whole call)</i>"]
            if action_is_cut(package.recommended_action, budget)
            else []
        ),
        f"Risk: {RISK_ICON[package.risk_level]} <b>{package.risk_level.value}</b>",
        "",
        *review_lines(package.review, budget, abstained=package.degraded_roles),
    ]
    why = _clip(package.why_human, budget.why_human)
    blocked = _clip(package.blocked_reason or "", budget.blocked)
    if why or blocked:
        lines.append("")
    if why:
        lines.append(f"🙋 <b>Why a person is needed</b>: {why}")
    if blocked:
        lines.append(f"⛔ <b>Blocked</b>: {blocked}")
    return lines


def _tail(
    package: DecisionPackage, incident: Incident, budget: _Budget, scale: float = 1.0
) -> list[str]:
    return [
        "",
        *approval_lines(package, budget),
        *execution_lines(package, scale),
        f"<i>Run {code(package.run_id)} · /incident {incident.id}</i>",
    ]


def _same_incident(package: DecisionPackage, incident: Incident) -> None:
    """A run's buttons on another incident's card would ask the wrong question: refused."""
    if package.incident_id != incident.id:
        raise ValueError(f"package of #{package.incident_id} rendered for #{incident.id}")


def _keyboard(
    package: DecisionPackage, buttons: CallbackCodec, approval_id: UUID | None
) -> Keyboard | None:
    """Approve / Reject while the action waits and its request is open; none otherwise."""
    if not package.waits_for_approval or approval_id is None:
        return None
    return approval_keyboard(buttons, approval_id)


def render_decision(
    package: DecisionPackage,
    incident: Incident,
    *,
    buttons: CallbackCodec,
    approval_id: UUID | None = None,
) -> Rendered:
    """The decision card: the whole package, cut to fit, with Approve / Reject while it waits
    (the buttons carry the approval request's id, `approval_id`)."""
    _same_incident(package, incident)
    keyboard = _keyboard(package, buttons, approval_id)
    for scale in SCALES:
        budget = _Budget().at(scale)
        head, body, tail = (
            _head(package, incident, budget),
            _body(package, budget),
            _tail(package, incident, budget, scale),
        )
        text = "\n".join([*head, *body, *tail])
        if visible_length(text) <= MAX_MESSAGE_CHARS:
            return Rendered(text=text, keyboard=keyboard)
    # still too long (nothing foreseen gets here): cut the body, never the head or the state
    ends = "\n".join(head), "\n".join(tail)
    room = MAX_MESSAGE_CHARS - sum(visible_length(end) for end in ends) - 2
    text = "\n".join([ends[0], fit_lines(body, limit=room), ends[1]])
    return Rendered(text=text, keyboard=keyboard)


def decision_digest_line(package: DecisionPackage, incident: Incident) -> str:
    """One line for a storm digest: which incident, what is proposed, whether it waits."""
    action = package.recommended_action
    proposed = f"proposes {code(_flat(action.tool)[:40])}" if action else "no action proposed"
    waits = " — ✋ waits for an approver" if package.waits_for_approval else ""
    return f"⚖️ #{incident.id} {truncate(incident.title, 80)}: {proposed}{waits}"


def _priority(incident: Incident) -> Priority:
    """A critical incident's decision may use the slots kept for critical announcements."""
    urgent = incident.severity is Severity.CRITICAL
    return Priority.URGENT_DECISION if urgent else Priority.DECISION


def decision_card(
    package: DecisionPackage,
    incident: Incident,
    *,
    chat_id: int,
    buttons: CallbackCodec,
    approval_id: UUID | None = None,
) -> Card:
    """The card to queue; the outbox sends it the first time and edits it after.

    It is closed (needs nobody) once nothing waits for an approver, so after a
    storm only a waiting decision gets a message of its own.
    """
    _same_incident(package, incident)  # a bug, not a text to work around: never a fallback
    try:
        content = render_decision(package, incident, buttons=buttons, approval_id=approval_id)
    except Exception:
        # the package reached us, so the team must see it even if one of its texts broke us
        log.exception("decision_render_failed", run_id=str(package.run_id))
        keyboard = _keyboard(package, buttons, approval_id)
        hint = f"<i>Details could not be shown; see /incident {incident.id}.</i>"
        lines = [f"⚖️ <b>Decision · #{incident.id}</b>", hint, *approval_lines(package, _Budget())]
        content = Rendered(text="\n".join(lines), keyboard=keyboard)
    return Card(
        key=decision_key(package.run_id),
        chat_id=chat_id,
        content=content,
        priority=_priority(incident),
        closed=not package.waits_for_approval,
        digest_line=decision_digest_line(package, incident),
    )
