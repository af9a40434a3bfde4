"""A drift world for tests: a real git repository of manifests and a fake `kubectl`.

The fake kubectl is a script: `get …` prints the JSON in `live.json` (exits 1
when there is no such file, prints it raw whatever it holds), every call
appends its argv as one JSON line to `kubectl.log`.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.actions.process import SubprocessRunner
from core.drift.config import DriftConfig, parse_schedule
from core.drift.interpret import Interpreter
from core.drift.ports import MemoryDriftStore
from core.drift.scan import Scanner
from core.llm.completion import Completion
from core.llm.embedded.drift import interpret
from core.llm.types import ChatRequest

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: prod
  labels:
    app: api
spec:
  replicas: 3
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: registry.example/api:1.4.2
          ports:
            - containerPort: 8080
          resources:
            limits:
              cpu: 500m
              memory: 1Gi
"""
SERVICE_AND_CONFIG = """\
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: prod
spec:
  selector:
    app: api
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-settings
  namespace: prod
data:
  LOG_LEVEL: info
"""

FAKE_KUBECTL = """\
#!{python}
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "kubectl.log"), "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:2] == ["get"]:
    path = os.path.join(here, "live.json")
    if not os.path.exists(path):
        sys.stderr.write("error: the server doesn't have a resource type\\n")
        sys.exit(1)
    sys.stdout.write(open(path).read())
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def desired_objects() -> list[dict[str, Any]]:
    """The three desired objects as the API server would return them (with its noise)."""
    import yaml

    docs = [yaml.safe_load(DEPLOYMENT), *yaml.safe_load_all(SERVICE_AND_CONFIG)]
    return [with_cluster_noise(doc) for doc in docs]


def with_cluster_noise(body: dict[str, Any]) -> dict[str, Any]:
    """What a cluster adds to an applied object: bookkeeping, status and defaults."""
    live = copy.deepcopy(body)
    meta = live["metadata"]
    meta.update(
        uid="0b9d7c1e-6f0a-4a57-9a5e-111111111111",
        resourceVersion="81234",
        generation=4,
        creationTimestamp="2026-11-30T10:00:00Z",
        managedFields=[{"manager": "kubectl-client-side-apply", "operation": "Update"}],
        annotations={
            "kubectl.kubernetes.io/last-applied-configuration": json.dumps(body),
            "deployment.kubernetes.io/revision": "4",
        },
    )
    live["status"] = {"observedGeneration": 4}
    if live["kind"] == "Deployment":
        spec = live["spec"]
        spec.update(revisionHistoryLimit=10, progressDeadlineSeconds=600)
        spec["strategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
        }
        pod = spec["template"]["spec"]
        pod.update(
            restartPolicy="Always",
            dnsPolicy="ClusterFirst",
            schedulerName="default-scheduler",
            securityContext={},
            terminationGracePeriodSeconds=30,
        )
        spec["template"]["metadata"]["creationTimestamp"] = None
        for container in pod["containers"]:
            container.update(
                imagePullPolicy="IfNotPresent",
                terminationMessagePath="/dev/termination-log",
                terminationMessagePolicy="File",
            )
            container["resources"]["limits"]["cpu"] = "0.5"  # same quantity, other spelling
            container["resources"]["limits"]["memory"] = "1024Mi"
            for port in container["ports"]:
                port["protocol"] = "TCP"
    if live["kind"] == "Service":
        live["spec"].update(
            clusterIP="10.96.12.7",
            clusterIPs=["10.96.12.7"],
            type="ClusterIP",
            sessionAffinity="None",
            ipFamilies=["IPv4"],
            ipFamilyPolicy="SingleStack",
            internalTrafficPolicy="Cluster",
        )
        live["spec"]["ports"][0]["protocol"] = "TCP"
    return live


class EmbeddedCompleter:
    """The router's last resort, alone: the embedded drift reading, as a Completion."""

    def __init__(self) -> None:
        self.requests: list[ChatRequest] = []

    async def complete(self, request: ChatRequest) -> Completion:
        self.requests.append(request)
        return Completion(value=interpret(request.context["drift"]), provider="embedded")


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


@dataclass
class World:
    root: Path
    repo: Path
    bin: Path
    kubectl: Path
    completer: EmbeddedCompleter
    store: MemoryDriftStore

    def set_live(self, objects: list[dict[str, Any]] | str, *, as_list: bool = True) -> None:
        if isinstance(objects, str):
            text = objects
        elif as_list:
            text = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
        else:
            (only,) = objects
            text = json.dumps(only)
        (self.bin / "live.json").write_text(text)

    def kubectl_calls(self) -> list[list[str]]:
        log = self.bin / "kubectl.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def config(self, **changes: Any) -> DriftConfig:
        values: dict[str, Any] = {
            "desired": self.repo / "manifests",
            "live_command": (str(self.kubectl), "get", "deploy,svc,cm", "-A", "-o", "json"),
            "kubectl": str(self.kubectl),
            "schedule": parse_schedule("15m"),
            "timeout_s": 20.0,
        }
        values.update(changes)
        return DriftConfig(**values)

    def scanner(self, config: DriftConfig | None = None) -> Scanner:
        return Scanner(
            config if config is not None else self.config(),
            runner=SubprocessRunner(keep_bytes=16 * 1024 * 1024),
            interpreter=Interpreter(self.completer),
            store=self.store,
            clock=FixedClock(),
        )


def make_world(root: Path) -> World:
    repo = root / "gitops"
    (repo / "manifests").mkdir(parents=True)
    (repo / "manifests" / "deployment.yaml").write_text(DEPLOYMENT)
    (repo / "manifests" / "service.yaml").write_text(SERVICE_AND_CONFIG)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    git(repo, "add", ".")
    git(repo, "-c", "user.name=Test", "-c", "user.email=t@example", "commit", "-q", "-m", "init")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable))
    kubectl.chmod(0o755)
    return World(root, repo, bin_dir, kubectl, EmbeddedCompleter(), MemoryDriftStore())
