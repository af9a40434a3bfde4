"""Request packs: a good one loads; any bad line refuses the whole pack, by line number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import InvalidInputError
from core.llm.types import Task
from core.replay.pack import ReplayPackError, load_pack
from tests.unit.replay.helpers import request_line, write_pack


def _flags(**flags: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"request_only": True, "not_replacement_evidence": True}
    base.update(flags)
    return base


def test_good_pack_loads(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p.jsonl", [request_line("inc-1"), "", request_line("inc-2")])
    requests = load_pack(pack)
    assert [r.incident_id for r in requests] == ["inc-1", "inc-2"]
    assert requests[1].line == 3
    assert requests[0].candidate_variant_id == "baseline"


def test_replay_request_becomes_a_chat_request_with_tools(tmp_path: Path) -> None:
    (request,) = load_pack(write_pack(tmp_path / "p.jsonl", [request_line()]))
    chat = request.to_chat_request()
    assert chat.task is Task.COORDINATE
    assert [m.role for m in chat.messages] == ["system", "user"]
    assert [t.name for t in chat.tools] == ["rollback_deployment"]
    assert {p.name: p.pattern for p in chat.tools[0].params} == {
        "name": "^[a-z0-9-]+$",
        "namespace": "^[a-z-]+$",
    }
    assert "tools" not in chat.context
    assert chat.context["alert_name"] == "KubePodCrashLooping"


BAD_LINES: list[tuple[str, dict[str, Any] | str, str]] = [
    ("invalid json", '{"schema_version": ', "invalid JSON"),
    ("not an object", "[1, 2]", "not a JSON object"),
    ("wrong version", request_line(schema_version="howl.replay.request.v0"), "schema_version"),
    ("missing field", request_line(user_prompt=None), "missing field(s) user_prompt"),
    ("missing flag", request_line(metadata={"request_only": True}), "not_replacement_evidence"),
    ("false flag", request_line(metadata=_flags(request_only=False)), "request_only must be true"),
    ("unknown variant", request_line(metadata=_flags(candidate_variant_id="x")), "variant"),
    ("unknown contract", request_line(response_contract="grade"), "unknown response_contract"),
    (
        "grading in context",
        request_line(incident_context={"labels": {}, "history": [{"expected_action": "restart"}]}),
        "self-grading field incident_context.history[0].expected_action",
    ),
    (
        "grading in metadata",
        request_line(source_metadata={"eval_label": "good"}),
        "self-grading field source_metadata.eval_label",
    ),
    (
        "grading in prompt json",
        request_line(user_prompt='{"alert": "x", "verified": true}'),
        "'verified' in user_prompt",
    ),
    (
        "grading in prompt prose",
        request_line(system_prompt='Example answer: {"score": 0.9, "risk_level": "low"}'),
        "'score' in system_prompt",
    ),
]


@pytest.mark.parametrize(("case", "bad", "reason"), BAD_LINES, ids=[c[0] for c in BAD_LINES])
def test_each_bad_line_refuses_the_pack_with_its_number(
    tmp_path: Path, case: str, bad: dict[str, Any] | str, reason: str
) -> None:
    pack = write_pack(tmp_path / "p.jsonl", [request_line("inc-1"), bad, request_line("inc-3")])
    with pytest.raises(ReplayPackError) as caught:
        load_pack(pack)
    assert len(caught.value.problems) >= 1
    assert all(p.startswith("line 2: ") for p in caught.value.problems), caught.value.problems
    assert any(reason in p for p in caught.value.problems), caught.value.problems


def test_every_bad_line_is_listed(tmp_path: Path) -> None:
    lines: list[dict[str, Any] | str] = [
        "nope",
        request_line("inc-2"),
        request_line("inc-3", schema_version="v2"),
        request_line("inc-4", source_metadata={"score": 1}),
    ]
    with pytest.raises(ReplayPackError) as caught:
        load_pack(write_pack(tmp_path / "p.jsonl", lines))
    numbers = [p.split(":")[0] for p in caught.value.problems]
    assert numbers == ["line 1", "line 3", "line 4"]
    assert str(caught.value).splitlines()[0].endswith("refusing the whole pack, 3 bad line(s)")


def test_labels_key_is_not_mistaken_for_a_label(tmp_path: Path) -> None:
    # alert labels are evidence; the bare `label` key is an evaluation label
    assert load_pack(write_pack(tmp_path / "p.jsonl", [request_line()]))


def test_missing_and_empty_packs(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_pack(tmp_path / "absent.jsonl")
    with pytest.raises(ReplayPackError, match="no request"):
        load_pack(write_pack(tmp_path / "empty.jsonl", []))
