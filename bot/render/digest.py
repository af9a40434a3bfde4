"""The storm digest: many new incidents in one message, each named so it can be told apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.render.html import fit_lines
from core.alerting.models import Incident, IncidentView
from core.messages import Rendered

#: grouping labels that never tell two incidents of one alert apart
_NAME_LABELS = frozenset({"alertname", "__name__"})


def render_digest(lines: Sequence[str]) -> Rendered:
    """A digest card; each line is already-escaped HTML from the card it stands for."""
    header = (
        f"🌩 <b>Alert storm: {len(lines)} new incident(s)</b>\n"
        "<i>Grouped into one message to stay within Telegram's limits. "
        "Use /incident &lt;id&gt; for details.</i>\n"
    )
    return Rendered(text=fit_lines([header, *lines]))


def distinguishing(incident: Incident) -> str:
    """The grouping label values beyond the alert's name: what tells its incidents apart.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> labels = {"alertname": "HowlStormA", "namespace": "storm-ns0", "service": "svc"}
    >>> incident = Incident(id=2, group_key="k", title="HowlStormA", severity="warning",
    ...     status="firing", labels=labels, source="alertmanager", created_at=at, updated_at=at)
    >>> distinguishing(incident)
    'storm-ns0/svc'
    """
    values = [
        value
        for name, value in incident.labels.items()
        if name not in _NAME_LABELS and value and value != incident.title
    ]
    return "/".join(values)


def digest_line(view: IncidentView, headline: Callable[[Incident], str]) -> str:
    """The card's headline with what tells the incident apart, e.g.
    `🟡 #2 HowlStormA · storm-ns0/svc — 🔥 firing`; it follows the incident's state."""
    incident = view.incident
    if apart := distinguishing(incident):
        incident = incident.model_copy(update={"title": f"{incident.title} · {apart}"})
    return headline(incident)
