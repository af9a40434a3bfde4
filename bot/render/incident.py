"""The incident card: one message per incident, edited in place as it changes."""

from __future__ import annotations

import html
from datetime import datetime

import structlog

from bot.keyboards import CallbackCodec, incident_keyboard
from bot.render.html import esc, fit_lines, truncate
from core.alerting.models import (
    Alert,
    AlertStatus,
    Incident,
    IncidentStatus,
    IncidentView,
    Severity,
)
from core.messages import Card, Priority, Rendered

log = structlog.get_logger(__name__)

SEVERITY_ICON = {
    Severity.CRITICAL: "🔴",
    Severity.HIGH: "🟠",
    Severity.WARNING: "🟡",
    Severity.INFO: "🔵",
}
STATUS_ICON = {
    IncidentStatus.FIRING: "🔥",
    IncidentStatus.ACKNOWLEDGED: "👀",
    IncidentStatus.SILENCED: "🔕",
    IncidentStatus.RESOLVED: "✅",
}
#: what a person can do next, by status
NEXT_STEPS = {
    IncidentStatus.FIRING: ("/ack {id}", "/silence {id} 1h", "/resolve {id}"),
    IncidentStatus.ACKNOWLEDGED: ("/silence {id} 1h", "/resolve {id}"),
    IncidentStatus.SILENCED: ("/ack {id}", "/silence {id} 1h", "/resolve {id}"),
}
#: labels every card shows anyway, or that say nothing to a person
QUIET_LABELS = frozenset({"alertname", "severity", "__name__"})
SUMMARY_CHARS = 300
LABEL_CHARS = 80


def card_key(incident_id: int) -> str:
    return f"incident:{incident_id}"


def clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def headline(incident: Incident) -> str:
    """`🔴 #12 CheckoutDown — firing`; also a storm digest's line."""
    return (
        f"{SEVERITY_ICON[incident.severity]} <b>#{incident.id} {truncate(incident.title, 120)}</b>"
        f" — {STATUS_ICON[incident.status]} {incident.status.value}"
    )


def _labels_line(labels: dict[str, str], *, skip: frozenset[str] = QUIET_LABELS) -> str:
    shown = [
        f"<code>{esc(k)}={truncate(v, LABEL_CHARS)}</code>"
        for k, v in sorted(labels.items())
        if k not in skip
    ]
    return " · ".join(shown)


def _who(incident: Incident) -> list[str]:
    lines: list[str] = []
    if incident.acknowledged_by and incident.acknowledged_at:
        at = clock(incident.acknowledged_at)
        lines.append(f"👀 Acknowledged by {esc(incident.acknowledged_by)} at {at}")
    if incident.status is IncidentStatus.SILENCED and incident.silenced_until:
        by = f" by {esc(incident.silenced_by)}" if incident.silenced_by else ""
        lines.append(f"🔕 Silenced{by} until {clock(incident.silenced_until)}")
    if incident.status is IncidentStatus.RESOLVED and incident.resolved_at:
        by = esc(incident.resolved_by or "Howl")
        lines.append(f"✅ Resolved by {by} at {clock(incident.resolved_at)}")
    return lines


def _alert_line(alert: Alert, group_labels: dict[str, str]) -> str:
    icon = "🔥" if alert.status is AlertStatus.FIRING else "✅"
    summary = truncate(alert.summary, SUMMARY_CHARS)
    distinct = {k: v for k, v in alert.labels.items() if group_labels.get(k) != v}
    labels = _labels_line(distinct)
    line = f"{icon} {summary}" + (f"\n    {labels}" if labels else "")
    if alert.generator_url and alert.generator_url.startswith(("http://", "https://")):
        line += f' · <a href="{html.escape(alert.generator_url, quote=True)}">source</a>'
    return line


def render_incident(view: IncidentView) -> Rendered:
    """The full card: headline, severity, labels, who did what, the alerts (trimmed to fit)."""
    incident = view.incident
    counts = f"{incident.alert_count} alert(s), {incident.firing_count} firing"
    lines = [
        headline(incident),
        f"Severity: <b>{incident.severity.value}</b> · Status: <b>{incident.status.value}</b>",
        f"Source: {esc(incident.source)} · Since {clock(incident.created_at)} · {counts}",
    ]
    if labels := _labels_line(incident.labels, skip=frozenset()):
        lines.append(labels)
    lines.extend(_who(incident))
    if view.alerts:
        lines.append("")
        lines.extend(_alert_line(alert, incident.labels) for alert in view.alerts)
        hidden = incident.alert_count - len(view.alerts)
        if hidden > 0:
            lines.append(f"<i>… and {hidden} more alert(s)</i>")
    if hints := NEXT_STEPS.get(incident.status):
        lines.append("\n<i>" + " · ".join(h.format(id=incident.id) for h in hints) + "</i>")
    return Rendered(text=fit_lines(lines))


def incident_card(
    view: IncidentView, *, chat_id: int, buttons: CallbackCodec | None = None
) -> Card:
    """The card to queue; the outbox sends it the first time and edits it after.

    With `buttons` (the signing codec) the card carries the buttons for its status.
    """
    try:
        content = render_incident(view)
    except Exception:
        # a sender's payload we did not foresee: the incident still gets a card
        log.exception("incident_render_failed", incident_id=view.incident.id)
        hint = f"<i>Details could not be shown; try /incident {view.incident.id}.</i>"
        content = Rendered(text=f"{headline(view.incident)}\n{hint}")
    if buttons is not None:
        content = content.model_copy(update={"keyboard": incident_keyboard(view.incident, buttons)})
    return Card(
        key=card_key(view.incident.id),
        chat_id=chat_id,
        content=content,
        priority=Priority.CARD_NEW,
        digest_line=headline(view.incident),
    )
