"""Risk that errs toward people: "no change" still asks someone, and floors on money and data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from core.llm.embedded.incident import Incident
from core.llm.embedded.loader import builtin_knowledge, load_knowledge
from core.llm.embedded.risk import NO_ACTION_FITS, floors_for, needs_attention
from core.llm.types import ToolSpec
from tests.unit.llm.test_engine_decisions import _decide, _spec

#: a registry of dangerous actions only: nothing in it fits a certificate, a quota or a job
DANGEROUS = [
    _spec("wipe_namespace", "Delete a namespace and all it holds", "ns", destructive=True),
    _spec("flush_store", "FLUSHALL on a Redis instance", "instance", destructive=True),
]
#: ordinary changes, no read-only action
CHANGES = [
    _spec("undo_release", "Return a deployment to its previous revision", "name", "namespace"),
    _spec("bounce_app", "Rolling restart of an application", "app", "namespace"),
    _spec("reissue_cert", "Ask cert-manager to reissue a certificate", "cert", "namespace"),
]
POD = "payout-api-6f7c9d8b5-k2j4x"


def _alert(name: str, description: str, severity: str = "warning", **labels: str) -> dict[str, Any]:
    return {
        "alert_name": name,
        "severity": severity,
        "labels": {"alertname": name, "severity": severity, **labels},
        "annotations": {"description": description},
    }


# --- "proposes no change" is not "nobody needs to look" ---------------------------------

#: low-risk families whose usual remedy is missing from the registry
QUIET_FAMILIES = [
    _alert(
        "CertificateExpiringSoon",
        "TLS certificate for api.example.org is valid for 11 more days",
        certificate="api-example-org",
        namespace="edge",
    ),
    _alert(
        "CPUThrottlingHigh",
        "Container resizer in pod resizer-0 is throttled in 41% of periods",
        namespace="media",
        pod="resizer-0",
        container="resizer",
    ),
    _alert(
        "KubeJobFailed",
        "Job reporting/weekly-digest-29012345 did not complete",
        namespace="reporting",
        job_name="weekly-digest-29012345",
    ),
]


@pytest.mark.parametrize("severity", ["warning", "critical", ""])
@pytest.mark.parametrize("tools", [[], DANGEROUS], ids=["no-registry", "dangerous-only"])
@pytest.mark.parametrize("context", QUIET_FAMILIES, ids=lambda c: c["alert_name"])
def test_no_action_for_a_firing_alert_asks_a_person(
    context: dict[str, Any], tools: list[ToolSpec], severity: str
) -> None:
    context = {**context, "severity": severity, "labels": {**context["labels"]}}
    context["labels"]["severity"] = severity
    draft = _decide(context, tools)
    assert draft["recommended_action"] is None
    assert draft["requires_human_approval"] is True
    assert NO_ACTION_FITS in draft["why_human"]


def test_an_info_alert_that_says_nothing_is_failing_may_go_unasked() -> None:
    context = {**QUIET_FAMILIES[1], "severity": "info"}
    context["labels"] = {**context["labels"], "severity": "info"}
    draft = _decide(context, [])
    assert (draft["recommended_action"], draft["risk_level"]) == (None, "low")
    assert (draft["requires_human_approval"], draft["why_human"]) == (False, "")


@pytest.mark.parametrize(
    "text",
    [
        "nightly export failed twice",
        "the signing key is about to expire",
        "備份作業失敗",
        "授權即將到期",
    ],
)
def test_an_info_alert_whose_text_says_something_fails_asks_a_person(text: str) -> None:
    knowledge = builtin_knowledge()
    assert needs_attention(Incident(severity="info", text=text), knowledge)
    assert not needs_attention(Incident(severity="info", text="export finished"), knowledge)


def test_a_resolved_alert_needs_nobody() -> None:
    knowledge = builtin_knowledge()
    resolved = Incident(severity="critical", text="renewal failed", extra={"status": "resolved"})
    assert not needs_attention(resolved, knowledge)
    assert needs_attention(Incident(severity="critical", text="renewal failed"), knowledge)


# --- floors: money, data loss, a capacity ceiling, a failing renewal ----------------------


@pytest.mark.parametrize(
    ("floor", "text", "labels"),
    [
        ("money", "merchant pay-outs stopped halfway through the batch", {}),
        ("money", "the PSP answers every third call with a timeout", {}),
        ("money", "refund requests pile up", {}),
        ("money", "金流服務呼叫逾時", {}),
        ("money", "退款作業執行到一半中斷", {}),
        ("data_loss", "the cache is evicting keys at 3k/s", {}),
        ("data_loss", "keys are being evicted before they are read", {}),
        ("data_loss", "orders.retry dead-letter queue holds 1.2k messages", {}),
        ("data_loss", "webhook events were dropped after 5 attempts", {}),
        ("data_loss", "Redis 大量 key 被淘汰", {}),
        ("data_loss", "死信佇列持續增加", {}),
        ("stateful_volume_full", "volume of the postgres primary is 94% full", {}),
        ("stateful_volume_full", "no space left on device", {"statefulset": "search-es"}),
        ("stateful_volume_full", "Elasticsearch 資料磁碟快滿了", {}),
        ("capacity_ceiling", "consumer HPA is at its maximum of 20 replicas", {}),
        ("capacity_ceiling", "the autoscaler hit its ceiling an hour ago", {}),
        ("capacity_ceiling", "HPA 已達上限，無法再擴", {}),
        ("expiry_failing", "certificate expires in 4 days; renewal failing since Monday", {}),
        ("expiry_failing", "expiry in 2 days, the ACME challenge keeps erroring", {}),
        ("expiry_failing", "憑證 3 天後到期，續期失敗", {}),
    ],
)
def test_each_floor_is_recognised_in_ordinary_words(
    floor: str, text: str, labels: dict[str, str]
) -> None:
    incident = Incident(labels=labels, text=text.lower())
    names = [name for name, _ in floors_for(incident, None, builtin_knowledge())]
    assert floor in names, names


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("weekly report failed", {"namespace": "payments"}),
        ("job billing/weekly-report-29012345 failed", {"namespace": "billing"}),
        ("3 pods were evicted for disk pressure", {}),
        ("scratch build volume is 95% full", {}),
        ("the HPA scaled from 3 to 5 replicas", {}),
        ("certificate expires in 40 days", {}),
        ("renewal failed once, the certificate is valid for 80 days", {}),
    ],
)
def test_no_floor_from_an_incidental_word(text: str, labels: dict[str, str]) -> None:
    incident = Incident(labels=labels, text=text.lower())
    assert floors_for(incident, None, builtin_knowledge()) == []


def _crashloop(description: str, namespace: str, pod: str) -> dict[str, Any]:
    return _alert("KubePodCrashLooping", description, namespace=namespace, pod=pod)


@pytest.mark.parametrize(
    "description",
    [
        "payout-api restarts since the new release went live",
        "部署新版後，付款服務不斷重啟",
    ],
)
def test_a_change_to_something_that_moves_money_is_high(description: str) -> None:
    draft = _decide(_crashloop(description, "shop", POD), CHANGES)
    assert draft["recommended_action"]["tool"] == "undo_release"
    assert draft["risk_level"] == "high"
    assert draft["requires_human_approval"] is True
    assert "money" in draft["why_human"]


def test_a_payments_namespace_alone_raises_nothing() -> None:
    pod = "search-api-6f7c9d8b5-k2j4x"
    plain = _decide(_crashloop("restarts since the new release", "shop", pod), CHANGES)
    placed = _decide(_crashloop("restarts since the new release", "payments", pod), CHANGES)
    assert placed["recommended_action"]["tool"] == plain["recommended_action"]["tool"]
    assert placed["risk_level"] == plain["risk_level"] != "high"


@pytest.mark.parametrize("tools", [CHANGES, [], DANGEROUS], ids=["renew", "none", "dangerous"])
@pytest.mark.parametrize(
    "description",
    [
        "api.example.org certificate expires in 3 days and renewal has failed since Friday",
        "憑證將於 2 天後到期，自動續期失敗",
    ],
)
def test_a_certificate_near_expiry_with_failing_renewal_needs_a_person(
    description: str, tools: list[ToolSpec]
) -> None:
    context = _alert(
        "CertificateExpiringSoon", description, certificate="api-example-org", namespace="edge"
    )
    draft = _decide(context, tools)
    assert draft["risk_level"] in ("medium", "high", "critical")
    assert draft["requires_human_approval"] is True
    assert "renewal is failing" in draft["why_human"]


def test_an_hpa_at_its_maximum_is_high() -> None:
    context = _alert(
        "KubeHpaMaxedOut",
        "HPA shop/checkout has run at max replicas for 15 minutes",
        namespace="shop",
        horizontalpodautoscaler="checkout",
    )
    draft = _decide(context, CHANGES)
    assert draft["risk_level"] == "high"
    assert draft["requires_human_approval"] is True


# --- the floors are data a team may extend ----------------------------------------------


def test_a_team_may_add_a_floor(tmp_path: Path) -> None:
    team = tmp_path / "team.toml"
    team.write_text(
        "[floor.medical]\nrisk = 'critical'\nwhy = 'patient data'\nall_of = [['\\bpatient']]\n"
    )
    knowledge = load_knowledge([team])
    found = floors_for(Incident(text="patient records sync stalled"), None, knowledge)
    assert [(name, f.risk.value) for name, f in found] == [("medical", "critical")]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            "[floor.x]\nrisk = 'high'\nwhy = 'w'\nfamilies = ['no_such_family']\n",
            "floor.x.families: unknown family 'no_such_family'",
        ),
        ("[floor.x]\nrisk = 'high'\nwhy = 'w'\n", "floor.x: needs families or all_of"),
        ("[floor.x]\nrisk = 'high'\nwhy = 'w'\nall_of = [[]]\n", "every group needs"),
        ("[floor.x]\nrisk = 'high'\nwhy = 'w'\nall_of = [['(']]\n", "bad regex '('"),
    ],
)
def test_a_bad_floor_stops_start_up(tmp_path: Path, body: str, error: str) -> None:
    team = tmp_path / "team.toml"
    team.write_text(body)
    with pytest.raises(ConfigError, match="floor") as caught:
        load_knowledge([team])
    assert error in str(caught.value)
