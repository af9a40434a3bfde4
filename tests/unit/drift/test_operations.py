"""Roll back, Adopt and Ignore: what the drift card's buttons call once approved."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.actions import ActionStatus, SubprocessRunner
from core.drift.operations import adopt, branch_name, ignore, roll_back, rollback_executor
from core.redact import Redactor
from tests.unit.drift.world import World, desired_objects, git, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def drifted(world: World) -> None:
    live = desired_objects()
    live[0]["spec"]["replicas"] = 7
    live[2]["data"]["LOG_LEVEL"] = "debug"
    live.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "hand-made", "namespace": "prod", "uid": "u"},
            "data": {"x": "1"},
        }
    )
    world.set_live(live)


def index_of(report: object, name: str) -> int:
    objects = report.objects  # type: ignore[attr-defined]
    return next(i for i, o in enumerate(objects) if o.key.name == name)


async def test_roll_back_applies_the_desired_file_through_the_executor(world: World) -> None:
    drifted(world)
    config = world.config()
    report = await world.scanner(config).scan()
    executor = rollback_executor(config, SubprocessRunner(), Redactor([]))
    result = await roll_back(report, index_of(report, "api"), config=config, executor=executor)
    assert result.status is ActionStatus.SUCCEEDED, result
    desired = str((world.repo / "manifests" / "deployment.yaml").resolve())
    assert world.kubectl_calls()[-1] == ["apply", "-f", desired]
    assert result.argv == (str(world.kubectl), "apply", "-f", desired)
    # the ConfigMap lives in the second document of service.yaml: that file is applied
    result = await roll_back(
        report, index_of(report, "api-settings"), config=config, executor=executor
    )
    assert world.kubectl_calls()[-1] == [
        "apply",
        "-f",
        str((world.repo / "manifests" / "service.yaml").resolve()),
    ]


async def test_roll_back_of_an_extra_object_is_refused_and_runs_nothing(world: World) -> None:
    drifted(world)
    config = world.config()
    report = await world.scanner(config).scan()
    calls = len(world.kubectl_calls())
    executor = rollback_executor(config, SubprocessRunner(), Redactor([]))
    result = await roll_back(
        report, index_of(report, "hand-made"), config=config, executor=executor
    )
    assert result.status is ActionStatus.REFUSED
    assert "no desired file" in result.reason
    assert len(world.kubectl_calls()) == calls


async def test_roll_back_reports_a_missing_kubectl_as_a_failure(world: World) -> None:
    drifted(world)
    config = world.config(kubectl="/nonexistent/kubectl")
    report = await world.scanner(config).scan()
    executor = rollback_executor(config, SubprocessRunner(), Redactor([]))
    result = await roll_back(report, index_of(report, "api"), config=config, executor=executor)
    assert result.status is ActionStatus.FAILED
    assert "cannot start" in result.reason


async def test_adopt_commits_the_live_object_on_a_new_branch_naming_the_approver(
    world: World,
) -> None:
    drifted(world)
    config = world.config()
    report = await world.scanner(config).scan()
    head = git(world.repo, "rev-parse", "HEAD")
    index = index_of(report, "api-settings")
    result = await adopt(
        report, index, config=config, runner=SubprocessRunner(), approver="Alice (1001)"
    )
    assert result.ok, result.reason
    assert result.branch == branch_name(report, report.objects[index])
    assert result.file == "manifests/service.yaml"
    # a new branch with one commit on top of HEAD; the operator's checkout is untouched
    assert git(world.repo, "rev-parse", f"{result.branch}~1") == head
    assert git(world.repo, "rev-parse", result.branch) == result.commit
    assert git(world.repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(world.repo, "status", "--porcelain") == ""
    assert git(world.repo, "worktree", "list").count("\n") == 0
    message = git(world.repo, "log", "-1", "--format=%B", result.branch)
    assert "Adopt live ConfigMap prod/api-settings into Git" in message
    assert "Approved by Alice (1001)" in message
    # the file on the branch: both documents, the ConfigMap now as the cluster has it
    text = git(world.repo, "show", f"{result.branch}:manifests/service.yaml")
    service, config_map = yaml.safe_load_all(text)
    assert service["kind"] == "Service" and service["spec"]["ports"][0]["port"] == 80
    assert config_map["data"] == {"LOG_LEVEL": "debug"}
    assert "uid" not in config_map["metadata"] and "status" not in config_map


async def test_adopt_of_an_extra_object_writes_a_new_file(world: World) -> None:
    drifted(world)
    config = world.config()
    report = await world.scanner(config).scan()
    result = await adopt(
        report,
        index_of(report, "hand-made"),
        config=config,
        runner=SubprocessRunner(),
        approver="bob",
    )
    assert result.ok, result.reason
    assert result.file == "manifests/adopted/prod/configmap-hand-made.yaml"
    text = git(world.repo, "show", f"{result.branch}:{result.file}")
    assert yaml.safe_load(text)["data"] == {"x": "1"}
    # and the next scan, once that branch is merged, finds nothing on it
    git(world.repo, "merge", "-q", "--ff-only", result.branch)
    rescan = await world.scanner(config).scan()
    assert "hand-made" not in {o.key.name for o in rescan.objects}


async def test_adopt_twice_for_the_same_report_fails_in_one_line(world: World) -> None:
    drifted(world)
    config = world.config()
    report = await world.scanner(config).scan()
    index = index_of(report, "api")
    first = await adopt(report, index, config=config, runner=SubprocessRunner(), approver="a")
    second = await adopt(report, index, config=config, runner=SubprocessRunner(), approver="a")
    assert first.ok and not second.ok
    assert second.reason.startswith("git worktree:") and "\n" not in second.reason


async def test_ignore_suppresses_the_same_drift_until_it_changes(world: World) -> None:
    drifted(world)
    scanner = world.scanner()
    report = await scanner.scan()
    assert await ignore(report, index_of(report, "api"), store=world.store, actor="carol") == 1
    again = await scanner.scan()
    assert "api" not in {o.key.name for o in again.objects}
    assert "1 ignored difference(s) not shown" in again.summary
    # the same field drifts further: a new drift, reported again
    live = desired_objects()
    live[0]["spec"]["replicas"] = 12
    world.set_live(live)
    changed = await scanner.scan()
    (obj,) = [o for o in changed.objects if o.key.name == "api"]
    assert obj.differences[0].live == 12


async def test_an_index_outside_the_report_is_a_lookup_error(world: World) -> None:
    drifted(world)
    report = await world.scanner().scan()
    with pytest.raises(LookupError):
        await ignore(report, 99, store=world.store, actor="x")


async def test_an_ignored_extra_object_is_announced_again_once_it_changes(world: World) -> None:
    drifted(world)
    scanner = world.scanner()
    report = await scanner.scan()
    await ignore(report, index_of(report, "hand-made"), store=world.store, actor="dave")
    assert "hand-made" not in {o.key.name for o in (await scanner.scan()).objects}
    live = desired_objects()
    live.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "hand-made", "namespace": "prod"},
            "data": {"x": "2"},
        }
    )
    world.set_live(live)
    assert "hand-made" in {o.key.name for o in (await scanner.scan()).objects}
