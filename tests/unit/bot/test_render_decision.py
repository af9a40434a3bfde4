"""The decision card: true to the package's status and approval, escaped, within the limit."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from bot.keyboards import CallbackCodec, approval_keyboard, parse_approval
from bot.playground.telegram_html import parse_html, utf16_length
from bot.render.decision import decision_card, decision_key, render_decision
from bot.render.html import MAX_MESSAGE_CHARS, visible_length
from bot.render.progress import END_STAGES, PROGRESS_STAGES, render_progress
from core.alerting.models import Incident, IncidentStatus, Severity
from core.debate.models import (
    Approval,
    ApprovalState,
    DebateStatus,
    DecisionPackage,
    Execution,
    ExecutionState,
    ReviewSummary,
    Role,
    Vote,
)
from core.llm.schemas import RiskLevel
from core.llm.types import ToolCall
from core.messages import Priority, Rendered

CODEC = CallbackCodec(bytes(range(32)))
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DECIDED = datetime(2026, 3, 2, 9, 12, tzinfo=UTC)
RUN = UUID("019b76da-7c4e-7a31-9f2b-3c5d8e1f0a42")
REQUEST = UUID("6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f")
RESTART = ToolCall(tool="restart_deployment", arguments={"name": "api", "namespace": "prod"})
WAITING = Approval(state=ApprovalState.WAITING)


def incident(**fields: object) -> Incident:
    values: dict[str, object] = {
        "id": 12,
        "group_key": "alertname=CheckoutDown|namespace=prod",
        "title": "CheckoutDown",
        "severity": Severity.CRITICAL,
        "status": IncidentStatus.FIRING,
        "source": "alertmanager",
        "created_at": AT,
        "updated_at": AT,
    }
    return Incident.model_validate(values | fields)


def package(**fields: object) -> DecisionPackage:
    values: dict[str, object] = {
        "run_id": RUN,
        "incident_id": 12,
        "recommended_action": RESTART,
        "risk_level": RiskLevel.MEDIUM,
        "requires_human_approval": True,
        "confidence": 0.72,
        "diagnosis": "api pods OOM-killed since the 08:50 deploy",
        "summary": "The Solver's restart buys time; the Critic doubts it lasts.",
        "why_human": "restart_deployment is destructive",
        "status": DebateStatus.COMPLETED,
        "review": ReviewSummary(
            reviewer_verdict=Vote.APPROVE,
            concerns=("in-flight requests are dropped",),
            objections=("the leak comes back within the hour",),
            worst_case="every pod restarts at once",
        ),
        "approval": WAITING,
        "created_at": AT,
    }
    return DecisionPackage.model_validate(values | fields)


def render(pkg: DecisionPackage, inc: Incident | None = None) -> tuple[Rendered, str]:
    """(the card, the plain text Telegram shows); raises if Telegram would refuse the HTML."""
    rendered = render_decision(pkg, inc or incident(), buttons=CODEC, approval_id=REQUEST)
    return rendered, parse_html(rendered.text)


def plain(pkg: DecisionPackage, inc: Incident | None = None) -> str:
    return render(pkg, inc)[1]


def test_a_waiting_decision_says_everything_and_offers_approve_and_reject() -> None:
    rendered, text = render(package())
    assert text == (
        "⚖️ Decision · #12 CheckoutDown\n"
        "🔴 critical incident\n"
        "Debate: ✅ completed\n"
        "\n"
        "🩺 Diagnosis (72% confidence): api pods OOM-killed since the 08:50 deploy\n"
        "The Solver's restart buys time; the Critic doubts it lasts.\n"
        "\n"
        "🛠 Proposed action: restart_deployment(name=api, namespace=prod)\n"
        "Risk: 🟡 medium\n"
        "\n"
        "🔍 Reviewer: ✅ approves\n"
        "  • in-flight requests are dropped\n"
        "😈 Critic: 1 objection\n"
        "  • the leak comes back within the hour\n"
        "  Worst case: every pod restarts at once\n"
        "\n"
        "🙋 Why a person is needed: restart_deployment is destructive\n"
        "\n"
        "✋ Waiting for an approver: nothing runs until someone presses Approve.\n"
        f"Run {RUN} · /incident 12"
    )
    assert "<code>restart_deployment(name=api, namespace=prod)</code>" in rendered.text
    # the buttons carry the approval request's single-use id, not the run's
    assert rendered.keyboard == approval_keyboard(CODEC, REQUEST)
    [row] = rendered.keyboard
    assert [parse_approval(CODEC, b.callback_data) for b in row] == [
        ("approve", REQUEST),
        ("reject", REQUEST),
    ]
    # no request open (not yet, or shadow mode): no buttons, whatever the package says
    assert render_decision(package(), incident(), buttons=CODEC).keyboard is None


# --- status ---------------------------------------------------------------------------


def test_a_degraded_debate_names_who_abstained_and_says_they_abstained() -> None:
    pkg = package(
        status=DebateStatus.DEGRADED,
        degraded_roles=(Role.REVIEWER, Role.CRITIC, Role.CRITIC),
        review=ReviewSummary(reviewer_verdict=Vote.APPROVE, objections=("stale",)),
    )
    lines = plain(pkg).splitlines()
    assert lines[2] == (
        "Debate: ⚠️ degraded — the reviewer and the critic abstained (the model failed or "
        "answered nonsense); the package stands on the other agents."
    )
    assert "🔍 Reviewer: ➖ abstained" in lines, "an abstaining reviewer never reads as approving"
    assert "😈 Critic: ➖ abstained" in lines, "nor an abstaining critic as having no objections"


def test_a_degraded_debate_without_roles_still_says_one_abstained() -> None:
    text = plain(package(status=DebateStatus.DEGRADED))
    assert "Debate: ⚠️ degraded — an agent abstained" in text


def test_a_timeout_says_the_ceiling_passed_and_a_person_decides() -> None:
    pkg = package(
        status=DebateStatus.TIMEOUT,
        degraded_roles=(Role.REVIEWER, Role.CRITIC, Role.COORDINATOR),
    )
    lines = plain(pkg).splitlines()
    assert lines[2] == (
        "Debate: ⌛ timeout — the debate's time limit (HOWL_DEBATE_TIMEOUT_S) passed before it "
        "finished, so a person decides."
    )
    assert lines[3] == "Did not answer: the reviewer, the critic and the coordinator."


def test_a_failed_debate_says_so_and_that_a_person_decides() -> None:
    pkg = package(
        status=DebateStatus.FAILED,
        recommended_action=None,
        confidence=0.0,
        diagnosis="",
        summary="",
        degraded_roles=(Role.DIAGNOSTICIAN,),
        approval=Approval(state=ApprovalState.NOT_NEEDED),
    )
    rendered, text = render(pkg)
    lines = text.splitlines()
    assert (
        lines[2] == "Debate: ❌ failed — the debate hit an unexpected error, so a person decides."
    )
    assert lines[3] == "Did not answer: the diagnostician."
    assert "🩺 Diagnosis (0% confidence): none given" in lines
    assert "🛠 Proposed action: no action proposed" in lines
    assert rendered.keyboard is None


def test_a_completed_debate_has_no_abstention_line() -> None:
    assert "Did not answer" not in plain(package(degraded_roles=(Role.CRITIC,)))


@pytest.mark.parametrize("status", list(DebateStatus))
def test_every_status_renders_its_name(status: DebateStatus) -> None:
    assert plain(package(status=status)).splitlines()[2].startswith("Debate: ")
    assert status.value in plain(package(status=status)).splitlines()[2]


@pytest.mark.parametrize(
    ("confidence", "shown"), [(0.0, "0%"), (0.005, "1%"), (0.724, "72%"), (1.0, "100%")]
)
def test_confidence_is_a_percentage(confidence: float, shown: str) -> None:
    assert f"🩺 Diagnosis ({shown} confidence): " in plain(package(confidence=confidence))


@pytest.mark.parametrize(
    ("risk", "line"),
    [
        (RiskLevel.LOW, "Risk: 🟢 low"),
        (RiskLevel.MEDIUM, "Risk: 🟡 medium"),
        (RiskLevel.HIGH, "Risk: 🟠 high"),
        (RiskLevel.CRITICAL, "Risk: 🔴 critical"),
    ],
)
def test_risk_level(risk: RiskLevel, line: str) -> None:
    assert line in plain(package(risk_level=risk)).splitlines()


@pytest.mark.parametrize(
    ("vote", "said"),
    [
        (Vote.APPROVE, "✅ approves"),
        (Vote.REVISE, "✏️ asks for a revision"),
        (Vote.REJECT, "❌ rejects"),
        (Vote.ABSTAIN, "➖ abstained"),
    ],
)
def test_the_reviewers_verdict(vote: Vote, said: str) -> None:
    pkg = package(review=ReviewSummary(reviewer_verdict=vote))
    lines = plain(pkg).splitlines()
    assert f"🔍 Reviewer: {said}" in lines
    assert "😈 Critic: no objections" in lines


def test_many_concerns_and_objections_are_counted_not_all_listed() -> None:
    review = ReviewSummary(
        reviewer_verdict=Vote.REVISE,
        concerns=tuple(f"concern {i}" for i in range(5)),
        objections=tuple(f"objection {i}" for i in range(4)),
    )
    lines = plain(package(review=review)).splitlines()
    assert [line for line in lines if line.startswith("  • concern")] == [
        "  • concern 0",
        "  • concern 1",
        "  • concern 2",
    ]
    assert "  +2 more concerns" in lines
    assert "😈 Critic: 4 objections" in lines
    assert "  +1 more objections" in lines
    assert not any("Worst case" in line for line in lines)


def test_blocked_reason_and_why_a_person_is_needed() -> None:
    pkg = package(blocked_reason="anti-pattern on record: restart_deployment failed on 1 Mar")
    lines = plain(pkg).splitlines()
    assert "🙋 Why a person is needed: restart_deployment is destructive" in lines
    assert "⛔ Blocked: anti-pattern on record: restart_deployment failed on 1 Mar" in lines


def test_no_why_and_no_block_means_neither_line() -> None:
    text = plain(package(why_human="", blocked_reason="  "))
    assert "Why a person" not in text and "Blocked" not in text


def test_an_action_without_arguments_and_one_with_many() -> None:
    bare = plain(package(recommended_action=ToolCall(tool="flush_cache")))
    assert "🛠 Proposed action: flush_cache()" in bare
    assert "cut to fit" not in bare
    many = ToolCall(tool="t", arguments={f"k{i}": str(i) for i in range(9)})
    lines = plain(package(recommended_action=many)).splitlines()
    at = lines.index("🛠 Proposed action: t(k0=0, k1=1, k2=2, k3=3, k4=4, k5=5, +3 more)")
    assert lines[at + 1] == f"(cut to fit: GET /api/runs/{RUN} shows the whole call)"


def test_a_long_argument_value_is_cut_and_the_card_says_so() -> None:
    long = ToolCall(tool="t", arguments={"name": "a" * 100, "ns": "b" * 101})
    lines = plain(package(recommended_action=long)).splitlines()
    at = lines.index(f"🛠 Proposed action: t(name={'a' * 100}, ns={'b' * 99}…)")
    assert lines[at + 1] == f"(cut to fit: GET /api/runs/{RUN} shows the whole call)"


def test_an_argument_can_neither_pose_as_more_arguments_nor_hide_a_character() -> None:
    """The approver sees each value exactly: quoted and spelled out when it is not a token."""
    sneaky = ToolCall(
        tool="restart_deployment",
        arguments={"name": "api, namespace=kube-system", "namespace": 'prod\u202e\n"x\\'},
    )
    line = next(
        line
        for line in plain(package(recommended_action=sneaky)).splitlines()
        if line.startswith("🛠")
    )
    assert line == (
        "🛠 Proposed action: restart_deployment("
        'name="api, namespace=kube-system", namespace="prod\\u202e\\n\\"x\\\\")'
    )


def test_model_line_breaks_do_not_break_the_layout() -> None:
    pkg = package(diagnosis="first\n\nsecond", summary="a\nb", why_human="x\r\ny")
    lines = plain(pkg).splitlines()
    assert "🩺 Diagnosis (72% confidence): first second" in lines
    assert "a b" in lines
    assert "🙋 Why a person is needed: x y" in lines


def test_a_package_of_another_incident_is_refused() -> None:
    with pytest.raises(ValueError, match="package of #13 rendered for #12"):
        render_decision(package(incident_id=13), incident(), buttons=CODEC)
    with pytest.raises(ValueError, match="package of #13 rendered for #12"):
        decision_card(package(incident_id=13), incident(), chat_id=-100, buttons=CODEC)


# --- approval -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approval", "line"),
    [
        (
            Approval(state=ApprovalState.APPROVED, by=("Alice",), at=DECIDED),
            "✅ Approved by Alice at 2026-03-02 09:12 UTC",
        ),
        (
            Approval(state=ApprovalState.APPROVED, by=("Alice", "Bob"), at=DECIDED),
            "✅ Approved by Alice and Bob at 2026-03-02 09:12 UTC",
        ),
        (
            Approval(state=ApprovalState.REJECTED, by=("Bob",), at=DECIDED),
            "❌ Rejected by Bob at 2026-03-02 09:12 UTC: nothing ran.",
        ),
        (
            Approval(state=ApprovalState.EXPIRED, at=DECIDED),
            "⌛ Expired at 2026-03-02 09:12 UTC: nobody approved in time, so nothing ran.",
        ),
        (
            Approval(state=ApprovalState.NOT_NEEDED),
            "🤖 No approval needed: policy lets this action run without asking.",
        ),
    ],
)
def test_a_decided_card_says_who_and_when_and_has_no_buttons(approval: Approval, line: str) -> None:
    rendered, text = render(package(approval=approval))
    assert text.splitlines()[-2] == line
    assert rendered.keyboard is None
    assert "Waiting" not in text


def test_nothing_to_approve_without_an_action() -> None:
    for state in (ApprovalState.NOT_NEEDED, ApprovalState.WAITING):
        pkg = package(recommended_action=None, approval=Approval(state=state))
        rendered, text = render(pkg)
        assert text.splitlines()[-2] == "ℹ️ Nothing to approve: no action proposed."
        assert rendered.keyboard is None, "no buttons without an action, whatever the state"


def test_critical_risk_asks_for_two_approvers_and_counts_the_first() -> None:
    pkg = package(
        risk_level=RiskLevel.CRITICAL,
        approval=Approval(state=ApprovalState.WAITING, by=("Alice",), at=DECIDED),
    )
    rendered, text = render(pkg)
    assert text.splitlines()[-4:-1] == [
        "✋ Waiting for an approver: nothing runs until someone presses Approve.",
        "Critical risk: two different approvers must approve.",
        "Approved so far by Alice; one more approver is needed.",
    ]
    assert rendered.keyboard == approval_keyboard(CODEC, REQUEST)


@pytest.mark.parametrize("state", list(ApprovalState))
def test_buttons_only_while_an_action_waits(state: ApprovalState) -> None:
    rendered, _ = render(package(approval=Approval(state=state)))
    expected = approval_keyboard(CODEC, REQUEST) if state is ApprovalState.WAITING else None
    assert rendered.keyboard == expected


# --- hostile text ------------------------------------------------------------------------

HOSTILE = (
    "<script>alert(1)</script> & <b>x</b> &amp; &lt;i&gt; &#x41; <tg-spoiler>s</tg-spoiler>"
    ' <a href="https://evil.example">click</a> <code>c</code> <pre>'
)


def cut(text: str, limit: int) -> str:
    """What `truncate` shows of a text longer than `limit`."""
    assert len(text) > limit
    return text[: limit - 1] + "…"


def test_every_model_and_alert_supplied_string_is_escaped() -> None:
    pkg = package(
        recommended_action=ToolCall(tool=HOSTILE, arguments={HOSTILE: HOSTILE}),
        diagnosis=HOSTILE,
        summary=HOSTILE,
        why_human=HOSTILE,
        blocked_reason=HOSTILE,
        status=DebateStatus.DEGRADED,
        review=ReviewSummary(
            reviewer_verdict=Vote.REJECT,
            concerns=(HOSTILE,),
            objections=(HOSTILE,),
            worst_case=HOSTILE,
        ),
        approval=Approval(state=ApprovalState.APPROVED, by=(HOSTILE,), at=DECIDED),
    )
    rendered, text = render(pkg, incident(title=HOSTILE))  # parse_html raises on a bad tag or &
    html = rendered.text
    for raw in ("<script>", "<tg-spoiler>", "<a ", "<pre>", "&#x41;", "<b>x"):
        assert raw not in html
    assert "&amp;lt;i&amp;gt;" in html, "an entity typed by the model is escaped again"
    assert html.count("<b>") == html.count("</b>")
    assert html.count("<code>") == html.count("</code>")
    # the text reads as the model wrote it, in every place it appears
    lines = text.splitlines()
    assert lines[0] == f"⚖️ Decision · #12 {cut(HOSTILE, 120)}", "the title is cut at 120"
    assert f"🩺 Diagnosis (72% confidence): {HOSTILE}" in lines
    assert HOSTILE in lines
    quoted = '"' + HOSTILE.replace('"', '\\"') + '"'  # an argument with spaces is quoted
    action = f"{cut(quoted, 64)}({cut(quoted, 32)}={cut(quoted, 100)})"
    assert f"🛠 Proposed action: {action}" in lines
    assert f"  • {HOSTILE}" in lines and lines.count(f"  • {HOSTILE}") == 2
    assert f"  Worst case: {HOSTILE}" in lines
    assert f"🙋 Why a person is needed: {HOSTILE}" in lines
    assert f"⛔ Blocked: {HOSTILE}" in lines
    assert f"✅ Approved by {cut(HOSTILE, 48)} at 2026-03-02 09:12 UTC" in lines
    # title, diagnosis, summary, tool, argument value, concern, objection, worst case, why, block
    assert text.count("&#x41;") == 10, "an entity the model typed is shown, not decoded"


def test_invisible_characters_are_dropped() -> None:
    pkg = package(
        diagnosis="disk\u202e full\u200b", approval=Approval(state="approved", by=("A\u200bl",))
    )
    text = plain(pkg)
    assert "🩺 Diagnosis (72% confidence): disk full" in text
    assert "✅ Approved by Al" in text
    assert "\u202e" not in text and "\u200b" not in text


# --- length --------------------------------------------------------------------------------


def huge(seed: str) -> str:
    return (seed + " &<🔥") * 3000


def huge_package(**fields: object) -> DecisionPackage:
    values: dict[str, object] = {
        "recommended_action": ToolCall(
            tool=huge("tool"), arguments={huge(f"k{i}"): huge(f"v{i}") for i in range(20)}
        ),
        "diagnosis": huge("diagnosis"),
        "summary": huge("summary"),
        "why_human": huge("why"),
        "blocked_reason": huge("blocked"),
        "status": DebateStatus.TIMEOUT,
        "degraded_roles": (Role.SOLVER, Role.COORDINATOR) * 10,
        "review": ReviewSummary(
            reviewer_verdict=Vote.REVISE,
            concerns=tuple(huge(f"c{i}") for i in range(50)),
            objections=tuple(huge(f"o{i}") for i in range(50)),
            worst_case=huge("worst"),
        ),
        "risk_level": RiskLevel.CRITICAL,
        "approval": Approval(state="waiting", by=tuple(huge(f"n{i}") for i in range(30))),
    }
    return package(**(values | fields))


@pytest.mark.parametrize("state", [ApprovalState.WAITING, ApprovalState.REJECTED])
def test_a_huge_package_stays_within_the_message_limit(state: ApprovalState) -> None:
    approval = Approval(state=state, by=tuple(huge(f"n{i}") for i in range(30)), at=DECIDED)
    rendered, text = render(huge_package(approval=approval), incident(title=huge("title")))
    assert visible_length(rendered.text) <= MAX_MESSAGE_CHARS
    assert utf16_length(text) <= MAX_MESSAGE_CHARS
    assert utf16_length(text) > MAX_MESSAGE_CHARS - 1500, "the space is used"
    lines = text.splitlines()
    # every part is still there, each cut
    for start in ("🩺 Diagnosis", "🛠 Proposed action", "🔍 Reviewer", "😈 Critic: 50 objections"):
        assert any(line.startswith(start) for line in lines), start
    assert "  +47 more concerns" in lines and "  +47 more objections" in lines
    assert f"(cut to fit: GET /api/runs/{RUN} shows the whole call)" in lines
    assert any(line.startswith("⛔ Blocked: blocked") and line.endswith("…") for line in lines)
    assert lines[-1] == f"Run {RUN} · /incident 12", "the state and the run are never cut"
    if state is ApprovalState.WAITING:
        assert lines[-2].endswith("; one more approver is needed.")
        assert rendered.keyboard is not None
    else:
        assert lines[-2].startswith("❌ Rejected by n0") and "25 more" in lines[-2]
        assert rendered.keyboard is None


def test_the_last_resort_cuts_the_body_and_keeps_the_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # with no room to shrink the budgets, the card still fits and says it was cut
    monkeypatch.setattr("bot.render.decision.SCALES", (1.0,))
    text = plain(huge_package(), incident(title=huge("title")))
    assert utf16_length(text) <= MAX_MESSAGE_CHARS
    lines = text.splitlines()
    assert any(line.endswith("more line(s) not shown (message limit)") for line in lines)
    assert lines[0].startswith("⚖️ Decision · #12 title")
    assert lines[-1] == f"Run {RUN} · /incident 12"
    assert lines[-2].endswith("; one more approver is needed.")


# --- the card ------------------------------------------------------------------------------


def test_decision_card() -> None:
    pkg = package()
    card = decision_card(pkg, incident(), chat_id=-100, buttons=CODEC)
    assert card.key == decision_key(RUN) == f"decision:{RUN}"
    assert card.chat_id == -100
    assert card.content == render_decision(pkg, incident(), buttons=CODEC)
    assert card.priority == Priority.URGENT_DECISION, "a critical incident's"
    assert not card.closed, "a waiting decision gets its own message after a storm"
    assert card.digest_line is not None
    assert parse_html(card.digest_line) == (
        "⚖️ #12 CheckoutDown: proposes restart_deployment — ✋ waits for an approver"
    )


def test_a_decided_card_is_closed_and_its_digest_line_says_no_action() -> None:
    pkg = package(recommended_action=None, approval=Approval(state="not_needed"))
    card = decision_card(pkg, incident(title="<x>"), chat_id=-100, buttons=CODEC)
    assert card.closed
    assert parse_html(card.digest_line or "") == "⚖️ #12 <x>: no action proposed"


def test_a_warnings_decision_is_not_urgent() -> None:
    warning = incident().model_copy(update={"severity": Severity.WARNING})
    card = decision_card(package(), warning, chat_id=-100, buttons=CODEC)
    assert card.priority == Priority.DECISION


def test_a_decision_announces_after_a_new_incident_and_before_edits() -> None:
    assert Priority.CARD_NEW < Priority.URGENT_DECISION < Priority.DECISION < Priority.CARD_UPDATE
    for decision in (Priority.URGENT_DECISION, Priority.DECISION):
        assert Priority.announces(decision)
        assert not Priority.announces_incident(decision), "never folded into a storm digest"


def test_a_card_that_cannot_be_rendered_keeps_its_buttons_and_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> Rendered:
        raise ValueError("a text nobody foresaw")

    monkeypatch.setattr("bot.render.decision.render_decision", broken)
    card = decision_card(package(), incident(), chat_id=-100, buttons=CODEC, approval_id=REQUEST)
    text = parse_html(card.content.text)
    assert text.splitlines() == [
        "⚖️ Decision · #12",
        "Details could not be shown; see /incident 12.",
        "✋ Waiting for an approver: nothing runs until someone presses Approve.",
    ]
    assert card.content.keyboard == approval_keyboard(CODEC, REQUEST)


# --- progress --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "elapsed", "line"),
    [
        ("queued", 0.2, "⏳ queued… 0 s"),
        ("diagnosing", 12.7, "🧠 diagnosing… 12 s"),
        ("solving", 30.0, "🛠 solving… 30 s"),
        ("reviewing", 41.0, "🔍 reviewing… 41 s"),
        ("deciding", 59.9, "⚖️ deciding… 59 s"),
        ("posted", 61.0, "⚖️ decision posted"),
        ("timeout", 260.4, "⌛ timed out after 260 s — a person decides"),
        ("failed", 3.0, "❌ failed — a person decides"),
        ("diagnosing", -2.0, "🧠 diagnosing… 0 s"),
    ],
)
def test_progress_lines(stage: str, elapsed: float, line: str) -> None:
    html = render_progress(stage, elapsed)
    assert "\n" not in html
    assert parse_html(html) == line


def test_every_known_stage_has_a_line() -> None:
    for stage in (*PROGRESS_STAGES, *END_STAGES):
        assert parse_html(render_progress(stage, 1.0))


def test_an_unknown_stage_is_shown_escaped() -> None:
    html = render_progress("<b>new</b> & stage\n2", 5.0)
    assert parse_html(html) == "⚙️ <b>new</b> & stage 2… 5 s"


# --- execution ---------------------------------------------------------------------------

APPROVED = Approval(state=ApprovalState.APPROVED, by=("Alice",), at=DECIDED)


@pytest.mark.parametrize(
    ("execution", "lines"),
    [
        (
            Execution(state=ExecutionState.RUNNING, started_at=DECIDED),
            ["⚙️ Running restart_deployment since 2026-03-02 09:12 UTC…"],
        ),
        (
            Execution(
                state=ExecutionState.SUCCEEDED,
                started_at=DECIDED,
                exit_code=0,
                duration_s=2.04,
                stdout="\n".join(f"line {i}" for i in range(1, 31)),
            ),
            [
                "✅ Ran restart_deployment: exit 0 in 2.0 s.",
                *(f"line {i}" for i in range(23, 31)),
            ],
        ),
        (
            Execution(
                state=ExecutionState.FAILED,
                started_at=DECIDED,
                exit_code=3,
                duration_s=0.5,
                reason="exited with status 3",
                stderr="<pod> api-1 not found",
            ),
            [
                "❌ Failed restart_deployment: exited with status 3 (exit 3, 0.5 s).",
                "The incident stays open.",
                "<pod> api-1 not found",
            ],
        ),
        (
            Execution(
                state=ExecutionState.TIMED_OUT,
                started_at=DECIDED,
                duration_s=10.0,
                reason="killed after 10s",
            ),
            [
                "❌ Timed out restart_deployment: killed after 10s (no exit status, 10.0 s).",
                "The incident stays open.",
            ],
        ),
    ],
)
def test_the_card_follows_the_action_to_its_result(execution: Execution, lines: list[str]) -> None:
    rendered, text = render(package(approval=APPROVED, execution=execution))
    shown = text.splitlines()
    at = shown.index("✅ Approved by Alice at 2026-03-02 09:12 UTC")
    assert shown[at + 1 : -1] == lines
    assert rendered.keyboard is None, "nothing to press once decided"


def test_a_rejected_card_shows_the_reason() -> None:
    rejected = Approval(state=ApprovalState.REJECTED, by=("Bob",), at=DECIDED, reason="not <now>")
    _, text = render(package(approval=rejected))
    assert text.splitlines()[-3:-1] == [
        "❌ Rejected by Bob at 2026-03-02 09:12 UTC: nothing ran.",
        "Reason: not <now>",
    ]
