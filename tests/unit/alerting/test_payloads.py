"""Sender payloads -> alerts: Alertmanager v4, Grafana, generic; and one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.alerting.models import AlertStatus, Severity
from core.alerting.payloads import (
    MAX_LABELS,
    fingerprint_of,
    parse_alertmanager,
    parse_generic,
    parse_grafana,
    severity_of,
)
from core.errors import InvalidInputError, PayloadError

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sender_alert(**fields: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": "firing",
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "prod", "severity": "page"},
        "annotations": {"summary": "api-1 restarts"},
        "startsAt": "2026-03-02T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://prom.example/graph?g0.expr=up",
        "fingerprint": "c0ffee0123456789",
    }
    alert.update(fields)
    return alert


def am(*alerts: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "howl",
        "alerts": list(alerts),
        **fields,
    }


def payload_error(parse: Any, body: Any) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        parse(body, now=NOW)
    return caught.value


# --- Alertmanager -----------------------------------------------------------------


def test_alertmanager_alert_keeps_what_the_sender_said() -> None:
    [alert] = parse_alertmanager(am(sender_alert()), now=NOW)
    assert alert.fingerprint == "c0ffee0123456789"
    assert alert.status is AlertStatus.FIRING
    assert alert.severity is Severity.CRITICAL  # "page"
    assert alert.name == "KubePodCrashLooping"
    assert alert.labels == {
        "alertname": "KubePodCrashLooping",
        "namespace": "prod",
        "severity": "page",
    }
    assert alert.annotations == {"summary": "api-1 restarts"}
    assert alert.starts_at == STARTED
    assert alert.ends_at is None, "0001-01-01 is Alertmanager's 'no end yet'"
    assert alert.generator_url == "https://prom.example/graph?g0.expr=up"
    assert alert.source == "alertmanager"
    assert alert.sender_start is True
    assert alert.summary == "api-1 restarts"


def test_alertmanager_without_fingerprint_hashes_the_labels() -> None:
    labels = {"alertname": "A", "pod": "p"}
    [alert] = parse_alertmanager(am(sender_alert(labels=labels, fingerprint=None)), now=NOW)
    assert alert.fingerprint == fingerprint_of(labels)
    assert fingerprint_of({"pod": "p", "alertname": "A"}) == alert.fingerprint, "order-free"
    assert len(alert.fingerprint) == 16


def test_resolved_alert_keeps_its_end() -> None:
    [alert] = parse_alertmanager(
        am(sender_alert(status="resolved", endsAt="2026-03-02T09:20:00Z")), now=NOW
    )
    assert alert.status is AlertStatus.RESOLVED
    assert alert.ends_at == datetime(2026, 3, 2, 9, 20, tzinfo=UTC)


@pytest.mark.parametrize("ends", ["0001-01-01T00:00:00Z", None])
def test_resolved_alert_without_an_end_ends_now(ends: str | None) -> None:
    [alert] = parse_alertmanager(am(sender_alert(status="resolved", endsAt=ends)), now=NOW)
    assert alert.ends_at == NOW


def test_times_are_normalised_to_utc() -> None:
    [alert] = parse_alertmanager(
        am(sender_alert(startsAt="2026-03-02T11:00:00+02:00", endsAt="2026-03-02T12:00:00+02:00")),
        now=NOW,
    )
    assert alert.starts_at == STARTED and alert.starts_at.tzinfo is UTC
    assert alert.ends_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert alert.ends_at.tzinfo is UTC


def test_naive_start_is_taken_as_utc() -> None:
    [alert] = parse_alertmanager(am(sender_alert(startsAt="2026-03-02T09:00:00")), now=NOW)
    assert alert.starts_at == STARTED


def test_naive_end_is_taken_as_utc_like_a_naive_start() -> None:
    [alert] = parse_alertmanager(
        am(sender_alert(status="resolved", endsAt="2026-03-02T09:20:00")), now=NOW
    )
    assert alert.ends_at == datetime(2026, 3, 2, 9, 20, tzinfo=UTC)


def test_missing_alertname_falls_back() -> None:
    [alert] = parse_alertmanager(am(sender_alert(labels={"job": "node"})), now=NOW)
    assert alert.name == "alert"
    assert alert.severity is Severity.WARNING


def test_long_alertname_is_cut_to_the_name_limit() -> None:
    [alert] = parse_alertmanager(am(sender_alert(labels={"alertname": "A" * 300})), now=NOW)
    assert alert.name == "A" * 200


def test_priority_label_stands_in_for_severity() -> None:
    [alert] = parse_alertmanager(
        am(sender_alert(labels={"alertname": "A", "priority": "P2"})), now=NOW
    )
    assert alert.severity is Severity.HIGH


def test_every_alert_of_the_body_is_parsed_in_order() -> None:
    alerts = parse_alertmanager(
        am(*(sender_alert(fingerprint=f"fp{i}") for i in range(3))), now=NOW
    )
    assert [a.fingerprint for a in alerts] == ["fp0", "fp1", "fp2"]
    assert parse_alertmanager(am(), now=NOW) == []


def test_unknown_fields_are_ignored() -> None:
    body = am(sender_alert(silenceURL="x"), truncatedAlerts=0, commonLabels={})
    assert len(parse_alertmanager(body, now=NOW)) == 1


@pytest.mark.parametrize(
    ("word", "severity"),
    [
        ("critical", Severity.CRITICAL),
        ("P1", Severity.CRITICAL),
        ("crit", Severity.CRITICAL),
        (" SEV1 ", Severity.CRITICAL),
        ("error", Severity.HIGH),
        ("p2", Severity.HIGH),
        ("warn", Severity.WARNING),
        ("Warning", Severity.WARNING),
        ("p3", Severity.WARNING),
        ("none", Severity.INFO),
        ("info", Severity.INFO),
        ("ok", Severity.INFO),
        ("whatever", Severity.WARNING),
        ("", Severity.WARNING),
        (None, Severity.WARNING),
    ],
)
def test_severity_words_are_normalised(word: str | None, severity: Severity) -> None:
    assert severity_of(word) is severity


def test_severity_label_is_normalised_in_alerts() -> None:
    [alert] = parse_alertmanager(
        am(sender_alert(labels={"alertname": "A", "severity": "none"})), now=NOW
    )
    assert alert.severity is Severity.INFO


# --- Grafana ----------------------------------------------------------------------


def test_grafana_title_names_alerts_without_alertname() -> None:
    body = {
        "title": "[FIRING:1] Disk almost full",
        "state": "alerting",
        "alerts": [sender_alert(labels={"instance": "db1"}), sender_alert()],
    }
    unnamed, named = parse_grafana(body, now=NOW)
    assert unnamed.name == "[FIRING:1] Disk almost full"
    assert named.name == "KubePodCrashLooping"
    assert {unnamed.source, named.source} == {"grafana"}


def test_grafana_without_title_has_a_fallback_name() -> None:
    [alert] = parse_grafana({"alerts": [sender_alert(labels={"x": "y"})]}, now=NOW)
    assert alert.name == "Grafana alert"


GRAFANA_LINKS = {
    "dashboardURL": "https://grafana.example/d/abc?orgId=1",
    "panelURL": "https://grafana.example/d/abc?orgId=1&viewPanel=2",
    "silenceURL": "https://grafana.example/alerting/silence/new?matcher=alertname%3DX",
}


def test_grafana_links_are_kept_as_annotations() -> None:
    [alert] = parse_grafana({"alerts": [sender_alert(**GRAFANA_LINKS)]}, now=NOW)
    assert alert.annotations == {
        "summary": "api-1 restarts",
        "dashboard_url": "https://grafana.example/d/abc?orgId=1",
        "panel_url": "https://grafana.example/d/abc?orgId=1&viewPanel=2",
        "silence_url": "https://grafana.example/alerting/silence/new?matcher=alertname%3DX",
    }


def test_grafana_empty_links_are_left_out_and_the_authors_annotation_wins() -> None:
    mine = {"summary": "s", "dashboard_url": "https://wiki.example/board"}
    item = sender_alert(annotations=mine, dashboardURL="https://grafana.example/d/1", panelURL="")
    [alert] = parse_grafana({"alerts": [item]}, now=NOW)
    assert alert.annotations == mine


def test_grafana_link_too_long_names_the_field() -> None:
    body = {"alerts": [sender_alert(panelURL="https://g.example/" + "x" * 5000)]}
    error = payload_error(parse_grafana, body)
    assert str(error) == "alerts[0].panelURL: string should have at most 4096 characters"


def test_alertmanager_ignores_grafanas_link_fields() -> None:
    [alert] = parse_alertmanager(am(sender_alert(**GRAFANA_LINKS)), now=NOW)
    assert alert.annotations == {"summary": "api-1 restarts"}


# --- generic ----------------------------------------------------------------------


def test_generic_alert() -> None:
    [alert] = parse_generic(
        {"title": "Disk full", "severity": "P1", "labels": {"host": "db1"}}, now=NOW
    )
    assert alert.name == "Disk full"
    assert alert.severity is Severity.CRITICAL
    assert alert.status is AlertStatus.FIRING
    assert alert.labels == {"host": "db1"}
    assert alert.annotations == {"summary": "Disk full"}
    assert alert.starts_at == NOW and alert.ends_at is None
    assert alert.sender_start is False, "Howl stamped the time, the sender did not state it"
    assert alert.source == "generic"
    assert alert.fingerprint == fingerprint_of({"alertname": "Disk full", "host": "db1"})


def test_generic_fingerprint_depends_on_title_and_labels() -> None:
    def fp(body: dict[str, Any]) -> str:
        return parse_generic(body, now=NOW)[0].fingerprint

    base = fp({"title": "Disk full", "labels": {"host": "db1"}})
    assert fp({"title": "Disk full", "labels": {"host": "db1"}, "severity": "high"}) == base
    assert fp({"title": "Disk full", "labels": {"host": "db2"}}) != base
    assert fp({"title": "Disk empty", "labels": {"host": "db1"}}) != base
    assert fp({"title": "Disk full", "fingerprint": "mine"}) == "mine"


def test_generic_resolved_ends_now() -> None:
    [alert] = parse_generic({"title": "Disk full", "status": "resolved"}, now=NOW)
    assert alert.status is AlertStatus.RESOLVED
    assert alert.ends_at == NOW


def test_generic_keeps_its_annotations_and_source() -> None:
    [alert] = parse_generic(
        {"title": "T", "annotations": {"summary": "own words"}, "source": "cron"}, now=NOW
    )
    assert alert.annotations == {"summary": "own words"}
    assert alert.source == "cron"


def test_generic_severity_may_come_from_labels() -> None:
    [alert] = parse_generic({"title": "T", "labels": {"severity": "major"}}, now=NOW)
    assert alert.severity is Severity.HIGH


def test_generic_title_is_stripped() -> None:
    [alert] = parse_generic({"title": "  Disk full \n"}, now=NOW)
    assert alert.name == "Disk full"


# --- errors: exact one-liners -----------------------------------------------------


def labels_alert(labels: Any) -> dict[str, Any]:
    return am(sender_alert(labels=labels))


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "body: expected a JSON object, got array"),
        ("x", "body", "body: expected a JSON object, got string"),
        ({"alerts": []}, "version", "version: field required"),
        ({"version": "3", "alerts": []}, "version", "version: input should be '4'"),
        ({"version": "4"}, "alerts", "alerts: field required"),
        ({"version": "4", "alerts": {}}, "alerts", "alerts: input should be a valid list"),
        (
            am(
                sender_alert(),
                sender_alert(),
                {"status": "firing", "startsAt": "2026-01-01T00:00:00Z"},
            ),
            "alerts[2].labels",
            "alerts[2].labels: field required",
        ),
        (
            labels_alert({}),
            "alerts[0].labels",
            "alerts[0].labels: at least one label is required",
        ),
        (
            labels_alert({"alertname": "A", "replicas": 3}),
            "alerts[0].labels.replicas",
            "alerts[0].labels.replicas: input should be a valid string",
        ),
        (
            labels_alert({f"k{i}": "v" for i in range(MAX_LABELS + 1)}),
            "alerts[0].labels",
            "alerts[0].labels: at most 64 entries",
        ),
        (
            labels_alert({"": "v"}),
            "alerts[0].labels",
            "alerts[0].labels: key '' must be 1 to 128 characters",
        ),
        (
            labels_alert({"k": "v" * 4097}),
            "alerts[0].labels",
            "alerts[0].labels: value of 'k' is longer than 4096 characters",
        ),
        (
            am(sender_alert(annotations={"description": "d" * 16385})),
            "alerts[0].annotations",
            "alerts[0].annotations: value of 'description' is longer than 16384 characters",
        ),
        (
            am(sender_alert(status="pending")),
            "alerts[0].status",
            "alerts[0].status: input should be 'firing' or 'resolved'",
        ),
        (
            am(sender_alert(startsAt=None)),
            "alerts[0].startsAt",
            "alerts[0].startsAt: input should be a valid datetime",
        ),
        (
            am(sender_alert(fingerprint="f" * 65)),
            "alerts[0].fingerprint",
            "alerts[0].fingerprint: string should have at most 64 characters",
        ),
    ],
)
def test_alertmanager_errors_name_the_field(body: Any, field: str, message: str) -> None:
    error = payload_error(parse_alertmanager, body)
    assert (str(error), error.field) == (message, field)
    assert isinstance(error, InvalidInputError)
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "title", "title: field required"),
        ({"severity": "high"}, "title", "title: field required"),
        ({"title": ""}, "title", "title: string should have at least 1 character"),
        ({"title": "   "}, "title", "title: string should have at least 1 character"),
        ({"title": "x" * 201}, "title", "title: string should have at most 200 characters"),
        ({"title": 5}, "title", "title: input should be a valid string"),
        (
            {"title": "t", "status": "ok"},
            "status",
            "status: input should be 'firing' or 'resolved'",
        ),
        ({"title": "t", "labels": "x"}, "labels", "labels: input should be a valid dictionary"),
        (
            {"title": "t", "labels": {"a": None}},
            "labels.a",
            "labels.a: input should be a valid string",
        ),
        (
            {"title": "t", "fingerprint": ""},
            "fingerprint",
            "fingerprint: string should have at least 1 character",
        ),
        ([{"title": "t"}], "body", "body: expected a JSON object, got array"),
    ],
)
def test_generic_errors_name_the_field(body: Any, field: str, message: str) -> None:
    error = payload_error(parse_generic, body)
    assert (str(error), error.field) == (message, field)


def test_grafana_errors_name_the_field() -> None:
    error = payload_error(parse_grafana, {"title": "t"})
    assert (str(error), error.field) == ("alerts: field required", "alerts")
    error = payload_error(parse_grafana, {"alerts": [sender_alert(labels={})]})
    assert str(error) == "alerts[0].labels: at least one label is required"


def test_a_bad_alert_rejects_the_whole_body() -> None:
    error = payload_error(parse_alertmanager, am(sender_alert(), sender_alert(labels={})))
    assert error.field == "alerts[1].labels"
    assert error.reason == "at least one label is required"
