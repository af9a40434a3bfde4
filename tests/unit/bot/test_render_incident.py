"""The incident card: escaped alert text, valid Telegram HTML, within the message limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.playground.telegram_html import parse_html, utf16_length
from bot.render.html import MAX_MESSAGE_CHARS, visible_length
from bot.render.incident import (
    SEVERITY_ICON,
    STATUS_ICON,
    card_key,
    headline,
    incident_card,
    render_incident,
)
from core.alerting.models import (
    Alert,
    AlertStatus,
    Incident,
    IncidentStatus,
    IncidentView,
    Severity,
)
from core.messages import Priority, Rendered

OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 9, 45, tzinfo=UTC)
NASTY = "<b>bold</b> & <script>alert(1)</script>"


def incident(**fields: object) -> Incident:
    values: dict[str, object] = {
        "id": 12,
        "group_key": "alertname=CheckoutDown|namespace=prod",
        "title": "CheckoutDown",
        "severity": Severity.CRITICAL,
        "status": IncidentStatus.FIRING,
        "labels": {"alertname": "CheckoutDown", "namespace": "prod"},
        "source": "alertmanager",
        "created_at": OPENED,
        "updated_at": OPENED,
        "alert_count": 1,
        "firing_count": 1,
    }
    values |= fields
    return Incident.model_validate(values)


def alert(fp: str = "fp", **fields: object) -> Alert:
    values: dict[str, object] = {
        "fingerprint": fp,
        "status": AlertStatus.FIRING,
        "severity": Severity.CRITICAL,
        "name": "CheckoutDown",
        "labels": {"alertname": "CheckoutDown", "namespace": "prod", "pod": "api-1"},
        "annotations": {"summary": "checkout returns 500"},
        "starts_at": OPENED,
        "source": "alertmanager",
    }
    values |= fields
    return Alert.model_validate(values)


def render(view: IncidentView) -> tuple[str, str]:
    """(HTML, the plain text Telegram shows); raises if Telegram would refuse the HTML."""
    text = render_incident(view).text
    return text, parse_html(text)


def test_a_firing_card() -> None:
    html, plain = render(IncidentView(incident=incident(), alerts=[alert()]))
    lines = plain.splitlines()
    assert lines[0] == "🔴 #12 CheckoutDown — 🔥 firing"
    assert lines[1] == "Severity: critical · Status: firing"
    assert lines[2] == "Source: alertmanager · Since 2026-03-02 09:00 UTC · 1 alert(s), 1 firing"
    assert lines[3] == "alertname=CheckoutDown · namespace=prod"
    assert "🔥 checkout returns 500" in plain
    assert "pod=api-1" in plain
    assert "namespace=prod" not in plain.split("checkout returns 500", 1)[1], (
        "an alert shows only the labels its group does not"
    )
    assert lines[-1] == "/ack 12 · /silence 12 1h · /resolve 12"
    assert html.startswith("🔴 <b>#12 CheckoutDown</b>")


@pytest.mark.parametrize("status", list(IncidentStatus))
@pytest.mark.parametrize("severity", list(Severity))
def test_headline_has_severity_id_title_and_status(
    severity: Severity, status: IncidentStatus
) -> None:
    line = headline(incident(severity=severity, status=status))
    assert line.startswith(SEVERITY_ICON[severity])
    plain = parse_html(line)
    assert "#12 CheckoutDown" in plain
    assert plain.endswith(f"— {STATUS_ICON[status]} {status.value}")


def test_every_alert_supplied_string_is_escaped() -> None:
    view = IncidentView(
        incident=incident(
            title=NASTY,
            source="<i>src</i>",
            labels={"alertname": NASTY, "team&co": "<b>ops</b>"},
            acknowledged_by="<b>Eve</b>",
            acknowledged_at=LATER,
            status=IncidentStatus.SILENCED,
            silenced_by="Mallory & <u>co</u>",
            silenced_until=LATER,
        ),
        alerts=[
            alert(
                labels={"alertname": NASTY, "<pod>": "a&b", "x": "<script>"},
                annotations={"summary": NASTY, "description": "<pre>"},
            ),
            alert("fp2", annotations={"message": "1 < 2 && 3 > 2"}),
        ],
    )
    html, plain = render(view)  # parse_html raises on any unescaped tag or '&'
    assert "<script>" not in html and "<u>" not in html and "<pre>" not in html
    assert html.count("<b>") == html.count("</b>")
    assert "&lt;script&gt;" in html and "&amp;" in html
    assert NASTY in plain.splitlines()[0], "the title reads as typed"
    assert f"🔥 {NASTY}" in plain
    assert "team&co=<b>ops</b>" in plain
    assert "<pod>=a&b" in plain and "x=<script>" in plain
    assert "Source: <i>src</i>" in plain
    assert "👀 Acknowledged by <b>Eve</b> at 2026-03-02 09:45 UTC" in plain
    assert "🔕 Silenced by Mallory & <u>co</u> until 2026-03-02 09:45 UTC" in plain
    assert "🔥 1 < 2 && 3 > 2" in plain


def test_generator_url_with_a_quote_is_escaped() -> None:
    url = 'https://prom.example/graph?g0.expr=up{job="api"}&x=<1>'
    html, plain = render(IncidentView(incident=incident(), alerts=[alert(generator_url=url)]))
    assert (
        '<a href="https://prom.example/graph?g0.expr=up{job=&quot;api&quot;}&amp;x=&lt;1&gt;">'
        "source</a>" in html
    )
    assert plain.count("source") == 1


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x", "/relative"])
def test_only_web_links_are_shown(url: str) -> None:
    html, _ = render(IncidentView(incident=incident(), alerts=[alert(generator_url=url)]))
    assert "<a " not in html


def test_a_resolved_card_says_who_and_offers_no_commands() -> None:
    resolved = incident(
        status=IncidentStatus.RESOLVED,
        resolved_by="Alice",
        resolved_at=LATER,
        acknowledged_by="Bob",
        acknowledged_at=OPENED,
        firing_count=0,
    )
    _, plain = render(IncidentView(incident=resolved, alerts=[alert(status=AlertStatus.RESOLVED)]))
    assert plain.splitlines()[0] == "🔴 #12 CheckoutDown — ✅ resolved"
    assert "✅ Resolved by Alice at 2026-03-02 09:45 UTC" in plain
    assert "👀 Acknowledged by Bob at 2026-03-02 09:00 UTC" in plain
    assert "✅ checkout returns 500" in plain
    assert "/ack" not in plain and "/resolve" not in plain and "/silence" not in plain


def test_auto_resolved_without_a_name_says_howl() -> None:
    _, plain = render(
        IncidentView(
            incident=incident(status=IncidentStatus.RESOLVED, resolved_at=LATER, resolved_by=None)
        )
    )
    assert "✅ Resolved by Howl at 2026-03-02 09:45 UTC" in plain


def test_a_silence_shows_until_when_and_the_commands() -> None:
    silenced = incident(status=IncidentStatus.SILENCED, silenced_until=LATER, silenced_by=None)
    _, plain = render(IncidentView(incident=silenced))
    assert "🔕 Silenced until 2026-03-02 09:45 UTC" in plain
    assert plain.splitlines()[-1] == "/ack 12 · /silence 12 1h · /resolve 12"


def test_an_acknowledged_card_offers_what_is_left_to_do() -> None:
    acked = incident(
        status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=LATER, acknowledged_by="Bo"
    )
    _, plain = render(IncidentView(incident=acked))
    assert plain.splitlines()[-1] == "/silence 12 1h · /resolve 12"


def test_alerts_not_listed_are_counted() -> None:
    view = IncidentView(
        incident=incident(alert_count=25, firing_count=20),
        alerts=[alert(f"fp{i}") for i in range(10)],
    )
    _, plain = render(view)
    assert "… and 15 more alert(s)" in plain
    assert "25 alert(s), 20 firing" in plain


def test_a_huge_incident_stays_within_the_message_limit() -> None:
    long = "x&<" * 6000
    view = IncidentView(
        incident=incident(title="T" * 500, alert_count=5000, firing_count=5000),
        alerts=[
            alert(
                f"fp{i}",
                labels={"alertname": "CheckoutDown", "pod": f"api-{i}", "detail": "v" * 400},
                annotations={"summary": long},
                generator_url=f"https://prom.example/{i}",
            )
            for i in range(300)
        ],
    )
    html, plain = render(view)
    assert visible_length(html) <= MAX_MESSAGE_CHARS
    assert utf16_length(plain) <= MAX_MESSAGE_CHARS
    assert visible_length(html) > MAX_MESSAGE_CHARS - 400, "the space is used"
    last = plain.splitlines()[-1]
    assert last.startswith("… ") and last.endswith(" more line(s) not shown (message limit)")
    shown = sum(1 for line in plain.splitlines() if line.startswith("🔥 "))
    # 3 head lines, the group's labels, a blank, the alerts, "and more", the command hint
    hidden = int(last.split()[1])
    assert hidden == 300 - shown + 2
    assert f"#12 {'T' * 119}… — 🔥 firing" in plain, "a long title is cut in the headline"


def test_long_summary_and_label_values_are_cut() -> None:
    view = IncidentView(
        incident=incident(labels={"namespace": "n" * 200}),
        alerts=[alert(annotations={"summary": "s" * 1000 + "\nsecond line"})],
    )
    _, plain = render(view)
    assert f"🔥 {'s' * 299}…" in plain
    assert "second line" not in plain, "only the summary's first line"
    assert f"namespace={'n' * 79}…" in plain


def test_incident_card() -> None:
    view = IncidentView(incident=incident(), alerts=[alert()])
    card = incident_card(view, chat_id=-100)
    assert card.key == card_key(12) == "incident:12"
    assert card.chat_id == -100
    assert card.content == render_incident(view)
    assert card.content.keyboard is None
    assert card.priority == Priority.CARD_NEW
    assert card.digest_line == headline(view.incident)
    assert card.digest_line is not None
    assert parse_html(card.digest_line) == "🔴 #12 CheckoutDown — 🔥 firing"


def test_a_summary_of_separator_characters_renders() -> None:
    # "\x1c" passes the payload's whitespace stripping (not Unicode White_Space)
    # but Python's str.strip() removes it
    view = IncidentView(incident=incident(), alerts=[alert(annotations={"summary": "\x1c"})])
    _, plain = render(view)
    assert "🔥 CheckoutDown" in plain


def test_a_card_that_cannot_be_rendered_still_shows_its_headline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_view: IncidentView) -> Rendered:
        raise ValueError("a payload nobody foresaw")

    monkeypatch.setattr("bot.render.incident.render_incident", broken)
    card = incident_card(IncidentView(incident=incident(), alerts=[alert()]), chat_id=-100)
    assert card.content.text.startswith(headline(incident()))
    assert "Details could not be shown; try /incident" in card.content.text
