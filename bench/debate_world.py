"""The debate bench's world: the action registry, the fake model's script, the alerts.

The fake model answers every role validly after a fixed latency and limits
nothing itself (no concurrency cap, no rate window): whatever concurrency it
sees is what Howl's router allowed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from tests.servers.openai import Behaviour, FakeOpenAI

#: the fake model's latency per call
LATENCY_S = 0.2
#: the provider's concurrency in HOWL_CONFIG
CONCURRENCY = 8

ACTIONS = """
[[actions]]
name = "restart_deployment"
description = "Rolling restart of a deployment"
command = ["/bin/echo", "rollout", "restart", "deployment/{name}", "-n", "{namespace}"]
params = { name = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$" }
timeout_s = 10

[[actions]]
name = "rollback_deployment"
description = "Roll a deployment back to its previous revision"
command = ["/bin/echo", "rollout", "undo", "deployment/{name}", "-n", "{namespace}"]
params = { name = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$" }
timeout_s = 10

[[actions]]
name = "scale_deployment"
description = "Set a deployment's replica count"
command = ["/bin/echo", "scale", "deployment/{name}", "--replicas={replicas}", "-n", "{namespace}"]
params = { name = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$", replicas = "^[0-9]{1,2}$" }
timeout_s = 10

[[actions]]
name = "describe_pod"
description = "Read-only: kubectl describe of a pod"
command = ["/bin/echo", "describe", "pod", "{pod}", "-n", "{namespace}"]
params = { pod = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$" }
destructive = false
timeout_s = 10
"""


def provider_config(model_url: str) -> str:
    """The fake model as a named provider: the one way to give a provider concurrency 8.

    HOWL_LLM_BASE_URL's provider keeps the defaults (concurrency 4, 60 rpm) with no
    setting to change them, so the bench routes every debate task to `[llm.providers.fake]`.
    """
    routes = "".join(
        f'\n[llm.routes.{task}]\nproviders = ["fake"]\n'
        for task in ("diagnose", "solve", "review", "critique", "coordinate")
    )
    return f"""
[llm.providers.fake]
base_url = "{model_url}"
model = "fake-model"
local = true
concurrency = {CONCURRENCY}
rpm = 100000
timeout_s = 60
{routes}"""


CALL = {"tool": "restart_deployment", "arguments": {"name": "api", "namespace": "prod"}}
#: each role's valid answer, found by "You are the <Role>" at the start of its system prompt
ANSWERS: dict[str, dict[str, Any]] = {
    "Diagnostician": {
        "summary": "api workers hang on a stuck consumer",
        "hypotheses": [{"cause": "a consumer deadlocked", "confidence": 0.7, "evidence": ["q"]}],
    },
    "Solver": {"action": CALL, "rationale": "a restart frees the consumer", "risk_level": "low"},
    "Reviewer": {"verdict": "approve", "concerns": ["drops in-flight jobs"],
                 "risk_level": "medium"},
    "Critic": {"objections": ["a bad release fits too"], "worst_case": "jobs lost",
               "risk_level": "medium"},
    "Coordinator": {
        "recommended_action": CALL, "risk_level": "medium", "requires_human_approval": True,
        "confidence": 0.7, "diagnosis": "a consumer deadlocked",
        "summary": "restart the api deployment after approval",
        "why_human": "a restart drops in-flight jobs",
    },
}  # fmt: skip


@dataclass
class Model:
    """The fake model's script, with when each role was asked (the bench's own clock)."""

    latency_s: float = LATENCY_S
    fake: FakeOpenAI = field(default_factory=FakeOpenAI)
    #: (monotonic time, role) of every request, in arrival order
    asked: list[tuple[float, str]] = field(default_factory=list)
    _asked_more: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.fake.script = self.by_role
        self._replies = {
            role: Behaviour.json(answer, delay_s=self.latency_s) for role, answer in ANSWERS.items()
        }

    def by_role(self, body: dict[str, Any]) -> Behaviour:
        system = str(body["messages"][0]["content"])
        for role, behaviour in self._replies.items():
            if system.startswith(f"You are the {role}"):
                self.asked.append((time.monotonic(), role))
                self._asked_more.set()
                return behaviour
        raise RuntimeError(f"the bench's fake model has no answer for: {system[:60]!r}")

    def count(self, role: str) -> int:
        return sum(1 for _, r in self.asked if r == role)

    async def wait_asked(self, role: str, count: int, *, timeout_s: float) -> None:
        """Until `role` was asked `count` times in all (woken by each request)."""
        async with asyncio.timeout(timeout_s):
            while self.count(role) < count:
                self._asked_more.clear()
                await self._asked_more.wait()


def alert(name: str) -> dict[str, Any]:
    return {
        "title": name,
        "severity": "critical",
        "labels": {"alertname": name, "deployment": "api", "namespace": "prod"},
        "annotations": {"summary": "api workers stopped taking jobs"},
        "source": "bench",
    }


def storm_webhook(count: int) -> dict[str, Any]:
    """One Alertmanager post of `count` alerts, each its own incident (distinct alertname)."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"DebateStorm{i}", "namespace": "prod", "deployment": "api",
                       "severity": "warning"},
            "annotations": {"summary": "api workers stopped taking jobs"},
            "startsAt": "2026-12-03T06:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph", "fingerprint": f"storm-{i}",
        }
        for i in range(count)
    ]  # fmt: skip
    return {
        "version": "4", "groupKey": "bench", "truncatedAlerts": 0, "status": "firing",
        "receiver": "howl", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093", "alerts": alerts,
    }  # fmt: skip
