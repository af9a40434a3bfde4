"""Drift scans over a real git repository and a fake kubectl (issue 13 acceptance)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.drift.models import DriftLevel, DriftReport
from tests.unit.drift.world import World, desired_objects, git, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def by_path(report: DriftReport) -> dict[str, tuple[str, object, object, DriftLevel]]:
    return {
        f"{d.key.kind}/{d.key.name}:{d.path or d.change}": (d.change, d.desired, d.live, d.level)
        for d in report.differences
    }


async def test_cluster_noise_alone_is_no_drift(world: World) -> None:
    world.set_live(desired_objects())
    report = await world.scanner().scan()
    assert report.problems == ()
    assert report.objects == (), by_path(report)
    assert report.summary == "No drift: the cluster matches Git."
    assert (report.desired_count, report.live_count) == (3, 3)


async def test_changed_image_is_critical_and_replicas_a_warning(world: World) -> None:
    live = desired_objects()
    deployment = live[0]
    deployment["spec"]["replicas"] = 7
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = (
        "registry.example/api:1.4.3-hotfix"
    )
    deployment["metadata"]["labels"]["touched-by"] = "alice"
    world.set_live(live)
    report = await world.scanner().scan()
    found = by_path(report)
    assert found == {
        "Deployment/api:spec.replicas": ("changed", 3, 7, DriftLevel.WARNING),
        "Deployment/api:spec.template.spec.containers[name=api].image": (
            "changed",
            "registry.example/api:1.4.2",
            "registry.example/api:1.4.3-hotfix",
            DriftLevel.CRITICAL,
        ),
        "Deployment/api:metadata.labels.touched-by": ("changed", None, "alice", DriftLevel.INFO),
    }
    (obj,) = report.objects
    assert obj.level is DriftLevel.CRITICAL
    assert obj.desired_file == "deployment.yaml"
    assert report.summary == "3 difference(s) in 1 object(s): 1 critical, 1 warning, 1 info."
    # the intent was read, from the most significant difference, and says no command
    assert obj.reading is not None and obj.reading.intent == "hotfix"
    assert "kubectl" not in obj.reading.explanation
    (request,) = world.completer.requests
    assert request.task == "drift_interpret"
    assert request.context["drift"]["field"].endswith(".image")


async def test_missing_and_extra_objects(world: World) -> None:
    live = desired_objects()[:2]  # the ConfigMap is gone
    extra = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "debug-admin", "uid": "x"},
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
    }
    owned = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "api-5d8f",
            "namespace": "prod",
            "ownerReferences": [{"kind": "Deployment"}],
        },
    }
    world.set_live([*live, extra, owned])
    found = by_path(await world.scanner().scan())
    assert {k: (v[0], v[3]) for k, v in found.items()} == {
        "ConfigMap/api-settings:missing": ("missing", DriftLevel.WARNING),
        "ClusterRoleBinding/debug-admin:extra": ("extra", DriftLevel.CRITICAL),
    }
    assert str(found["ConfigMap/api-settings:missing"][1]).startswith("present (sha256:")
    assert str(found["ClusterRoleBinding/debug-admin:extra"][2]).startswith("present (sha256:")


async def test_a_single_object_and_a_security_change(world: World) -> None:
    (deployment,) = desired_objects()[:1]
    pod = deployment["spec"]["template"]["spec"]
    pod["hostNetwork"] = True
    pod["containers"][0]["securityContext"] = {"privileged": True}
    world.set_live([deployment], as_list=False)
    report = await world.scanner().scan()
    found = by_path(report)
    assert found["Deployment/api:spec.template.spec.hostNetwork"][3] is DriftLevel.CRITICAL
    key = "Deployment/api:spec.template.spec.containers[name=api].securityContext.privileged"
    assert found[key] == ("changed", None, True, DriftLevel.CRITICAL)
    # the other desired objects are missing: a single object is all the command printed
    assert found["Service/api:missing"][0] == "missing"


async def test_multi_document_yaml_json_and_nested_list_in_the_desired_tree(world: World) -> None:
    (world.repo / "manifests" / "extra.json").write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "ServiceAccount",
                        "metadata": {"name": "bot", "namespace": "prod"},
                    }
                ],
            }
        )
    )
    live = desired_objects()
    live[2]["data"]["LOG_LEVEL"] = "debug"  # the second document of service.yaml
    world.set_live(live)
    report = await world.scanner().scan()
    found = by_path(report)
    assert found["ConfigMap/api-settings:data.LOG_LEVEL"] == (
        "changed",
        "info",
        "debug",
        DriftLevel.WARNING,
    )
    assert found["ServiceAccount/bot:missing"][3] is DriftLevel.CRITICAL
    assert report.desired_count == 4


async def test_configured_ignores(world: World) -> None:
    live = desired_objects()
    live[0]["spec"]["replicas"] = 9
    live[0]["metadata"]["annotations"]["example.com/owner"] = "bob"
    world.set_live(live)
    config = world.config(ignore=("spec.replicas", "metadata.annotations.example.com/*"))
    report = await world.scanner(config).scan()
    assert report.objects == (), by_path(report)


async def test_live_folder_instead_of_a_command(world: World, tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    live = desired_objects()
    live[0]["spec"]["replicas"] = 5
    (export / "all.json").write_text(
        json.dumps({"kind": "List", "apiVersion": "v1", "items": live})
    )
    config = world.config(live_command=None, live=export)
    found = by_path(await world.scanner(config).scan())
    assert list(found) == ["Deployment/api:spec.replicas"]


@pytest.mark.parametrize(
    ("arrange", "line"),
    [
        ("missing_path", "[drift] desired: no such file or folder"),
        ("not_git", "is not inside a git working tree"),
        ("no_command", "[drift] live_command: binary"),
        ("not_json", "[drift] live_command: live output is not JSON"),
        ("fails", "[drift] live_command: kubectl exited with status 1: error: the server"),
        ("bad_yaml", "[drift] desired broken.yaml: not valid YAML or JSON"),
    ],
)
async def test_bad_sources_are_one_line_in_the_report_never_a_crash(
    world: World, tmp_path: Path, arrange: str, line: str
) -> None:
    config = world.config()
    world.set_live(desired_objects())
    if arrange == "missing_path":
        config = world.config(desired=tmp_path / "nowhere")
    elif arrange == "not_git":
        plain = tmp_path / "plain"
        plain.mkdir()
        config = world.config(desired=plain)
    elif arrange == "no_command":
        config = world.config(live_command=("no-such-kubectl-xyz", "get"))
    elif arrange == "not_json":
        world.set_live("<html>login required</html>")
    elif arrange == "fails":
        (world.bin / "live.json").unlink()
    else:
        (world.repo / "manifests" / "broken.yaml").write_text("a: [unclosed\n")
    report = await world.scanner(config).scan()
    assert len(report.problems) == 1, report.problems
    assert line in report.problems[0]
    assert "\n" not in report.problems[0]
    if arrange != "bad_yaml":
        assert report.objects == ()  # an unreadable side is no drift, never "everything missing"
    assert report.id in world.store.reports


async def test_no_drift_table(world: World) -> None:
    from core.drift.scan import Scanner

    scanner = world.scanner()
    bare = Scanner(
        None,
        runner=scanner._runner,
        interpreter=scanner._interpreter,
        store=world.store,
        clock=scanner._clock,
    )
    report = await bare.scan()
    assert report.problems == ("HOWL_CONFIG has no [drift] table: nothing to scan",)


async def test_secret_values_are_never_kept(world: World) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod"},
        "data": {"password": "aHVudGVyMg=="},
    }
    (world.repo / "manifests" / "secret.yaml").write_text(json.dumps(secret))
    live = [*desired_objects(), {**secret, "data": {"password": "c3VwZXJzZWNyZXQ="}}]
    world.set_live(live)
    report = await world.scanner().scan()
    (d,) = report.differences
    assert "c3VwZXJzZWNyZXQ=" not in report.model_dump_json()
    assert str(d.live).startswith("(hidden, sha256:")
    assert d.level is DriftLevel.CRITICAL or d.level is DriftLevel.WARNING
    assert report.objects[0].live is None


def test_git_helper_works(world: World) -> None:
    assert git(world.repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


async def test_what_the_cluster_makes_for_itself_is_never_extra(world: World) -> None:
    def obj(kind: str, namespace: str, name: str) -> dict[str, object]:
        meta = {"name": name, "namespace": namespace} if namespace else {"name": name}
        return {"apiVersion": "v1", "kind": kind, "metadata": meta}

    world.set_live(
        [
            *desired_objects(),
            obj("Service", "default", "kubernetes"),
            obj("ConfigMap", "prod", "kube-root-ca.crt"),
            obj("ServiceAccount", "prod", "default"),
            obj("Pod", "kube-system", "coredns-abc"),
            obj("Endpoints", "prod", "api"),
            obj("Namespace", "", "default"),
        ]
    )
    report = await world.scanner().scan()
    assert report.objects == (), by_path(report)


async def test_yaml_dates_stay_strings_as_kubernetes_reads_them(world: World) -> None:
    text = (world.repo / "manifests" / "deployment.yaml").read_text()
    (world.repo / "manifests" / "deployment.yaml").write_text(
        text.replace("    app: api\nspec:", "    app: api\n    released: 2026-11-30\nspec:", 1)
    )
    live = desired_objects()
    live[0]["metadata"]["labels"]["released"] = "2026-11-30"
    world.set_live(live)
    report = await world.scanner().scan()
    assert report.objects == (), by_path(report)
