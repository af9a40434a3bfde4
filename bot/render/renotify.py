"""The re-notify message: a reply to an incident's card that makes phones ring again."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.html import esc
from bot.render.incident import clock, headline
from core.alerting.models import Incident
from core.messages import Rendered


def render_renotify(incident: Incident, mention: Sequence[str]) -> Rendered:
    """`@oncall_alice 🔴 #12 CheckoutDown — 🔥 firing`, still unacknowledged, and what to do."""
    names = " ".join(esc(name) for name in mention)
    lines = [
        f"{names} {headline(incident)}".strip(),
        f"⏰ Still firing, nobody has acknowledged it (open since {clock(incident.created_at)}).",
        f"<i>/ack {incident.id} · /silence {incident.id} 1h · /resolve {incident.id}</i>",
    ]
    return Rendered(text="\n".join(lines))
