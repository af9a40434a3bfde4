"""The symptoms hash: stable for the same problem anywhere, different for another problem."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from core.knowledge.symptoms import IDENTIFYING, incident_symptoms, normalise, symptoms_hash

NAMES = st.from_regex(r"[A-Z][a-z]{2,8}[A-Z][a-z]{2,8}", fullmatch=True)
TOKENS = st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True)
IDENTITY = st.dictionaries(st.sampled_from(sorted(IDENTIFYING)), TOKENS, max_size=5)
#: labels that name a replica, a moment or the sender, never the failing thing (a pod's
#: name is tested apart: it may still say which workload it belongs to)
NOISE_KEYS = ("instance", "container_id", "pod_ip", "node", "uid", "severity", "prometheus")
NOISE = st.dictionaries(st.sampled_from(NOISE_KEYS), TOKENS, max_size=len(NOISE_KEYS))
HEX16 = re.compile(r"^[0-9a-f]{16}$")


@given(NAMES, IDENTITY)
def test_the_hash_is_sixteen_hex_characters_and_deterministic(
    name: str, labels: dict[str, str]
) -> None:
    first = symptoms_hash(name, labels)
    assert HEX16.match(first)
    assert symptoms_hash(name, dict(reversed(list(labels.items())))) == first


@given(NAMES, IDENTITY, NOISE, NOISE)
def test_replica_noise_never_changes_the_hash(
    name: str, labels: dict[str, str], noise_a: dict[str, str], noise_b: dict[str, str]
) -> None:
    assert symptoms_hash(name, {**noise_a, **labels}) == symptoms_hash(name, {**noise_b, **labels})


@given(NAMES, IDENTITY, st.from_regex(r"[a-z0-9]{5}", fullmatch=True))
def test_another_pod_of_the_same_deployment_hashes_the_same(
    name: str, labels: dict[str, str], suffix: str
) -> None:
    owners = ("deployment", "statefulset", "daemonset", "cronjob")
    labels = {k: v for k, v in labels.items() if k not in owners}
    one = {**labels, "pod": "api-7d9f8b6c4-x2x9k"}
    other = {**labels, "pod": f"api-5c6b7d8e9-{suffix}"}
    assert symptoms_hash(name, one) == symptoms_hash(name, other)
    assert symptoms_hash(name, one) != symptoms_hash(name, {**labels, "pod": "web-7d9f8b6c4-x2x9k"})


@given(NAMES, NAMES, IDENTITY)
def test_another_alert_is_another_problem(a: str, b: str, labels: dict[str, str]) -> None:
    if a.lower() != b.lower():
        assert symptoms_hash(a, labels) != symptoms_hash(b, labels)


@given(NAMES, IDENTITY, st.sampled_from(sorted(IDENTIFYING)), TOKENS)
def test_another_failing_thing_is_another_problem(
    name: str, labels: dict[str, str], key: str, value: str
) -> None:
    changed = {**labels, key: value}
    if normalise(name, changed) != normalise(name, labels):
        assert symptoms_hash(name, changed) != symptoms_hash(name, labels)


@given(NAMES, IDENTITY)
def test_case_and_spacing_do_not_matter(name: str, labels: dict[str, str]) -> None:
    shouted = {k.upper(): f"  {v.upper()} " for k, v in labels.items()}
    assert symptoms_hash(f" {name.upper()} ", shouted) == symptoms_hash(name, labels)


def test_an_incident_hashes_by_its_alertname_label_else_its_title() -> None:
    labels = {"alertname": "KubePodCrashLooping", "namespace": "prod"}
    assert incident_symptoms(labels, "anything").hash == symptoms_hash(
        "KubePodCrashLooping", labels
    )
    assert incident_symptoms({}, "payments failing").alert == "payments failing"


def test_a_cronjob_run_is_its_cronjob() -> None:
    a = symptoms_hash("KubeJobFailed", {"namespace": "ops", "job_name": "backup-29012345"})
    b = symptoms_hash("KubeJobFailed", {"namespace": "ops", "job_name": "backup-29012399"})
    assert a == b
