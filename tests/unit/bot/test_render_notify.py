"""The re-notify reply and the card's Alertmanager silence line: escaped, valid Telegram HTML."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.playground.telegram_html import parse_html
from bot.render.incident import render_incident
from bot.render.renotify import render_renotify
from core.alerting.models import Incident, IncidentStatus, IncidentView, Severity

OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def incident(**fields: object) -> Incident:
    values: dict[str, object] = {
        "id": 12, "group_key": "k", "title": "CheckoutDown", "severity": Severity.CRITICAL,
        "status": IncidentStatus.FIRING, "labels": {"alertname": "CheckoutDown"},
        "source": "alertmanager", "created_at": OPENED, "updated_at": OPENED,
    }  # fmt: skip
    return Incident.model_validate(values | fields)


def link(silence_id: str) -> str:
    return f"http://127.0.0.1:9093/#/silences/{silence_id}"


def test_renotify_names_the_mentions_escaped() -> None:
    text = render_renotify(incident(), ["@oncall_alice", "<b>&bob</b>"]).text
    assert text.splitlines() == [
        "@oncall_alice &lt;b&gt;&amp;bob&lt;/b&gt; 🔴 <b>#12 CheckoutDown</b> — 🔥 firing",
        "⏰ Still firing, nobody has acknowledged it (open since 2026-03-02 09:00 UTC).",
        "<i>/ack 12 · /silence 12 1h · /resolve 12</i>",
    ]
    parse_html(text)  # valid for Telegram's parser


def test_renotify_without_mentions_starts_with_the_headline() -> None:
    assert render_renotify(incident(), []).text.startswith("🔴 <b>#12 CheckoutDown</b>")


def test_a_silenced_card_links_to_the_alertmanager_silence() -> None:
    silenced = incident(
        status=IncidentStatus.SILENCED, silenced_until=OPENED, alertmanager_silence_id="a-1"
    )
    text = render_incident(IncidentView(incident=silenced), silence_link=link).text
    assert '🔕 <a href="http://127.0.0.1:9093/#/silences/a-1">Silence in Alertmanager</a>' in text
    parse_html(text)


def test_a_silenced_card_says_when_alertmanager_did_not_take_it() -> None:
    silenced = incident(
        status=IncidentStatus.SILENCED, silenced_until=OPENED, alertmanager_error="unreachable"
    )
    text = render_incident(IncidentView(incident=silenced), silence_link=link).text
    assert "⚠️ The Alertmanager silence could not be made; alerts still arrive there." in text


def test_no_alertmanager_line_once_the_silence_ended_or_without_alertmanager() -> None:
    resolved = incident(status=IncidentStatus.RESOLVED, alertmanager_silence_id="a-1")
    assert (
        "Alertmanager"
        not in render_incident(IncidentView(incident=resolved), silence_link=link).text
    )
    silenced = incident(
        status=IncidentStatus.SILENCED, silenced_until=OPENED, alertmanager_silence_id="a-1"
    )
    assert "Alertmanager" not in render_incident(IncidentView(incident=silenced)).text
