"""The incident card's progress line while its debate runs, and how the debate ended."""

from __future__ import annotations

from bot.render.html import truncate

#: stage -> its icon, while the debate runs; the end states follow
PROGRESS_STAGES = {
    "queued": "⏳",
    "diagnosing": "🧠",
    "solving": "🛠",
    "reviewing": "🔍",
    "deciding": "⚖️",
}
END_STAGES = ("posted", "timeout", "failed")


def seconds(elapsed_s: float) -> str:
    """Whole seconds, never negative.

    >>> seconds(12.9), seconds(-1.0)
    ('12 s', '0 s')
    """
    return f"{max(int(elapsed_s), 0)} s"


def render_progress(stage: str, elapsed_s: float) -> str:
    """One HTML line for the incident card: `🧠 diagnosing… 12 s`, or how the debate ended.

    Stages are `PROGRESS_STAGES` and `END_STAGES`; another stage name is shown
    escaped rather than refused, so a new stage never breaks a card.

    >>> render_progress("diagnosing", 12.4)
    '🧠 diagnosing… 12 s'
    >>> render_progress("timeout", 260.2)
    '⌛ timed out after 260 s — a person decides'
    """
    if stage in PROGRESS_STAGES:
        return f"{PROGRESS_STAGES[stage]} {stage}… {seconds(elapsed_s)}"
    if stage == "posted":
        return "⚖️ decision posted"
    if stage == "timeout":
        return f"⌛ timed out after {seconds(elapsed_s)} — a person decides"
    if stage == "failed":
        return "❌ failed — a person decides"
    return f"⚙️ {truncate(' '.join(stage.split()), 40)}… {seconds(elapsed_s)}"
