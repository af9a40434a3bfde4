"""A storm: 1,000 alerts in 50 groups (10 alert names x 5 namespaces, 20 pods each) through
Alertmanager-shaped webhooks into one chat, against a Bot API emulator that enforces
Telegram's limits (20/min per group, 30/s overall, 429 with retry_after).

Measures seconds until every incident is named in the chat *with its
namespace* (its own card, or a digest line naming both: the workload and the
check are `tests/storm.py`, shared with the storm test), the 429 answers Howl
provoked, how long `/status` took to answer mid-storm, and incidents announced
only by a late edit (which notifies nobody). Baseline: the time an unplanned
sender would need to post one card per incident at a group's 20 messages/min.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from bench.howl_proc import howl_running
from bench.table import Row
from bot.playground.botapi import BotApiEmulator
from bot.playground.server import create_emulator_app
from bot.telegram_limits import GROUP
from tests.servers.telegram import serve_asgi
from tests.storm import GROUPS, rounds, silent_announcements, unnamed

TOKEN = "424242:storm-bench-token-local-only-000000"
CHAT = -1004242
ASKER = 4243
QUIET_AFTER_S = 20
GIVE_UP_S = 180


async def run() -> list[Row]:
    emulator = BotApiEmulator(token=TOKEN, enforce_limits=True)
    emulator.add_chat(CHAT, title="On-call")
    emulator.add_user(ASKER, "Asker")
    status_s = float("nan")
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
                question = None
                for n, batch in enumerate(rounds()):
                    answers = await asyncio.gather(
                        *(client.post("/alerts/alertmanager", json=body) for body in batch)
                    )
                    assert all(a.status_code == 200 for a in answers), answers[0].text
                    if n == 2:
                        asked_at = emulator.clock()
                        update = await emulator.user_sends(CHAT, ASKER, "/status")
                        question = update["message"]["message_id"]

                def chat() -> list[str]:
                    return [m.text for m in emulator.bot_messages(CHAT)]

                while unnamed(chat()) and time.perf_counter() - started < GIVE_UP_S:
                    await asyncio.sleep(0.1)
                all_named = time.perf_counter() - started
                await asyncio.sleep(QUIET_AFTER_S)  # let edits drain: do they provoke 429s?
                answer = [m for m in emulator.bot_messages(CHAT) if m.reply_to == question]
                if answer:
                    sent = [p.at for p in emulator.postings if p.message_id == answer[0].message_id]
                    status_s = sent[0] - asked_at
        await emulator.close()  # wakes any long poll left open, before the server stops
    unplanned = len(GROUPS) / GROUP.count * GROUP.seconds
    missing = len(unnamed(m.text for m in emulator.bot_messages(CHAT)))
    silent = len(silent_announcements(emulator.postings, CHAT))
    messages = len(emulator.bot_messages(CHAT))
    too_many = emulator.stats.too_many_requests
    return [
        Row("storm", f"all {len(GROUPS)} incidents named with their namespace", all_named, "s",
            unplanned, "one card each at 20/min", "< 60 s", all_named < 60 and missing == 0),
        Row("storm", "429 answers", too_many, "", target="0", met=too_many == 0),
        Row("storm", "/status answered mid-storm", status_s, "s", target="< 5 s",
            met=status_s < 5),
        Row("storm", "incidents announced only by a late edit", silent, "", target="0",
            met=silent == 0),
        Row("storm", "messages posted", messages, "", target="-"),
    ]  # fmt: skip
