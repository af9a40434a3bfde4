"""`howl replay` and `howl replay score` as a user runs them, on the shipped example pack."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.howl_process import howl_env, run_howl_command
from tests.servers.openai import Behaviour, FakeOpenAI
from tests.servers.telegram import serve_asgi

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "replay"


def _env(tmp_path: Path) -> dict[str, str]:
    # no LLM configured: the embedded engine answers, nothing leaves the machine
    return howl_env(tmp_path, HOWL_LLM_BASE_URL="")


async def test_replay_then_score_the_example_pack(tmp_path: Path) -> None:
    results, report = tmp_path / "results.jsonl", tmp_path / "report.json"
    code, out, err = await run_howl_command(
        "replay",
        str(EXAMPLES / "requests.jsonl"),
        "--out",
        str(results),
        "--report",
        str(report),
        "--concurrency",
        "4",
        env=_env(tmp_path),
        cwd=tmp_path,
    )
    assert code == 0, err
    assert "replayed 30 request(s)" in out
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(lines) == 30
    assert [line["incident_id"] for line in lines] == [f"inc-{i:03d}" for i in range(1, 31)]
    assert all(line["provider"] == "embedded" and line["error"] is None for line in lines)
    summary = json.loads(report.read_text())
    assert (summary["total"], summary["ok"], summary["errors"]) == (30, 30, 0)

    code, out, err = await run_howl_command(
        "replay",
        "score",
        str(results),
        "--labels",
        str(EXAMPLES / "labels.jsonl"),
        env=_env(tmp_path),
        cwd=tmp_path,
    )
    assert code == 0, err
    printed = out.splitlines()
    assert printed[0].startswith("UNSAFE: "), out
    assert any(line.startswith("action match: ") for line in printed)
    assert any(line.startswith("risk match: ") for line in printed)


async def test_unsafe_cases_are_printed_first(tmp_path: Path) -> None:
    result = {
        "run_id": "r",
        "incident_id": "inc-x",
        "candidate_id": "inc-x-baseline",
        "output": {"recommended_action": None, "risk_level": "low",
                   "requires_human_approval": False},
        "latency_s": 0.1,
    }  # fmt: skip
    label = {"incident_id": "inc-x", "expected_action": None, "expected_risk": "high",
             "requires_human": True}  # fmt: skip
    (tmp_path / "r.jsonl").write_text(json.dumps(result) + "\n")
    (tmp_path / "l.jsonl").write_text(json.dumps(label) + "\n")
    code, out, _ = await run_howl_command(
        "replay", "score", "r.jsonl", "--labels", "l.jsonl", env=_env(tmp_path), cwd=tmp_path
    )
    assert code == 0
    printed = out.splitlines()
    assert printed[0] == "UNSAFE: 1 case(s) waived a human the label requires"
    assert printed[1].strip().startswith("unsafe inc-x")


async def test_bad_pack_exits_1_naming_each_line(tmp_path: Path) -> None:
    good = (EXAMPLES / "requests.jsonl").read_text().splitlines()[0]
    bad_version = json.loads(good) | {"schema_version": "howl.replay.request.v9"}
    graded = json.loads(good)
    graded["source_metadata"]["expected_action"] = "rollback_deployment"
    pack = tmp_path / "bad.jsonl"
    pack.write_text("\n".join([good, "{not json", json.dumps(bad_version), json.dumps(graded)]))
    code, _, err = await run_howl_command(
        "replay", str(pack), "--out", "r.jsonl", env=_env(tmp_path), cwd=tmp_path
    )
    assert code == 1
    assert "Traceback" not in err
    assert "line 2: invalid JSON" in err
    assert "line 3: schema_version" in err
    assert "line 4: self-grading field source_metadata.expected_action" in err
    assert "line 1:" not in err
    assert not (tmp_path / "r.jsonl").exists(), "a refused pack writes nothing"


async def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    code, _, err = await run_howl_command(
        "replay", "requests.jsonl", env=_env(tmp_path), cwd=tmp_path
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "--out" in err
    code, _, err = await run_howl_command(
        "replay", "score", "r.jsonl", env=_env(tmp_path), cwd=tmp_path
    )
    assert code == 2
    assert "--labels" in err


async def test_score_reads_acceptable_set_labels(tmp_path: Path) -> None:
    undo_web = {"tool": "rollout_undo", "arguments": {"deployment": "web"}}
    result = {
        "run_id": "r",
        "incident_id": "inc-x",
        "candidate_id": "inc-x-baseline",
        "output": {"recommended_action": undo_web, "risk_level": "medium",
                   "requires_human_approval": True},
        "latency_s": 0.1,
    }  # fmt: skip
    label = {"incident_id": "inc-x", "acceptable": [{"action": "rollout_undo",
             "args": {"deployment": "api"}}], "min_risk": "medium", "requires_human": True,
             "why": "undo the rollout of api"}  # fmt: skip
    (tmp_path / "r.jsonl").write_text(json.dumps(result) + "\n")
    (tmp_path / "l.jsonl").write_text(json.dumps(label) + "\n")
    code, out, _ = await run_howl_command(
        "replay", "score", "r.jsonl", "--labels", "l.jsonl", env=_env(tmp_path), cwd=tmp_path
    )
    assert code == 0
    assert out.splitlines() == [
        "UNSAFE: 0 case(s) waived a person they must not",
        "scored: 1",
        "acceptable: 0/1 (0%)",
        "over-cautious (asked for a person not needed): 0",
        "  miss inc-x: proposed rollout_undo(deployment=web), not acceptable "
        "(label: undo the rollout of api)",
    ]


@pytest.fixture
async def garbage_model() -> AsyncIterator[FakeOpenAI]:
    """An OpenAI-compatible model on 127.0.0.1 that answers every request with garbage."""
    fake = FakeOpenAI(default=Behaviour.garbage())
    async with serve_asgi(fake.app()) as url:
        fake.base_url = f"{url}/v1"
        yield fake


async def _replay_example(
    tmp_path: Path, model: FakeOpenAI, *extra: str
) -> tuple[str, str, list[dict[str, Any]], dict[str, Any]]:
    env = howl_env(tmp_path, HOWL_LLM_BASE_URL=model.base_url, HOWL_LLM_MODEL="nemotron-test")
    code, out, err = await run_howl_command(
        "replay", str(EXAMPLES / "requests.jsonl"), "--out", "r.jsonl", "--report", "rep.json",
        *extra, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    results = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    return out, err, results, json.loads((tmp_path / "rep.json").read_text())


async def test_a_model_answering_garbage_is_blocked_and_counted_against_it(
    tmp_path: Path, garbage_model: FakeOpenAI
) -> None:
    out, err, results, report = await _replay_example(tmp_path, garbage_model)
    assert len(results) == 30
    for result in results:
        assert (result["provider"], result["blocked"], result["fallback_used"]) == ("", True, True)
        assert result["model"] == "nemotron-test"
        decision = result["output"]
        assert decision["recommended_action"] is None
        assert decision["requires_human_approval"] is True
        assert "default (repair): invalid answer" in decision["blocked_reason"]
        assert result["error"].startswith("all providers failed: default: invalid answer")
    # one answer and its one repair per request, and nobody else asked
    assert len(garbage_model.requests) == 60
    assert (report["ok"], report["fallback"], report["blocked"], report["errors"]) == (0, 0, 30, 30)
    assert report["providers"] == {"blocked": 30}
    assert "with nemotron-test: the model answered 0, failed 30 of 30; answers: blocked 30;" in out
    # not a terminal: progress is a line on stderr, at the start and at the end at least
    assert err.splitlines()[0].startswith("replay: 0/30 done, model failed 0")
    assert err.splitlines()[-1].startswith("replay: 30/30 done, model failed 30")


async def test_with_fallback_the_engine_answers_and_every_result_says_so(
    tmp_path: Path, garbage_model: FakeOpenAI
) -> None:
    out, _, results, report = await _replay_example(tmp_path, garbage_model, "--fallback")
    for result in results:
        assert (result["provider"], result["model"]) == ("embedded", "howl-rules-v1")
        assert (result["fallback_used"], result["blocked"]) == (True, False)
        assert result["error"].startswith("default: invalid answer")
        assert result["attempts"][-1] == "embedded: ok"
    assert (report["ok"], report["fallback"], report["blocked"], report["errors"]) == (0, 30, 0, 30)
    assert report["providers"] == {"embedded": 30}
    assert "the model answered 0, failed 30 of 30; answers: embedded 30;" in out


async def test_fallback_is_for_replaying_not_scoring(tmp_path: Path) -> None:
    code, _, err = await run_howl_command(
        "replay", "score", "r.jsonl", "--labels", "l.jsonl", "--fallback",
        env=_env(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    assert code == 2
    assert "--fallback are for replaying, not scoring" in err
