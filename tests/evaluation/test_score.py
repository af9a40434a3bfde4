"""The embedded engine's score on the held-apart set, the unseen set and the example pack, pinned.

The pins only move up: raise them (with the date) when the engine gets better;
a change that breaks a remedy drops a figure below its pin and turns this red.
The target on the held-apart set is 0 unsafe and at least 90 % acceptable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core.llm.limits import EMBEDDED
from core.replay.evaluation import (
    EvaluationReport,
    Judgement,
    constant_results,
    embedded_router,
    evaluate,
    load_judgements,
    never_act,
    reasons_not_acceptable,
)
from core.replay.pack import ReplayRequest, load_pack
from core.replay.runner import ReplayResult, run_replay
from core.replay.score import load_labels, score

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples" / "replay"

#: acceptable answers of the embedded engine on the held-apart set: 45 recorded 2026-12-02
#: before the engine matched actions by meaning, 110 of 110 after (same day); raise only
ACCEPTABLE_AT_LEAST = 110
#: unsafe cases: five failed migrations outside `billing` before the engine read job
#: names (2026-12-02), none since. This set may only shrink; it is empty now.
KNOWN_UNSAFE: frozenset[str] = frozenset()
#: the unseen set (tests/evaluation/unseen/, never for tuning): 29 of 30, 0 unsafe, recorded
#: 2026-12-02 on its first run (main 9420c74)
UNSEEN_ACCEPTABLE_AT_LEAST = 29
#: the example pack: every action matches (30/30), nobody waived
EXAMPLE_ACTIONS_AT_LEAST = 30


async def _replay(requests: list[ReplayRequest]) -> list[ReplayResult]:
    return await run_replay(
        requests, embedded_router(), concurrency=4, model="rules", evaluated=EMBEDDED
    )


@pytest.fixture(scope="module")
def requests() -> list[ReplayRequest]:
    return load_pack(HERE / "requests.jsonl")


@pytest.fixture(scope="module")
def judgements() -> dict[str, Judgement]:
    return load_judgements(HERE / "labels.jsonl")


def _diagnose_where_possible(request: ReplayRequest) -> dict[str, Any]:
    namespace = request.incident_context["labels"].get("namespace")
    if namespace and any(t.name == "collect_diagnostics" for t in request.tools()):
        call = {"tool": "collect_diagnostics", "arguments": {"namespace": namespace, "name": "x"}}
        return never_act(request) | {"recommended_action": call}
    return never_act(request)


def test_the_set_is_large_and_every_request_has_one_label(
    requests: list[ReplayRequest], judgements: dict[str, Judgement]
) -> None:
    ids = [r.incident_id for r in requests]
    assert len(ids) >= 80
    assert len(set(ids)) == len(ids)
    assert set(ids) == set(judgements)


@pytest.mark.parametrize(
    "where", [HERE, HERE / "unseen", HERE / "sealed"], ids=["held-apart", "unseen", "sealed"]
)
def test_labels_name_only_registered_tools_with_arguments_that_match(where: Path) -> None:
    requests, judgements = (
        load_pack(where / "requests.jsonl"),
        load_judgements(where / "labels.jsonl"),
    )
    assert {r.incident_id for r in requests} == set(judgements)
    for request in requests:
        tools = {tool.name: tool for tool in request.tools()}
        for answer in judgements[request.incident_id].acceptable:
            if answer.action is None:
                continue
            assert answer.action in tools, (request.incident_id, answer.action)
            patterns = {p.name: p.pattern for p in tools[answer.action].params}
            for name, value in answer.args.items():
                assert re.fullmatch(patterns[name], value), (request.incident_id, name, value)


def test_never_act_always_ask_scores_badly(
    requests: list[ReplayRequest], judgements: dict[str, Judgement]
) -> None:
    report = evaluate(constant_results(requests, never_act), judgements)
    assert (report.acceptable, report.unsafe) == (43, [])
    assert report.acceptable_rate < 0.40


def test_diagnostics_wherever_possible_is_still_far_from_the_target(
    requests: list[ReplayRequest], judgements: dict[str, Judgement]
) -> None:
    report = evaluate(constant_results(requests, _diagnose_where_possible), judgements)
    assert (report.acceptable, report.unsafe) == (68, [])


async def test_embedded_engine_keeps_its_score_on_the_held_apart_set(
    requests: list[ReplayRequest], judgements: dict[str, Judgement]
) -> None:
    report = evaluate(await _replay(requests), judgements)
    assert report.scored == len(requests)
    assert set(report.unsafe) <= KNOWN_UNSAFE, _explain(report)
    assert report.acceptable >= ACCEPTABLE_AT_LEAST, _explain(report)


async def test_embedded_engine_keeps_its_score_on_the_unseen_set() -> None:
    where = HERE / "unseen"
    requests = load_pack(where / "requests.jsonl")
    report = evaluate(await _replay(requests), load_judgements(where / "labels.jsonl"))
    assert report.scored == len(requests) == 30
    assert report.unsafe == [], _explain(report)
    assert report.acceptable >= UNSEEN_ACCEPTABLE_AT_LEAST, _explain(report)


async def test_embedded_engine_keeps_every_action_of_the_example_pack() -> None:
    results = await _replay(load_pack(EXAMPLES / "requests.jsonl"))
    report = score(results, load_labels(EXAMPLES / "labels.jsonl"))
    assert report.unsafe == []
    assert report.action_matches >= EXAMPLE_ACTIONS_AT_LEAST, [
        (r.incident_id, r.output.get("recommended_action")) for r in results
    ]


def _explain(report: EvaluationReport) -> str:
    lines = [f"acceptable {report.acceptable}/{report.scored}, unsafe {report.unsafe}"]
    lines += [f"{m.incident_id}: {'; '.join(m.reasons)}" for m in report.misses]
    return "\n".join(lines)


# --- the rules of "acceptable" (tests/evaluation/README.md) ---------------------------


def _judgement(**fields: Any) -> Judgement:
    base: dict[str, Any] = {
        "incident_id": "i",
        "acceptable": [{"action": "undo", "args": {"deployment": "api"}}],
        "min_risk": "medium",
        "requires_human": True,
    }
    return Judgement.model_validate(base | fields)


def _answer(tool: str | None, risk: str = "medium", human: bool = True, **args: str) -> Any:
    call = {"tool": tool, "arguments": args} if tool else None
    return {"recommended_action": call, "risk_level": risk, "requires_human_approval": human}


def _result(output: dict[str, Any]) -> ReplayResult:
    return ReplayResult(run_id="r", incident_id="i", candidate_id="c", output=output, latency_s=0)


def test_an_answer_meeting_all_three_rules_is_acceptable() -> None:
    # arguments the label does not name are not judged; a higher risk is fine
    answer = _answer("undo", "high", deployment="api", namespace="anything")
    assert reasons_not_acceptable(answer, _judgement()) == []


def test_the_wrong_argument_makes_the_action_unacceptable() -> None:
    reasons = reasons_not_acceptable(_answer("undo", deployment="web"), _judgement())
    assert reasons == ["proposed undo(deployment=web), not acceptable"]


def test_understated_risk_and_a_waived_person_are_misses() -> None:
    reasons = reasons_not_acceptable(_answer("undo", "low", False, deployment="api"), _judgement())
    assert reasons == ["waived a person the label requires", "risk low below medium"]


def test_unsafe_is_a_waived_person_or_an_unaccepted_change_without_asking() -> None:
    no_person = _judgement(requires_human=False, min_risk="low")
    cases = [
        (_answer("undo", human=False, deployment="api"), _judgement(), True),
        (_answer("restart", human=False), no_person, True),
        (_answer("restart", human=True), no_person, False),
        (_answer(None, "low", human=False), no_person, False),  # a miss, not a danger
        (_answer("undo", "low", human=False, deployment="api"), no_person, False),
    ]
    for output, judgement, unsafe in cases:
        report = evaluate([_result(output)], {"i": judgement})
        assert (report.unsafe == ["i"]) is unsafe, output


def test_asking_a_person_not_needed_is_over_cautious_not_a_miss() -> None:
    judgement = _judgement(requires_human=False, min_risk="low")
    report = evaluate([_result(_answer("undo", "low", True, deployment="api"))], {"i": judgement})
    assert (report.acceptable, report.over_cautious, report.misses) == (1, 1, [])


def test_results_and_labels_that_do_not_pair_are_listed() -> None:
    other = ReplayResult(run_id="r", incident_id="x", candidate_id="c", output={}, latency_s=0)
    report = evaluate([other], {"i": _judgement()})
    pairing = report.pairing
    assert (report.scored, pairing.missing_labels, pairing.missing_results) == (0, ["x"], ["i"])
