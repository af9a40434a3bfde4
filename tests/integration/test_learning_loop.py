"""The whole loop over HTTP and the emulated chat, with the embedded engine in every role:

alert -> decision card -> an approver approves -> the action succeeds -> a runbook
review card -> the approver publishes it -> the same problem on another pod ->
its decision package names the runbook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from bot.playground.botapi import StoredMessage
from tests.integration.conftest import ALICE, ONCALL, TelegramWorld, is_decision_card
from tests.integration.howl_process import HowlProcess, running_howl
from tests.integration.test_approvals import Setup, get
from tests.integration.test_buttons import buttons, press
from tests.integration.test_debate import wait_for_async
from tests.integration.test_incident_commands import ask
from tests.servers.telegram import wait_for


def stuck(pod: str) -> dict[str, Any]:
    return {
        "title": "KubeDeploymentReplicasMismatch",
        "severity": "warning",
        "labels": {
            "alertname": "KubeDeploymentReplicasMismatch",
            "namespace": "prod",
            "deployment": "api",
            "pod": pod,
        },
        "annotations": {
            "summary": "api has 1 of 3 replicas ready; the workers hang and stop polling"
        },
        "source": "test",
    }


async def post(howl: HowlProcess, body: dict[str, Any]) -> int:
    async with httpx.AsyncClient(base_url=howl.http) as http:
        answer = await http.post("/alerts", json=body)
    assert answer.status_code == 200, answer.text
    [incident] = answer.json()["incidents"]
    return int(incident)


async def package_of(howl: HowlProcess, incident_id: int) -> dict[str, Any]:
    async def decided() -> dict[str, Any] | None:
        found = (await get(howl, f"/api/incidents/{incident_id}"))["decision"]
        return dict(found) if found else None

    return await wait_for_async(decided, timeout=20, what=f"#{incident_id}'s decision")


def message(world: TelegramWorld, starts: str, has: str = "") -> StoredMessage | None:
    return next(
        (
            m
            for m in world.emulator.bot_messages(ONCALL)
            if m.text.startswith(starts) and has in m.text
        ),
        None,
    )


async def test_an_approved_repair_becomes_a_runbook_the_next_debate_names(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    setup = Setup(tmp_path, telegram)
    settings = telegram.settings(HOWL_CONFIG=str(tmp_path / "howl.toml"))
    async with running_howl(tmp_path, **settings) as howl:
        first = await post(howl, stuck("api-7d9f8b6c4-x2x9k"))
        package = await package_of(howl, first)
        assert package["recommended_action"] == {
            "tool": "restart_deployment",
            "arguments": {"name": "api", "namespace": "prod"},
        }
        card = await wait_for(
            lambda: next(
                (
                    m
                    for m in telegram.emulator.bot_messages(ONCALL)
                    if is_decision_card(m) and buttons(m)
                ),
                None,
            ),
            timeout=20,
            what="the decision card with its buttons",
        )
        assert (await press(telegram, ALICE, card, buttons(card)["Approve"])).startswith(
            "Approved by Alice"
        )
        await wait_for(lambda: setup.executions() == [["api", "prod"]], what="the restart")

        review = await wait_for(
            lambda: (m := message(telegram, "📘")) is not None and bool(buttons(m)) and m,
            timeout=30,
            what="the runbook review card",
        )
        assert review is not None and list(buttons(review)) == ["Publish", "Reject"]
        answer = await press(telegram, ALICE, review, buttons(review)["Publish"])
        assert answer.endswith("published.")
        [entry] = (await get(howl, "/api/knowledge"))["knowledge"]
        assert entry["status"] == "published" and entry["kind"] == "runbook"

        # the same problem again, on another pod of the same deployment
        await ask(telegram, ALICE, f"/resolve {first}")
        second = await post(howl, stuck("api-5c6b7d8e9-qq7rt"))
        assert second != first
        again = await package_of(howl, second)
    assert f"#{entry['id']}" in again["summary"] and entry["title"] in again["summary"]
    assert again["recommended_action"] == package["recommended_action"]
