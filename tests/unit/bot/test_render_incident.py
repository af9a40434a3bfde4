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


STARTED = datetime(2026, 3, 2, 8, 55, tzinfo=UTC)
RUNBOOK = "https://wiki.example/runbooks/checkout"
DASHBOARD = "https://grafana.example/d/checkout?orgId=1&from=now-1h"


#: the first lines of incident 12 auto-resolved at LATER, one alert, started at STARTED
RESOLVED_HEAD = (
    "🔴 #12 CheckoutDown — ✅ resolved\n"
    "Severity: critical · Status: resolved\n"
    "Source: alertmanager · Started 2026-03-02 08:55 UTC · 1 alert, resolved\n"
    "alertname=CheckoutDown · namespace=prod · pod=api-1\n"
    "✅ Resolved by Howl at 2026-03-02 09:45 UTC\n"
)


def full_alert(fp: str = "fp", **fields: object) -> Alert:
    """An Alertmanager alert with everything a rule usually carries."""
    values: dict[str, object] = {
        "annotations": {
            "summary": "checkout returns 500",
            "description": "5% of checkout requests failed over 5 minutes.",
            "runbook_url": RUNBOOK,
            "dashboard": DASHBOARD,
        },
        "generator_url": "http://prometheus.example/graph?g0.expr=rate",
    }
    return alert(fp, **(values | fields))


def plain_card(view: IncidentView) -> str:
    return render(view)[1]


def test_a_firing_card_says_everything_once() -> None:
    view = IncidentView(incident=incident(), alerts=[full_alert()], started_at=STARTED)
    html, plain = render(view)
    assert plain == (
        "🔴 #12 CheckoutDown — 🔥 firing\n"
        "Severity: critical · Status: firing\n"
        "Source: alertmanager · Started 2026-03-02 08:55 UTC · 1 alert, firing\n"
        "alertname=CheckoutDown · namespace=prod · pod=api-1\n"
        "\n"
        "🔥 checkout returns 500\n"
        "5% of checkout requests failed over 5 minutes.\n"
        "🔗 Runbook · Dashboard · Source\n"
        "\n"
        "/ack 12 · /silence 12 1h · /resolve 12"
    )
    assert html.startswith("🔴 <b>#12 CheckoutDown</b>")
    assert f'<a href="{RUNBOOK}">Runbook</a>' in html
    assert (
        '<a href="https://grafana.example/d/checkout?orgId=1&amp;from=now-1h">Dashboard</a>' in html
    )


def test_since_is_the_senders_start_not_when_howl_opened_it() -> None:
    view = IncidentView(incident=incident(), alerts=[alert()], started_at=STARTED)
    assert "· Started 2026-03-02 08:55 UTC ·" in plain_card(view)
    assert "09:00" not in plain_card(view), "created_at (Howl's receipt) is not shown"


def test_without_a_senders_start_the_card_says_when_it_was_opened() -> None:
    view = IncidentView(incident=incident(), alerts=[alert(sender_start=False)], started_at=None)
    assert "· Opened 2026-03-02 09:00 UTC ·" in plain_card(view)
    assert "Started" not in plain_card(view)


def test_an_acknowledged_card() -> None:
    acked = incident(
        status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=LATER, acknowledged_by="Bo"
    )
    plain = plain_card(IncidentView(incident=acked, alerts=[alert()], started_at=STARTED))
    assert plain == (
        "🔴 #12 CheckoutDown — 👀 acknowledged\n"
        "Severity: critical · Status: acknowledged\n"
        "Source: alertmanager · Started 2026-03-02 08:55 UTC · 1 alert, firing\n"
        "alertname=CheckoutDown · namespace=prod · pod=api-1\n"
        "👀 Acknowledged by Bo at 2026-03-02 09:45 UTC\n"
        "\n"
        "🔥 checkout returns 500\n"
        "\n"
        "/silence 12 1h · /resolve 12"
    )


def test_a_silenced_card_offers_ack_but_not_the_silence_it_has() -> None:
    silenced = incident(status=IncidentStatus.SILENCED, silenced_until=LATER, silenced_by="Al")
    plain = plain_card(IncidentView(incident=silenced, alerts=[alert()], started_at=STARTED))
    assert plain == (
        "🔴 #12 CheckoutDown — 🔕 silenced\n"
        "Severity: critical · Status: silenced\n"
        "Source: alertmanager · Started 2026-03-02 08:55 UTC · 1 alert, firing\n"
        "alertname=CheckoutDown · namespace=prod · pod=api-1\n"
        "🔕 Silenced by Al until 2026-03-02 09:45 UTC\n"
        "\n"
        "🔥 checkout returns 500\n"
        "\n"
        "/ack 12 · /resolve 12"
    )


def test_a_card_silenced_after_an_ack_offers_neither_again() -> None:
    silenced = incident(
        status=IncidentStatus.SILENCED,
        prior_status=IncidentStatus.ACKNOWLEDGED,
        acknowledged_by="Bo",
        acknowledged_at=OPENED,
        silenced_until=LATER,
        silenced_by=None,
    )
    plain = plain_card(IncidentView(incident=silenced, alerts=[alert()]))
    lines = plain.splitlines()
    assert lines[4:6] == [
        "👀 Acknowledged by Bo at 2026-03-02 09:00 UTC",
        "🔕 Silenced until 2026-03-02 09:45 UTC",
    ]
    assert lines[-1] == "/resolve 12"


def test_a_resolved_card_counts_nothing_as_firing_and_offers_nothing() -> None:
    resolved = incident(
        status=IncidentStatus.RESOLVED, resolved_by=None, resolved_at=LATER, firing_count=0
    )
    ended = alert(status=AlertStatus.RESOLVED, ends_at=LATER)
    plain = plain_card(IncidentView(incident=resolved, alerts=[ended], started_at=STARTED))
    assert plain == RESOLVED_HEAD + "\n✅ checkout returns 500"


def test_resolved_by_hand_while_the_sender_still_fires_says_so() -> None:
    resolved = incident(status=IncidentStatus.RESOLVED, resolved_by="Alice", resolved_at=LATER)
    plain = plain_card(IncidentView(incident=resolved, alerts=[alert()]))
    assert "· 1 alert, still firing at the source" in plain
    assert "1 firing" not in plain
    assert "✅ Resolved by Alice at 2026-03-02 09:45 UTC" in plain


@pytest.mark.parametrize(
    ("status", "total", "firing", "said"),
    [
        (IncidentStatus.FIRING, 1, 1, "1 alert, firing"),
        (IncidentStatus.FIRING, 3, 3, "3 alerts, all firing"),
        (IncidentStatus.ACKNOWLEDGED, 3, 2, "3 alerts: 2 firing, 1 resolved"),
        (IncidentStatus.SILENCED, 25, 20, "25 alerts: 20 firing, 5 resolved"),
        (IncidentStatus.RESOLVED, 3, 0, "3 alerts, all resolved"),
        (IncidentStatus.RESOLVED, 3, 3, "3 alerts, all still firing at the source"),
        (IncidentStatus.RESOLVED, 3, 1, "3 alerts: 1 still firing at the source, 2 resolved"),
        (IncidentStatus.RESOLVED, 0, 0, "no alerts"),
    ],
)
def test_counts_are_true_to_the_state(
    status: IncidentStatus, total: int, firing: int, said: str
) -> None:
    view = IncidentView(incident=incident(status=status, alert_count=total, firing_count=firing))
    assert plain_card(view).splitlines()[2].endswith(f" · {said}")


def storm_alert(i: int) -> Alert:
    return alert(
        f"fp{i}",
        severity=Severity.WARNING,
        name="HowlStormA",
        labels={
            "alertname": "HowlStormA",
            "namespace": "storm-ns1",
            "service": "svc",
            "severity": "warning",
            "pod": f"svc-{i}",
        },
        annotations={"summary": "HowlStormA on storm-ns1/svc", "runbook_url": RUNBOOK},
        generator_url=f"http://prometheus.example/graph?pod={i}",
    )


def test_twenty_pods_of_one_rule_share_one_summary_and_each_names_only_its_pod() -> None:
    storm = incident(
        title="HowlStormA",
        severity=Severity.WARNING,
        labels={"alertname": "HowlStormA", "namespace": "storm-ns1"},
        alert_count=20,
        firing_count=20,
    )
    view = IncidentView(incident=storm, alerts=[storm_alert(i) for i in range(10)])
    plain = plain_card(view)
    assert plain == "\n".join(
        [
            "🟡 #12 HowlStormA — 🔥 firing",
            "Severity: warning · Status: firing",
            "Source: alertmanager · Opened 2026-03-02 09:00 UTC · 20 alerts, all firing",
            "alertname=HowlStormA · namespace=storm-ns1 · service=svc",
            "",
            "HowlStormA on storm-ns1/svc",
            "🔗 Runbook",
            *(f"🔥 pod=svc-{i} · Source" for i in range(10)),
            "… and 10 more alerts: /incident 12 lists them all",
            "",
            "/ack 12 · /silence 12 1h · /resolve 12",
        ]
    )
    assert plain.count("HowlStormA on storm-ns1/svc") == 1


def test_alerts_that_say_different_things_each_keep_their_summary() -> None:
    view = IncidentView(
        incident=incident(alert_count=2, firing_count=1),
        alerts=[
            alert("a", annotations={"summary": "api-1 returns 500"}),
            alert(
                "b",
                status=AlertStatus.RESOLVED,
                labels={"alertname": "CheckoutDown", "namespace": "prod", "pod": "api-2"},
                annotations={"summary": "api-2 is slow", "description": "p99 2s"},
            ),
        ],
    )
    lines = plain_card(view).splitlines()
    assert lines[3:9] == [
        "alertname=CheckoutDown · namespace=prod",
        "",
        "🔥 api-1 returns 500",
        "    pod=api-1",
        "✅ api-2 is slow",
        "    pod=api-2",
    ]
    assert "p99 2s" not in plain_card(view), "a description not shared waits for /incident"


def test_a_description_that_is_the_summary_is_not_said_twice() -> None:
    said = {"description": "disk 95% full\non /var"}
    plain = plain_card(IncidentView(incident=incident(), alerts=[alert(annotations=said)]))
    assert "🔥 disk 95% full\non /var\n" in plain
    assert plain.count("disk 95% full") == 1


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://x.example/a",
        "/relative/path",
        "https://",
        "https://wiki.example/run book",
        "https://wiki.example/\u202egnp.exe",
        "https://wiki.example/\u200b",
        "http://[::1",
    ],
)
def test_only_web_links_become_links(url: str) -> None:
    view = IncidentView(
        incident=incident(), alerts=[alert(generator_url=url, annotations={"runbook_url": url})]
    )
    html, plain = render(view)
    assert "<a " not in html
    assert "🔗" not in plain and "· Source" not in plain


def test_the_first_runbook_annotation_that_is_a_link_wins() -> None:
    said = {"runbook": "restart it", "runbook_url": RUNBOOK}
    html, _ = render(IncidentView(incident=incident(), alerts=[alert(annotations=said)]))
    assert f'<a href="{RUNBOOK}">Runbook</a>' in html


def test_grafanas_panel_and_silence_links() -> None:
    said = {
        "summary": "p99 high",
        "dashboard_url": "https://grafana.example/d/1",
        "panel_url": "https://grafana.example/d/1?viewPanel=2",
        "silence_url": "https://grafana.example/alerting/silence/new",
    }
    html, plain = render(IncidentView(incident=incident(), alerts=[alert(annotations=said)]))
    assert "🔗 Dashboard · Panel · Silence" in plain
    assert '<a href="https://grafana.example/d/1?viewPanel=2">Panel</a>' in html


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
        "Source</a>" in html
    )
    assert "🔗 Source" in plain


def test_auto_resolved_without_a_name_says_howl() -> None:
    _, plain = render(
        IncidentView(
            incident=incident(status=IncidentStatus.RESOLVED, resolved_at=LATER, resolved_by=None)
        )
    )
    assert "✅ Resolved by Howl at 2026-03-02 09:45 UTC" in plain


def test_alerts_not_listed_are_counted() -> None:
    view = IncidentView(
        incident=incident(alert_count=25, firing_count=20),
        alerts=[alert(f"fp{i}") for i in range(10)],
    )
    plain = plain_card(view)
    assert "… and 15 more alerts: /incident 12 lists them all" in plain
    assert "25 alerts: 20 firing, 5 resolved" in plain


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
    assert card.digest_line is not None
    # the digest line names what tells the incident apart: its grouping labels
    assert parse_html(card.digest_line) == "🔴 #12 CheckoutDown · prod — 🔥 firing"


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
