"""/silence makes the real Alertmanager silence the incident's group; /resolve expires it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.alertmanager import Alertmanager, alert, running_alertmanager
from tests.integration.conftest import ALICE, ONCALL, TelegramWorld
from tests.integration.howl_process import HowlProcess, running_howl
from tests.integration.test_buttons import buttons, card_with, press
from tests.integration.test_incident_commands import ask, card_says
from tests.servers.telegram import free_port

pytestmark = pytest.mark.e2e

LABELS = {"namespace": "prod", "service": "checkout", "severity": "critical"}


async def silences(am: Alertmanager) -> list[dict[str, Any]]:
    answer = await am.client.get(f"{am.url}/api/v2/silences")
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()
    return found


@contextlib.asynccontextmanager
async def firing_in_alertmanager(
    tmp_path: Path, telegram: TelegramWorld
) -> AsyncIterator[tuple[HowlProcess, Alertmanager]]:
    """A real Alertmanager delivering to `howl run`, which silences there; one alert fired."""
    listen = f"127.0.0.1:{free_port()}"
    async with running_alertmanager(f"http://{listen}/alerts/alertmanager") as am:  # noqa: SIM117
        async with running_howl(
            tmp_path, **telegram.settings(HOWL_HTTP_LISTEN=listen, HOWL_ALERTMANAGER_URL=am.url)
        ) as howl:
            await am.push(alert("CheckoutDown", **LABELS))
            yield howl, am


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_silence_and_resolve_follow_in_alertmanager(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with firing_in_alertmanager(tmp_path, telegram) as (howl, am):
        await card_says(telegram, 1, "CheckoutDown", "firing")

        before = datetime.now().astimezone()
        assert await ask(telegram, ALICE, "/silence 1 2h") == (
            "Incident #1 silenced for 2h by Alice."
        )
        [made] = await silences(am)
        assert made["status"]["state"] == "active"
        assert sorted((m["name"], m["value"], m["isEqual"], m["isRegex"])
                      for m in made["matchers"]) == [
            ("alertname", "CheckoutDown", True, False),
            ("namespace", "prod", True, False),
            ("service", "checkout", True, False),
        ]  # fmt: skip
        assert made["createdBy"] == "Alice"
        assert made["comment"] == "Howl incident #1: CheckoutDown"
        ends = when(made["endsAt"])
        assert before + timedelta(hours=2) - timedelta(seconds=1) <= ends
        assert ends <= datetime.now().astimezone() + timedelta(hours=2)

        card = await card_says(telegram, 1, "silenced", "Silence in Alertmanager")
        assert "could not be made" not in card
        link = f'<a href="{am.url}/#/silences/{made["id"]}">Silence in Alertmanager</a>'
        assert link in card_html(telegram, 1)

        assert await ask(telegram, ALICE, "/resolve 1") == "Incident #1 resolved by Alice."
        [ended] = await silences(am)
        assert (ended["id"], ended["status"]["state"]) == (made["id"], "expired")
        resolved = await card_says(telegram, 1, "resolved", "Resolved by Alice")
        assert "Silence in Alertmanager" not in resolved
        await howl.stop()
    assert "Traceback" not in howl.logs()


def card_html(world: TelegramWorld, incident_id: int) -> str:
    [card] = [
        m.html for m in world.emulator.bot_messages(ONCALL)
        if m.reply_to is None and f"#{incident_id} " in m.text and "Severity:" in m.text
    ]  # fmt: skip
    return card


async def test_the_silence_button_also_silences_in_alertmanager(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with firing_in_alertmanager(tmp_path, telegram) as (howl, am):
        card = await card_with(telegram, 1, "Ack", "Silence 1h", "Resolve")
        answer = await press(telegram, ALICE, card, buttons(card)["Silence 1h"])
        assert answer == "Incident #1 silenced for 1h by Alice."
        [made] = await silences(am)
        assert (made["status"]["state"], made["createdBy"]) == ("active", "Alice")
        assert {m["name"] for m in made["matchers"]} == {"alertname", "namespace", "service"}
        await card_says(telegram, 1, "silenced", "Silence in Alertmanager")
        await howl.stop()
    assert "Traceback" not in howl.logs()
