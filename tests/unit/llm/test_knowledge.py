"""The knowledge as data: built-in files validated at start-up, a team's files used without code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from core.llm.embedded import EmbeddedEngine, knowledge_from_config
from core.llm.embedded.loader import builtin_knowledge, knowledge_files, load_knowledge
from core.llm.embedded.registry import intent_of
from core.llm.types import ChatMessage, ChatRequest, Task, ToolParam, ToolSpec

NAME = "^[a-z0-9-]{1,63}$"
BOUNCE = ToolSpec(
    name="bounce_app",
    description="Rolling restart of an application",
    params=(ToolParam(name="app", pattern=NAME), ToolParam(name="namespace", pattern=NAME)),
)

TEAM_FAMILY = """
[[family]]
key = "license_server"
title = "License server unreachable"
alertnames = ["LicenseServer.*"]
keywords = ["flexlm"]
risk = "medium"
why_human = "builds queue up; the vendor's server may be the one at fault"
worst_case = "every CI build waits for a licence"
checks = ["lmutil lmstat -a -c {port}@{instance}"]
causes = [{ text = "the license daemon hangs after a network blip", confidence = 0.6 }]

[[family.actions]]
intent = "restart"
risk = "medium"
rationale = "a hung license daemon recovers after a restart"
effect = "the daemon reloads its licence file"
requires = ["stuck_worker"]
"""


def _write(tmp_path: Path, text: str, name: str = "team.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _coordinate(engine: EmbeddedEngine, context: dict[str, Any]) -> dict[str, Any]:
    request = ChatRequest(
        task=Task.COORDINATE,
        messages=[ChatMessage(role="user", content="What should we do?")],
        tools=[BOUNCE],
        context=context,
    )
    value: dict[str, Any] = engine.answer(request).model_dump(mode="json")
    return value


LICENSE_ALERT = {
    "alert_name": "LicenseServerUnreachable",
    "labels": {"alertname": "LicenseServerUnreachable", "namespace": "ci", "app": "flexlm"},
    "annotations": {"description": "lmgrd hangs and answers no checkout"},
}


def test_the_built_in_files_hold_every_family() -> None:
    knowledge = builtin_knowledge()
    assert len(knowledge.families) >= 30
    assert {"rollback", "restart", "rerun_job", "diagnostics"} <= set(knowledge.intents)
    assert {"recent_change", "stuck_worker", "capacity", "dependency"} <= set(knowledge.evidence)


def test_a_family_added_in_a_data_file_is_used(tmp_path: Path) -> None:
    before = _coordinate(EmbeddedEngine(), LICENSE_ALERT)
    assert before["recommended_action"] is None, "unknown to the built-in knowledge"
    assert before["diagnosis"].startswith("unknown alert")

    team = load_knowledge([_write(tmp_path, TEAM_FAMILY)])
    after = _coordinate(EmbeddedEngine(knowledge=team), LICENSE_ALERT)
    assert after["recommended_action"] == {
        "tool": "bounce_app",
        "arguments": {"app": "flexlm", "namespace": "ci"},
    }
    assert after["diagnosis"] == "the license daemon hangs after a network blip"
    assert after["requires_human_approval"] is True


def test_a_team_family_replaces_the_built_in_one_of_the_same_key(tmp_path: Path) -> None:
    text = TEAM_FAMILY.replace('key = "license_server"', 'key = "watchdog"')
    knowledge = load_knowledge([_write(tmp_path, text)])
    watchdog = knowledge.family("watchdog")
    assert watchdog is not None and watchdog.title == "License server unreachable"
    assert [f.key for f in knowledge.families].count("watchdog") == 1
    assert len(knowledge.families) == len(builtin_knowledge().families)


def test_a_team_file_extends_the_evidence_phrases(tmp_path: Path) -> None:
    alert = {
        "alert_name": "KubePodCrashLooping",
        "labels": {"namespace": "shop", "pod": "api-7d9f8b6c4-x2x9z"},
        "annotations": {"description": "crash looping since the train left the station"},
    }
    rollback = ToolSpec(
        name="undo_release",
        description="Return a deployment to its previous revision",
        params=(ToolParam(name="name", pattern=NAME), ToolParam(name="namespace", pattern=NAME)),
    )
    request = ChatRequest(
        task=Task.SOLVE,
        messages=[ChatMessage(role="user", content="?")],
        tools=[rollback],
        context=alert,
    )
    assert EmbeddedEngine().answer(request).model_dump()["action"] is None
    extra = _write(tmp_path, "[evidence.recent_change]\nphrases = ['the train left']\n")
    engine = EmbeddedEngine(knowledge=load_knowledge([extra]))
    assert engine.answer(request).model_dump()["action"] == {
        "tool": "undo_release",
        "arguments": {"name": "api", "namespace": "shop"},
    }
    # the built-in phrases are kept, not replaced
    assert len(engine.knowledge.evidence["recent_change"].phrases) == (
        len(builtin_knowledge().evidence["recent_change"].phrases) + 1
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            TEAM_FAMILY.replace("confidence = 0.6", "confidence = 6"),
            "family[0].causes[0].confidence: Input should be less than or equal to 1",
        ),
        (
            TEAM_FAMILY.replace('intent = "restart"', 'intent = "reboot_everything"'),
            "family[0].actions[0].intent: unknown intent 'reboot_everything'",
        ),
        (
            TEAM_FAMILY.replace('requires = ["stuck_worker"]', 'requires = ["vibes"]'),
            "family[0].actions[0].requires: unknown evidence 'vibes'",
        ),
        (
            TEAM_FAMILY.replace('keywords = ["flexlm"]', 'keywords = ["flexlm"]\nkeyword = "x"'),
            "family[0].keyword: Extra inputs are not permitted",
        ),
        (
            TEAM_FAMILY.replace('alertnames = ["LicenseServer.*"]', 'alertnames = ["(unclosed"]'),
            "family[0].alertnames: bad regex '(unclosed': missing ), unterminated subpattern "
            "at position 0",
        ),
        (
            TEAM_FAMILY.replace('risk = "medium"', 'risk = "spicy"', 1),
            "family[0].risk: Input should be 'low', 'medium', 'high' or 'critical'",
        ),
        (
            TEAM_FAMILY.replace('title = "License server unreachable"\n', ""),
            "family[0].title: Field required",
        ),
        (TEAM_FAMILY + TEAM_FAMILY, "family: key 'license_server' appears twice"),
        ("[intent.warp]\nphrases = ['warp']\nobject = 'starship'\n",
         "intent.warp.object: unknown object 'starship'"),
        ("[intent.diagnostics]\nsubjects = ['pod', 'starship']\n",
         "intent.diagnostics.subjects: unknown object 'starship'"),
        ("[intent.warp]\nobject = 'node'\n", "intent.warp.phrases: at least one phrase is needed"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_one_line_naming_file_and_field(
    tmp_path: Path, text: str, where: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_knowledge([path])
    assert str(caught.value) == f"knowledge file {path}: {where}"


def test_a_file_that_is_not_toml_or_missing_is_one_line(tmp_path: Path) -> None:
    broken = _write(tmp_path, "[[family]\n")
    with pytest.raises(ConfigError, match=rf"^knowledge file {broken}: not valid TOML: "):
        load_knowledge([broken])
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as caught:
        load_knowledge([missing])
    assert str(caught.value) == (
        f"knowledge file {missing}: cannot read: No such file or directory"
    )


def test_files_are_named_in_howl_config_relative_to_it(tmp_path: Path) -> None:
    _write(tmp_path, TEAM_FAMILY)
    config = {"knowledge": {"files": ["team.toml", "/abs/other.toml"]}}
    files = knowledge_files(config, base=tmp_path / "howl.toml")
    assert files == [tmp_path / "team.toml", Path("/abs/other.toml")]
    knowledge = knowledge_from_config(
        {"knowledge": {"files": ["team.toml"]}}, base=tmp_path / "howl.toml"
    )
    assert knowledge.families[0].key == "license_server", "a team's families are matched first"
    assert knowledge_from_config({}, base=None) is builtin_knowledge()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"knowledge": "team.toml"}, "bad HOWL_CONFIG knowledge: expected a table"),
        ({"knowledge": {"file": ["x"]}}, "bad HOWL_CONFIG knowledge: unknown key(s) file"),
        (
            {"knowledge": {"files": "team.toml"}},
            "bad HOWL_CONFIG knowledge.files: expected a list of file paths",
        ),
        (
            {"knowledge": {"files": [""]}},
            "bad HOWL_CONFIG knowledge.files: expected a list of file paths",
        ),
    ],
)
def test_bad_knowledge_table_in_howl_config(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        knowledge_files(config, base=None)
    assert str(caught.value) == message


def test_a_team_file_teaches_an_intent_its_own_word(tmp_path: Path) -> None:
    spec = ToolSpec(name="requeue_batch", description="Put the batch back on the queue")
    assert intent_of(spec, builtin_knowledge()) is None
    extra = _write(tmp_path, "[intent.rerun_job]\nphrases = ['requeue']\n")
    assert intent_of(spec, load_knowledge([extra])) == "rerun_job"
