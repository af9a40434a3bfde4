"""A storm: 1,000 alerts in 50 groups through Alertmanager-shaped webhooks, into one chat,
against a Bot API emulator that enforces Telegram's limits (429 with retry_after).

Measures seconds until every incident is visible in the chat (its own card or a
digest line) and the 429 answers Howl provoked. Baseline: the time an unplanned
sender would need to post one card per incident at a group's 20 messages/min.
Targets: every incident visible within 60 s, zero 429s.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.howl_proc import howl_running
from bench.table import Row
from bot.playground.botapi import BotApiEmulator
from bot.playground.server import create_emulator_app
from bot.telegram_limits import GROUP
from tests.servers.telegram import serve_asgi

TOKEN = "424242:storm-bench-token-local-only-000000"
CHAT = -1004242
GROUPS = 50
ALERTS_PER_GROUP = 20
QUIET_AFTER_S = 20


def group_webhook(group: int, count: int) -> dict[str, Any]:
    """Alertmanager re-sends a group with every alert in it so far."""
    name = f"StormGroup{group:02d}"
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": name,
                "namespace": "prod",
                "pod": f"p-{i}",
                "severity": "critical",
            },
            "annotations": {"summary": f"{name} pod p-{i}"},
            "startsAt": "2026-11-23T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": f"{group:08x}{i:08x}",
        }
        for i in range(count)
    ]
    return {
        "version": "4", "groupKey": name, "truncatedAlerts": 0, "status": "firing",
        "receiver": "howl", "groupLabels": {"alertname": name}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093", "alerts": alerts,
    }  # fmt: skip


def visible(emulator: BotApiEmulator) -> int:
    chat = "\n".join(m.text for m in emulator.bot_messages(CHAT))
    return sum(f"StormGroup{g:02d}" in chat for g in range(GROUPS))


async def run() -> list[Row]:
    emulator = BotApiEmulator(token=TOKEN, enforce_limits=True)
    emulator.add_chat(CHAT, title="On-call")
    async with serve_asgi(create_emulator_app(emulator)) as tg:
        with tempfile.TemporaryDirectory() as tmp:
            settings = {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": f"{tg}/bot",
                "HOWL_ALERT_CHAT_ID": str(CHAT),
            }
            async with (
                howl_running(Path(tmp), **settings) as url,
                httpx.AsyncClient(base_url=url, timeout=30) as client,
            ):
                started = time.perf_counter()
                for count in range(1, ALERTS_PER_GROUP + 1):
                    answers = await asyncio.gather(
                            *(client.post("/alerts/alertmanager", json=group_webhook(g, count))
                              for g in range(GROUPS))
                        )  # fmt: skip
                    assert all(a.status_code == 200 for a in answers), answers[0].text
                while visible(emulator) < GROUPS and time.perf_counter() - started < 180:
                    await asyncio.sleep(0.1)
                all_visible = time.perf_counter() - started
                await asyncio.sleep(QUIET_AFTER_S)  # let edits drain: do they provoke 429s?
        await emulator.close()  # wakes any long poll left open, before the server stops
    unplanned = GROUPS / GROUP.count * GROUP.seconds
    messages = len(emulator.bot_messages(CHAT))
    return [
        Row("storm", f"all {GROUPS} incidents visible", all_visible, "s", unplanned,
            "one card each at 20/min", "< 60 s", all_visible < 60 and visible(emulator) == GROUPS),
        Row("storm", "429 answers", emulator.stats.too_many_requests, "", target="0",
            met=emulator.stats.too_many_requests == 0),
        Row("storm", "messages posted", messages, "", target="-"),
    ]  # fmt: skip
