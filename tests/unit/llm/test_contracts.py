"""JSON extraction, self-grading detection, contract parsing, repair prompts, safe fallbacks."""

from __future__ import annotations

import pytest

from core.llm.contracts import (
    REPAIR_EXCERPT_CHARS,
    extract_json,
    find_self_grading,
    parse_answer,
    repair_messages,
    safe_fallback,
)
from core.llm.errors import ContractError
from core.llm.schemas import (
    TASK_SCHEMAS,
    ChatAnswer,
    Critique,
    DecisionDraft,
    DriftReading,
    Proposal,
    Review,
    RiskLevel,
    RunbookDraft,
    ToolChoice,
)
from core.llm.types import ChatMessage, ChatRequest, Task, ToolCall


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('  \n{"a": [1, 2]}\n', {"a": [1, 2]}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('```\n{"a": 1}\n```', {"a": 1}),
        ('```JSON\n{"a": 1}\n```', {"a": 1}),
        ('```json {"a": 1}```', {"a": 1}),
        ('Sure! Here it is:\n```json\n{"a": "b"}\n```\nAnything else?', {"a": "b"}),
        ('My answer is {"a": {"b": 2}} and that is final.', {"a": {"b": 2}}),
        ('Braces in strings: {"a": "}{", "b": "\\"}"} done', {"a": "}{", "b": '"}'}),
        ('He said "hi {there" then {"ok": true}', {"ok": True}),
        ('{not json} but then {"x": 1}', {"x": 1}),
        ('[1, 2] and {"x": 1}', {"x": 1}),
    ],
)
def test_extract_json_finds_the_object(text: str, expected: dict[str, object]) -> None:
    assert extract_json(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty answer: expected one JSON object"),
        ("   ", "empty answer: expected one JSON object"),
        ("no json here", "no JSON object found in the answer"),
        ("[1, 2, 3]", "no JSON object found in the answer"),
        ('{"a": 1', "no JSON object found in the answer"),
        ("{'a': 1}", "no JSON object found in the answer"),
    ],
)
def test_extract_json_refuses_what_is_not_an_object(text: str, message: str) -> None:
    with pytest.raises(ContractError, match=rf"^{message}$"):
        extract_json(text)


def test_find_self_grading_reports_dotted_paths_at_any_depth() -> None:
    obj = {
        "summary": "s",
        "Score": 3,
        "hypotheses": [{"cause": "c"}, {"cause": "d", "verified": True}],
        "meta": {"inner": {"evaluation_label": "good"}},
    }
    assert find_self_grading(obj) == [
        "Score",
        "hypotheses.1.verified",
        "meta.inner.evaluation_label",
    ]


def test_find_self_grading_is_empty_for_clean_answers_and_honours_allowed() -> None:
    assert find_self_grading({"verdict": "approve", "concerns": ["x"]}) == []
    assert find_self_grading({"verification": ["curl /healthz"]}, allowed={"verification"}) == []
    assert find_self_grading({"x": {"verification": "ok"}}, allowed={"verification"}) == [
        "x.verification"
    ]


def test_parse_answer_gives_the_task_contract() -> None:
    value = parse_answer(
        Task.SOLVE,
        '```json\n{"action": {"tool": "restart", "arguments": {"name": "api"}},'
        ' "rationale": "stuck", "risk_level": "medium", "chatter": 1}\n```',
    )
    assert value == Proposal(
        action=ToolCall(tool="restart", arguments={"name": "api"}),
        rationale="stuck",
        risk_level=RiskLevel.MEDIUM,
    )


def test_parse_answer_refuses_self_grading() -> None:
    text = '{"verdict": "approve", "risk_level": "low", "success": true, "grade": "A"}'
    with pytest.raises(
        ContractError, match=r"^self-grading fields are not allowed: success, grade$"
    ):
        parse_answer(Task.REVIEW, text)


def test_a_runbooks_own_verification_field_is_not_self_grading() -> None:
    text = '{"title": "t", "symptoms": ["s"], "steps": ["a"], "verification": ["curl"]}'
    value = parse_answer(Task.RUNBOOK, text)
    assert isinstance(value, RunbookDraft) and value.verification == ["curl"]


def test_parse_answer_names_the_contract_and_the_fields() -> None:
    with pytest.raises(ContractError) as caught:
        parse_answer(Task.REVIEW, '{"verdict": "sure"}')
    assert str(caught.value) == (
        "Review: verdict: Input should be 'approve', 'revise' or 'reject'; "
        "risk_level: Field required"
    )


def test_parse_answer_caps_the_number_of_problems() -> None:
    with pytest.raises(ContractError, match=r"\(\+2 more\)$"):
        parse_answer(Task.COORDINATE, "{}")


def test_repair_messages_append_one_message_with_error_and_excerpt() -> None:
    request = ChatRequest(
        task=Task.REVIEW,
        messages=[
            ChatMessage(role="system", content="You review."),
            ChatMessage(role="user", content="Review this."),
        ],
    )
    bad = "x" * 5000
    messages = repair_messages(request, bad, "no JSON object found in the answer")

    assert messages[:2] == request.messages
    assert len(messages) == 3
    repair = messages[2]
    assert repair.role == "user"
    assert "no JSON object found in the answer" in repair.content
    assert "Review {verdict, concerns?, risk_level}" in repair.content
    # the excerpt is at most REPAIR_EXCERPT_CHARS long, "..." included
    assert "x" * (REPAIR_EXCERPT_CHARS - 3) + "...\n" in repair.content
    assert "x" * (REPAIR_EXCERPT_CHARS - 2) not in repair.content


def test_repair_messages_quote_a_short_answer_whole() -> None:
    request = ChatRequest(task=Task.CHAT, messages=[ChatMessage(role="user", content="hi")])
    messages = repair_messages(request, '  {"answer": ""}  ', "ChatAnswer: answer: too short")
    assert '{"answer": ""}\n' in messages[1].content


@pytest.mark.parametrize("task", list(Task))
def test_safe_fallback_is_a_valid_value_of_every_contract(task: Task) -> None:
    value = safe_fallback(task, "every provider failed")
    schema = TASK_SCHEMAS[task]
    assert type(value) is schema
    assert schema.model_validate(value.model_dump()) == value
    assert find_self_grading(value.model_dump(exclude={"verification"})) == []


def test_safe_fallbacks_are_conservative() -> None:
    reason = "all providers failed"
    decision = safe_fallback(Task.COORDINATE, reason)
    assert isinstance(decision, DecisionDraft)
    assert decision.risk_level is RiskLevel.HIGH
    assert decision.requires_human_approval is True
    assert decision.recommended_action is None
    assert decision.blocked_reason == reason
    assert decision.confidence == 0.0

    proposal = safe_fallback(Task.SOLVE, reason)
    assert isinstance(proposal, Proposal)
    assert (proposal.action, proposal.risk_level) == (None, RiskLevel.HIGH)

    review = safe_fallback(Task.REVIEW, reason)
    assert isinstance(review, Review) and review.verdict == "reject"

    critique = safe_fallback(Task.CRITIQUE, reason)
    assert isinstance(critique, Critique) and critique.risk_level is RiskLevel.HIGH

    drift = safe_fallback(Task.DRIFT_INTERPRET, reason)
    assert isinstance(drift, DriftReading)
    assert (drift.recommendation, drift.intent, drift.level) == (
        "investigate",
        "unknown",
        RiskLevel.HIGH,
    )

    choice = safe_fallback(Task.TOOL_CALL, reason)
    assert isinstance(choice, ToolChoice) and choice.call is None

    chat = safe_fallback(Task.CHAT, reason)
    assert isinstance(chat, ChatAnswer) and chat.proposed_action is None
    assert reason in chat.answer


def test_safe_fallback_clips_a_long_reason_to_the_contract() -> None:
    value = safe_fallback(Task.DRIFT_INTERPRET, "r" * 5000)
    assert isinstance(value, DriftReading)
    assert len(value.explanation) == 500
