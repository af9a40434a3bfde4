"""`/incident <id>` in full: every alert, every annotation, each message valid and within 4,096."""

from __future__ import annotations

import re

from bot.playground.telegram_html import parse_html, utf16_length
from bot.render.html import MAX_MESSAGE_CHARS, visible_length
from bot.render.incident_detail import MAX_MESSAGES, render_incident_detail
from core.alerting.models import Alert, AlertStatus, IncidentStatus, IncidentView
from tests.unit.bot.test_render_incident import (
    LATER,
    OPENED,
    RESOLVED_HEAD,
    STARTED,
    alert,
    incident,
)


def pages(view: IncidentView) -> list[str]:
    """The plain text of each message; each must be valid Telegram HTML within the limit."""
    plain = []
    for part in render_incident_detail(view):
        text = parse_html(part.text)
        assert utf16_length(text) <= MAX_MESSAGE_CHARS
        assert visible_length(part.text) == utf16_length(text)
        assert part.keyboard is None
        plain.append(text)
    return plain


def pod(i: int, **fields: object) -> Alert:
    labels = {"alertname": "CheckoutDown", "namespace": "prod", "pod": f"api-{i}"}
    return alert(f"fp{i:03}", labels=labels, **fields)


def test_one_alert_in_full() -> None:
    said = {
        "summary": "checkout returns 500",
        "description": "5% of requests failed.\nSee the runbook.",
        "runbook_url": "https://wiki.example/rb",
        "team": "payments",
    }
    ended = alert(status=AlertStatus.RESOLVED, annotations=said, ends_at=LATER)
    view = IncidentView(
        incident=incident(alert_count=1, firing_count=0, status=IncidentStatus.RESOLVED,
                          resolved_at=LATER),
        alerts=[ended],
        started_at=STARTED,
    )  # fmt: skip
    assert pages(view) == [
        RESOLVED_HEAD + "\n"
        "summary: checkout returns 500\n"
        "description: 5% of requests failed.\nSee the runbook.\n"
        "team: payments\n"
        "🔗 Runbook\n"
        "\n"
        "Alerts, firing first:\n"
        "✅ 1. since 2026-03-02 09:00 UTC · ended 2026-03-02 09:45 UTC"
    ]


def test_what_all_alerts_share_is_said_once_and_each_alert_gives_the_rest() -> None:
    shared = {"summary": "pods crash", "runbook_url": "https://wiki.example/rb"}
    alerts = [pod(i, annotations={**shared, "last_log": f"panic {i}"}) for i in range(3)]
    view = IncidentView(incident=incident(alert_count=3, firing_count=3), alerts=alerts)
    [text] = pages(view)
    assert text.count("pods crash") == 1 and text.count("Runbook") == 1
    assert text.splitlines()[-9:] == [
        "Alerts, firing first:",
        "🔥 1. since 2026-03-02 09:00 UTC · pod=api-0",
        "last_log: panic 0",
        "🔥 2. since 2026-03-02 09:00 UTC · pod=api-1",
        "last_log: panic 1",
        "🔥 3. since 2026-03-02 09:00 UTC · pod=api-2",
        "last_log: panic 2",
        "",
        "/ack 12 · /silence 12 1h · /resolve 12",
    ]


def long_description(i: int) -> str:
    return f"alert {i}: " + " ".join(f"word{i}-{w}" for w in range(60))


def test_forty_long_alerts_take_several_messages_and_lose_nothing() -> None:
    alerts = [pod(i, annotations={"description": long_description(i)}) for i in range(40)]
    view = IncidentView(incident=incident(alert_count=40, firing_count=40), alerts=alerts)
    texts = pages(view)
    assert len(texts) > 1
    for page, text in enumerate(texts[1:], start=2):
        assert text.startswith(f"#12 CheckoutDown, continued ({page}/{len(texts)})\n")
    joined = "\n".join(texts)
    for i in range(40):
        assert f"pod=api-{i}\n" in joined
        assert f"description: {long_description(i)}\n" in joined
    numbers = [int(n) for n in re.findall(r"^🔥 (\d+)\. ", joined, flags=re.M)]
    assert numbers == list(range(1, 41))
    assert "not shown" not in joined
    assert texts[-1].endswith("/ack 12 · /silence 12 1h · /resolve 12")


def test_an_annotation_longer_than_a_message_goes_on_over_messages() -> None:
    lines = [f"line {n:04} " + "x" * 70 for n in range(200)]  # ~16,000 characters
    view = IncidentView(incident=incident(), alerts=[alert(annotations={"log": "\n".join(lines)})])
    texts = pages(view)
    assert len(texts) >= 4
    joined = "\n".join(texts)
    for line in lines:
        assert joined.count(line) == 1


def test_more_than_the_chat_can_take_is_counted() -> None:
    alerts = [pod(i, annotations={"description": long_description(i)}) for i in range(300)]
    view = IncidentView(incident=incident(alert_count=1200, firing_count=1200), alerts=alerts)
    texts = pages(view)
    assert len(texts) == MAX_MESSAGES
    joined = "\n".join(texts)
    shown = len(re.findall(r"^🔥 \d+\. ", joined, flags=re.M))
    assert 30 < shown < 300
    assert f"… and {1200 - shown} more alerts not shown here." in texts[-1]
    assert texts[-1].endswith("/ack 12 · /silence 12 1h · /resolve 12")


def test_alerts_the_view_does_not_hold_are_counted() -> None:
    view = IncidentView(incident=incident(alert_count=3, firing_count=3), alerts=[pod(0)])
    [text] = pages(view)
    assert "… and 2 more alerts not shown here." in text


def test_hostile_and_invisible_text_is_neutralised() -> None:
    said = {"<b>key</b>": "a \u202egnp.exe & <script>", "summary": "x\u200by"}
    [text] = pages(IncidentView(incident=incident(), alerts=[alert(annotations=said)]))
    assert "<b>key</b>: a gnp.exe & <script>" in text
    assert "summary: xy" in text
    assert OPENED.strftime("%H:%M") in text
