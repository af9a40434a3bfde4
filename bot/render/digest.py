"""The storm digest: many new incidents in one message, each still named with its severity."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.html import fit_lines
from core.messages import Rendered


def render_digest(lines: Sequence[str]) -> Rendered:
    """A digest card; each line is already-escaped HTML from the card it stands for."""
    header = (
        f"🌩 <b>Alert storm: {len(lines)} new incident(s)</b>\n"
        "<i>Grouped into one message to stay within Telegram's limits. "
        "Use /incident &lt;id&gt; for details.</i>\n"
    )
    return Rendered(text=fit_lines([header, *lines]))
