"""The incident card: one message per incident, edited in place as it changes.

What the card says is true to the incident's state: its counts, who did what,
and only the next steps that are still open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from bot.keyboards import CallbackCodec, incident_keyboard
from bot.render.alerts import Shared, apart, urls_of
from bot.render.digest import digest_line
from bot.render.html import esc, fit_lines, link, truncate
from bot.render.progress import render_progress
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
ALERT_ICON = {AlertStatus.FIRING: "🔥", AlertStatus.RESOLVED: "✅"}
#: shown elsewhere on the card already (title, severity line), or meaningless to a person
QUIET_LABELS = frozenset({"alertname", "severity", "__name__"})
SUMMARY_CHARS = 300
DESCRIPTION_CHARS = 600
LABEL_CHARS = 80
#: the shared labels take one line of at most this many characters
LABELS_LINE_CHARS = 1200


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


def plural(n: int, noun: str) -> str:
    """`n noun`, with an s unless n is 1.

    >>> plural(1, "alert"), plural(3, "alert")
    ('1 alert', '3 alerts')
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def counts(incident: Incident) -> str:
    """How many alerts and in what state; a resolved incident never reads as firing.

    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> base = dict(id=1, group_key="g", title="t", severity="info", source="s",
    ...             created_at=now, updated_at=now)
    >>> counts(Incident(**base, status="firing", alert_count=3, firing_count=2))
    '3 alerts: 2 firing, 1 resolved'
    >>> counts(Incident(**base, status="resolved", alert_count=1, firing_count=1))
    '1 alert, still firing at the source'
    """
    total, firing = incident.alert_count, incident.firing_count
    ended = total - firing
    word = "firing" if incident.is_open else "still firing at the source"
    if total == 0:
        return "no alerts"
    if total == 1:
        return f"1 alert, {word if firing else 'resolved'}"
    if firing == total:
        return f"{total} alerts, all {word}"
    if firing == 0:
        return f"{total} alerts, all resolved"
    return f"{total} alerts: {firing} {word}, {ended} resolved"


def started(view: IncidentView) -> str:
    """The sender's start when it stated one, else when Howl opened the incident."""
    if view.started_at is not None:
        return f"Started {clock(view.started_at)}"
    return f"Opened {clock(view.incident.created_at)}"


def next_steps(incident: Incident) -> list[str]:
    """The commands still open to a person, by status: never one already done."""
    ack, silence, resolve = (f"/{c} {incident.id}" for c in ("ack", "silence", "resolve"))
    silence += " 1h"
    if incident.status is IncidentStatus.FIRING:
        return [ack, silence, resolve]
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        return [silence, resolve]
    if incident.status is IncidentStatus.SILENCED:
        return [resolve] if incident.acknowledged_at else [ack, resolve]
    return []


def label_items(labels: Mapping[str, str], *, limit: int = LABEL_CHARS) -> list[str]:
    return [f"<code>{esc(k)}={truncate(v, limit)}</code>" for k, v in labels.items()]


def labels_line(labels: Mapping[str, str], *, budget: int = LABELS_LINE_CHARS) -> str:
    """`k=v · k=v` within `budget` characters; what does not fit is counted."""
    items = label_items(labels)
    shown: list[str] = []
    used = 0
    for index, item in enumerate(items):
        if used + len(item) > budget:
            return " · ".join([*shown, f"<i>+{len(items) - index} more</i>"])
        shown.append(item)
        used += len(item) + 3
    return " · ".join(shown)


def link_items(urls: Mapping[str, str]) -> list[str]:
    return [anchor for label, url in urls.items() if (anchor := link(url, label))]


def links_line(urls: Mapping[str, str]) -> str:
    return " · ".join(link_items(urls))


def who(incident: Incident) -> list[str]:
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


def state_lines(view: IncidentView) -> list[str]:
    """Headline; severity and status; source, start and counts."""
    incident = view.incident
    return [
        headline(incident),
        f"Severity: <b>{incident.severity.value}</b> · Status: <b>{incident.status.value}</b>",
        f"Source: {esc(incident.source)} · {started(view)} · {counts(incident)}",
    ]


def labels_to_show(incident: Incident, common: Shared) -> dict[str, str]:
    """The grouping labels, and the others every alert shares unless the card says them anyway."""
    group = set(incident.labels)
    return {k: v for k, v in common.labels.items() if k in group or k not in QUIET_LABELS}


def head(view: IncidentView, common: Shared) -> list[str]:
    """State, start, counts, the labels all alerts share, who did what."""
    lines = state_lines(view)
    if shown := labels_to_show(view.incident, common):
        lines.append(labels_line(shown))
    lines.extend(who(view.incident))
    return lines


def _alert_line(alert: Alert, common: Shared) -> str:
    """The alert's state and only what sets it apart from the others."""
    icon = ALERT_ICON[alert.status]
    labels = label_items(apart(alert.labels, common.labels))
    details = " · ".join([*labels, *link_items(apart(urls_of(alert), common.links))])
    if common.summary is None or not details:
        summary = truncate(alert.summary, SUMMARY_CHARS)
        return f"{icon} {summary}" + (f"\n    {details}" if details else "")
    return f"{icon} {details}"


def _context(view: IncidentView, common: Shared) -> list[str]:
    """What every listed alert says alike: summary, description, links."""
    lines: list[str] = []
    if len(view.alerts) == 1:
        lines.append(_alert_line(view.alerts[0], common))
    elif common.summary is not None:
        lines.append(f"<b>{truncate(common.summary, SUMMARY_CHARS)}</b>")
    description = common.annotations.get("description", "").strip()
    if view.alerts and description.startswith(summary := view.alerts[0].summary):
        description = description.removeprefix(summary).strip()  # the summary came from it
    if description:
        lines.append(truncate(description, DESCRIPTION_CHARS))
    if links := links_line(common.links):
        lines.append(f"🔗 {links}")
    return lines


#: an Alertmanager silence id -> its page (None: Alertmanager is not configured)
SilenceLink = Callable[[str], str] | None


def alertmanager_line(incident: Incident, silence_link: SilenceLink) -> list[str]:
    """While silenced: the link to the mirrored Alertmanager silence, or why there is none."""
    if incident.status is not IncidentStatus.SILENCED or silence_link is None:
        return []
    if incident.alertmanager_error and not incident.alertmanager_silence_id:
        return ["⚠️ The Alertmanager silence could not be made; alerts still arrive there."]
    if incident.alertmanager_silence_id:
        shown = link(silence_link(incident.alertmanager_silence_id), "Silence in Alertmanager")
        return [f"🔕 {shown}"] if shown else []
    return []


def render_incident(view: IncidentView, *, silence_link: SilenceLink = None) -> Rendered:
    """The card: head, what the alerts share, each alert apart (trimmed to fit), next steps."""
    incident = view.incident
    common = Shared.of(incident.labels, view.alerts)
    lines = head(view, common)
    lines.extend(alertmanager_line(incident, silence_link))
    if view.debate is not None:
        lines.append(render_progress(view.debate.stage, view.debate.elapsed_s))
    if view.alerts:
        lines.append("")
        lines.extend(_context(view, common))
        if len(view.alerts) > 1:
            lines.extend(_alert_line(alert, common) for alert in view.alerts)
        hidden = incident.alert_count - len(view.alerts)
        if hidden > 0:
            more = f"… and {plural(hidden, 'more alert')}: /incident {incident.id} lists them all"
            lines.append(f"<i>{more}</i>")
    if steps := next_steps(incident):
        lines.append("\n<i>" + " · ".join(steps) + "</i>")
    return Rendered(text=fit_lines(lines))


def incident_card(
    view: IncidentView,
    *,
    chat_id: int,
    buttons: CallbackCodec | None = None,
    silence_link: SilenceLink = None,
) -> Card:
    """The card to queue; the outbox sends it the first time and edits it after.

    With `buttons` (the signing codec) the card carries the buttons for its status.
    """
    try:
        content = render_incident(view, silence_link=silence_link)
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
        digest_line=digest_line(view, headline),
    )
