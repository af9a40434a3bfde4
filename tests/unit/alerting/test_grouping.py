"""Group keys: which incident an alert belongs to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.alerting.grouping import DEFAULT_GROUP_BY, MAX_KEY, Grouping
from core.alerting.models import Alert, AlertStatus, Severity
from core.errors import ConfigError


def alert(name: str = "KubePodCrashLooping", **labels: str) -> Alert:
    return Alert(
        fingerprint="f",
        status=AlertStatus.FIRING,
        severity=Severity.HIGH,
        name=name,
        labels=labels,
        starts_at=datetime(2026, 3, 2, tzinfo=UTC),
        source="alertmanager",
    )


def test_default_keys_use_alertname_namespace_service() -> None:
    grouping = Grouping()
    assert grouping.group_by == DEFAULT_GROUP_BY == ("alertname", "namespace", "service")
    one = alert(alertname="Down", namespace="prod", service="api", pod="api-1")
    assert grouping.key(one) == "alertname=Down|namespace=prod|service=api"
    assert grouping.labels(one) == {"alertname": "Down", "namespace": "prod", "service": "api"}


def test_labels_outside_group_by_do_not_split_groups() -> None:
    grouping = Grouping()
    a = alert(alertname="Down", namespace="prod", pod="api-1")
    b = alert(alertname="Down", namespace="prod", pod="api-2")
    assert grouping.key(a) == grouping.key(b) == "alertname=Down|namespace=prod"


def test_missing_labels_are_left_out_and_alertname_falls_back_to_the_name() -> None:
    grouping = Grouping()
    assert grouping.key(alert("DiskFull")) == "alertname=DiskFull"
    assert grouping.key(alert("DiskFull", namespace="")) == "alertname=DiskFull"
    assert grouping.key(alert("Named", alertname="Labelled")) == "alertname=Labelled"


def test_key_follows_group_by_order() -> None:
    grouping = Grouping(("cluster", "alertname"))
    assert grouping.key(alert("X", cluster="eu", namespace="prod")) == "cluster=eu|alertname=X"


def test_no_grouping_label_at_all_gives_an_empty_key() -> None:
    assert Grouping(("cluster",)).key(alert("X")) == ""


@pytest.mark.parametrize(
    ("config", "group_by"),
    [
        ({}, DEFAULT_GROUP_BY),
        ({"incidents": {}}, DEFAULT_GROUP_BY),
        ({"incidents": {"group_by": ["alertname", "cluster"]}}, ("alertname", "cluster")),
        ({"incidents": {"group_by": ("cluster",)}}, ("cluster",)),
        ({"other": {"group_by": ["x"]}}, DEFAULT_GROUP_BY),
    ],
)
def test_from_config(config: dict[str, Any], group_by: tuple[str, ...]) -> None:
    assert Grouping.from_config(config).group_by == group_by


def test_from_config_keys_alerts_by_the_configured_labels() -> None:
    grouping = Grouping.from_config({"incidents": {"group_by": ["alertname", "cluster"]}})
    assert grouping.key(alert("X", cluster="eu", namespace="prod")) == "alertname=X|cluster=eu"


LIST_ERROR = "HOWL_CONFIG [incidents] group_by: expected a non-empty list of label names"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"incidents": "alertname"}, "HOWL_CONFIG [incidents]: expected a table"),
        ({"incidents": ["alertname"]}, "HOWL_CONFIG [incidents]: expected a table"),
        ({"incidents": {"group_by": []}}, LIST_ERROR),
        ({"incidents": {"group_by": "alertname"}}, LIST_ERROR),
        ({"incidents": {"group_by": ["alertname", ""]}}, LIST_ERROR),
        ({"incidents": {"group_by": ["alertname", 3]}}, LIST_ERROR),
        ({"incidents": {"group_by": None}}, LIST_ERROR),
    ],
)
def test_bad_config_is_one_line_naming_the_setting(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Grouping.from_config(config)
    assert str(caught.value) == message


def test_very_long_keys_are_hashed_short_and_stable() -> None:
    grouping = Grouping(("alertname", "namespace", "service"))
    long = alert("X", namespace="n" * 300, service="s" * 300)
    key = grouping.key(long)
    assert len(key) < 255
    assert len(key) == 200 + 1 + 32
    assert key.startswith("alertname=X|namespace=nnn"), "a readable head is kept"
    assert key == grouping.key(alert("X", namespace="n" * 300, service="s" * 300)), "stable"
    assert key == Grouping(("alertname", "namespace", "service")).key(long)
    # two keys with the same head still differ
    other = grouping.key(alert("X", namespace="n" * 300, service="t" * 300))
    assert other[:200] == key[:200] and other != key


def test_a_key_at_the_limit_is_kept_whole() -> None:
    grouping = Grouping(("cluster",))
    value = "v" * (MAX_KEY - len("cluster="))
    assert grouping.key(alert(cluster=value)) == f"cluster={value}"
    longer = grouping.key(alert(cluster=value + "v"))
    assert longer != f"cluster={value}v"
    assert longer.startswith("cluster=vvv") and longer[200] == "#"
