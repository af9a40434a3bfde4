"""Incident commands through the real `howl run` and the emulated Telegram, end to end.

Each action edits the one incident card in place and leaves an audit line naming
who did it; a mistake (unknown id, bad duration, a resolved incident) gets one
line back, never a trace.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from bot.playground.telegram_html import utf16_length
from tests.integration.conftest import ALICE, BOB, ONCALL, TelegramWorld
from tests.integration.howl_process import HowlProcess, running_howl
from tests.servers.telegram import wait_for


async def ask(world: TelegramWorld, user: int, text: str) -> str:
    """Send a command as `user`; return the bot's reply to it."""
    sent = await world.emulator.user_sends(ONCALL, user, text)
    message_id = sent["message"]["message_id"]
    [answer] = await wait_for(
        lambda: [m.text for m in world.emulator.bot_messages(ONCALL) if m.reply_to == message_id],
        what=f"the answer to {text!r}",
    )
    return answer


def card(world: TelegramWorld, incident_id: int) -> str:
    cards = [
        m for m in world.emulator.bot_messages(ONCALL)
        if m.reply_to is None and m.text.startswith(("🔴", "🟠", "🟡", "🔵"))
        and f"#{incident_id} " in m.text
    ]  # fmt: skip
    assert len(cards) <= 1, "one card per incident, edited in place"
    return cards[0].text if cards else ""


async def card_says(world: TelegramWorld, incident_id: int, *words: str) -> str:
    return await wait_for(
        lambda: (text := card(world, incident_id)) and all(w in text for w in words) and text,
        what=f"card #{incident_id} saying {words}",
    )


def audit(howl: HowlProcess) -> list[tuple[str, str, str]]:
    path = howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT actor, action, subject FROM audit_log ORDER BY id").fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


async def test_incident_lifecycle_from_the_chat(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        opened = await ask(telegram, ALICE, "/alert critical payments <b>are</b> failing")
        assert opened == "Opened 🔴 #1 payments <b>are</b> failing — 🔥 firing"
        text = await card_says(telegram, 1, "payments <b>are</b> failing", "firing")
        assert "Severity: critical" in text and "reported_by=Alice" in text

        assert await ask(telegram, BOB, "/ack 1") == "Incident #1 acknowledged by Bob."
        await card_says(telegram, 1, "acknowledged", "Acknowledged by Bob")

        assert await ask(telegram, ALICE, "/silence 1 forever") == (
            "Give a duration like 30m, 2h or 1d (up to 30d)."
        )
        assert (
            await ask(telegram, ALICE, "/silence 1 90m")
            == "Incident #1 silenced for 1h30m by Alice."
        )
        await card_says(telegram, 1, "silenced", "Silenced by Alice until")

        listed = await ask(telegram, BOB, "/incidents")
        assert "Open incidents" in listed and "#1 payments" in listed and "silenced" in listed
        detail = await ask(telegram, BOB, "/incident 1")
        assert "#1 payments" in detail and "Severity: critical" in detail

        assert await ask(telegram, ALICE, "/resolve 1") == "Incident #1 resolved by Alice."
        await card_says(telegram, 1, "resolved", "Resolved by Alice")
        assert await ask(telegram, ALICE, "/resolve 1") == "Incident #1 is already resolved."
        assert await ask(telegram, BOB, "/incidents") == "No open incidents. 🌙"
        await howl.stop()
    assert audit(howl) == [
        (f"tg:{ALICE}", "incident.opened", "incident:1"),
        (f"tg:{BOB}", "incident.ack", "incident:1"),
        (f"tg:{ALICE}", "incident.silence", "incident:1"),
        (f"tg:{ALICE}", "incident.resolve", "incident:1"),
    ]
    assert len([m for m in telegram.emulator.bot_messages(ONCALL) if "#1 payments" in m.text]) >= 1


async def test_mistakes_get_one_line(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        assert await ask(telegram, ALICE, "/ack 999") == "No incident #999."
        assert await ask(telegram, ALICE, "/ack") == "Usage: /ack <id>, e.g. /ack 12"
        assert await ask(telegram, ALICE, "/resolve abc") == (
            "'abc' is not an incident number. Usage: /resolve <id>, e.g. /resolve 12"
        )
        assert await ask(telegram, ALICE, "/silence 999 30m") == "No incident #999."
        assert await ask(telegram, ALICE, "/silence 1") == (
            "Usage: /silence <id> <duration>, e.g. /silence 12 30m"
        )
        assert await ask(telegram, ALICE, "/incident 7") == "No incident #7."
        assert await ask(telegram, ALICE, "/alert") == (
            "Say what is wrong: /alert <text>, e.g. /alert checkout is failing"
        )
        await howl.stop()
    assert audit(howl) == []
    assert "Traceback" not in howl.logs()


ALERTS_CHAT = -1005555  # cards go here, so the on-call chat's budget is the replies' alone


def description(pod: int) -> str:
    return f"pod api-{pod}: " + " ".join(f"event{pod}-{n}" for n in range(40))


def storm_alert(name: str, pod: int) -> dict[str, object]:
    return {
        "status": "firing",
        "labels": {"alertname": name, "namespace": "prod", "service": "api", "pod": f"api-{pod}"},
        "annotations": {
            "summary": f"{name} on prod/api",
            "description": description(pod),
            "runbook_url": "https://wiki.example/runbooks/api",
        },
        "startsAt": "2026-11-23T08:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.example/graph?pod={pod}",
    }


async def post_alerts(howl: HowlProcess, alerts: list[dict[str, object]]) -> list[int]:
    body = {"version": "4", "status": "firing", "receiver": "howl", "alerts": alerts}
    async with httpx.AsyncClient(base_url=howl.http) as http:
        answer = await http.post("/alerts/alertmanager", json=body)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["incidents"])


async def test_incident_in_full_spans_several_messages(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    telegram.emulator.add_chat(ALERTS_CHAT, title="Alerts")
    settings = telegram.settings(
        HOWL_ALERT_CHAT_ID=str(ALERTS_CHAT), HOWL_ALLOWED_CHAT_IDS=f"{ONCALL},{ALERTS_CHAT}"
    )
    async with running_howl(tmp_path, **settings) as howl:
        assert await post_alerts(howl, [storm_alert(f"Other{n}", 0) for n in range(11)]) == list(
            range(1, 12)
        )
        assert await post_alerts(howl, [storm_alert("ApiDown", n) for n in range(40)]) == [12]

        sent = await telegram.emulator.user_sends(ONCALL, BOB, "/incident 12")
        asked = sent["message"]["message_id"]

        def replies() -> list[str]:
            found = [m.text for m in telegram.emulator.bot_messages(ONCALL) if m.reply_to == asked]
            return found if found and found[-1].endswith("/resolve 12") else []

        texts = await wait_for(replies, timeout=30, what="every part of /incident 12")
        await howl.stop()
    assert len(texts) > 2
    assert all(utf16_length(text) <= 4096 for text in texts)
    assert texts[0].startswith("🟡 #12 ApiDown — 🔥 firing\n")
    for page, text in enumerate(texts[1:], start=2):
        assert text.startswith(f"#12 ApiDown, continued ({page}/{len(texts)})\n")
    joined = "\n".join(texts)
    assert joined.count("summary: ApiDown on prod/api") == 1, "what all share, once"
    for pod in range(40):
        assert f"🔥 {pod + 1}. since 2026-11-23 08:00 UTC · pod=api-" in joined
        assert f"description: {description(pod)}\n" in joined
    assert "not shown" not in joined
    assert telegram.emulator.stats.too_many_requests == 0
    assert "Traceback" not in howl.logs()
