"""A real Alertmanager delivers to the real `howl run`; cards appear and resolve in the chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.playground.botapi import StoredMessage
from tests.e2e.alertmanager import alert, running_alertmanager
from tests.integration.conftest import ONCALL, TelegramWorld, is_decision_card
from tests.integration.howl_process import running_howl
from tests.servers.telegram import wait_for

pytestmark = pytest.mark.e2e

TOKEN = "am-webhook-token-0123456789"


async def test_alertmanager_to_chat_and_resolution(tmp_path: Path, telegram: TelegramWorld) -> None:
    settings = telegram.settings(HOWL_WEBHOOK_TOKEN=TOKEN)
    async with running_howl(tmp_path, **settings) as howl:  # noqa: SIM117 - am needs howl's URL
        async with running_alertmanager(f"{howl.http}/alerts/alertmanager", token=TOKEN) as am:

            def chat() -> list[StoredMessage]:
                return telegram.emulator.bot_messages(ONCALL)

            labels = {"namespace": "prod", "service": "checkout", "severity": "critical"}
            await am.push(alert("CheckoutDown", **labels))

            def card() -> list[str]:
                return [
                    m.text for m in chat() if "CheckoutDown" in m.text and not is_decision_card(m)
                ]

            [text] = await wait_for(card, timeout=20, what="the incident card")
            assert "critical" in text.lower() and "checkout" in text
            assert "firing" in text.lower()

            await am.push(alert("CheckoutDown", resolved=True, **labels))
            await wait_for(
                lambda: [t for t in card() if "resolved" in t.lower()],
                timeout=30,
                what="the card edited to resolved",
            )
            messages = [m for m in chat() if "CheckoutDown" in m.text and not is_decision_card(m)]
            assert len(messages) == 1, "resolution edits the card in place"
            assert messages[0].edit_date is not None
