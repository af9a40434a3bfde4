"""The drift report card: what differs, its level, the reading of intent, and the buttons.

Guarantees: every value from Git, the cluster or a model is escaped and cut
(a field value shows at most `VALUE_CHARS` characters, on one line), so the card
stays within Telegram's 4096 characters whatever the cluster holds; whole lines
are dropped from the end (with a note) when it would not. Problems that stopped
part of the scan are always shown. The buttons (Roll back / Adopt / Ignore per
object) are in bot/keyboards.py; what a press does belongs to the approvals flow.
"""

from __future__ import annotations

import json
from typing import Any

from bot.keyboards import DRIFT_BUTTON_ROWS, CallbackCodec, drift_keyboard
from bot.render.html import code, fit_lines, truncate
from bot.render.incident import clock
from core.drift.models import Difference, DriftLevel, DriftObject, DriftReport
from core.messages import Card, Priority, Rendered

LEVEL_ICON = {DriftLevel.CRITICAL: "🔴", DriftLevel.WARNING: "🟡", DriftLevel.INFO: "🔵"}
#: differences listed per object; the rest are counted
DIFFERENCES_SHOWN = 6
OBJECTS_SHOWN = 10
VALUE_CHARS = 80
PATH_CHARS = 120
READING_CHARS = 400


def drift_key(report: DriftReport) -> str:
    """One card per report: each scan that found new drift posts a new message."""
    return f"drift:{report.id}"


def value_text(value: Any) -> str:
    """A field's value on one line, as JSON would spell it.

    >>> value_text("a"), value_text(None), value_text({"x": 1})
    ('a', '(none)', '{"x": 1}')
    """
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return " ".join(value.split())
    return json.dumps(value, sort_keys=True, default=str)


def difference_line(diff: Difference) -> str:
    icon = LEVEL_ICON[diff.level]
    if diff.change == "missing":
        return f"  {icon} missing from the cluster (in Git, not running)"
    if diff.change == "extra":
        return f"  {icon} not in Git (running, never declared)"
    desired, live = value_text(diff.desired), value_text(diff.live)
    return (
        f"  {icon} <code>{truncate(diff.path, PATH_CHARS)}</code>: "
        f"<code>{truncate(desired, VALUE_CHARS)}</code> → "
        f"<code>{truncate(live, VALUE_CHARS)}</code>"
    )


def object_lines(number: int, obj: DriftObject) -> list[str]:
    where = f" · {truncate(obj.desired_file, 80)}" if obj.desired_file else ""
    lines = [
        f"{number}. {LEVEL_ICON[obj.level]} <b>{truncate(obj.key.label(), 160)}</b> "
        f"— {obj.level.value}{where}"
    ]
    shown = sorted(obj.differences, key=lambda d: -d.level.rank)[:DIFFERENCES_SHOWN]
    lines.extend(difference_line(d) for d in shown)
    if len(obj.differences) > len(shown):
        lines.append(f"  … and {len(obj.differences) - len(shown)} more difference(s)")
    if obj.reading is not None:
        reading = obj.reading
        lines.append(
            f"  🧠 <i>{truncate(reading.intent, 40)}</i>: "
            f"{truncate(' '.join(reading.explanation.split()), READING_CHARS)} "
            f"(suggests: {truncate(reading.recommendation, 20)})"
        )
    return lines


def render_drift_report(report: DriftReport) -> Rendered:
    """The report as text (no buttons): what /drift answers when nothing drifted."""
    return Rendered(text=fit_lines(_lines(report)))


def _lines(report: DriftReport) -> list[str]:
    level = report.level
    head = "🧭 <b>Config drift</b>"
    if level is not None:
        head += f" — {LEVEL_ICON[level]} {level.value}"
    elif not report.problems:
        head += " — ✅ none"
    lines = [head, truncate(report.summary, 400)]
    problems = [f"⚠️ {truncate(problem, 300)}" for problem in report.problems]
    if problems:
        lines.extend(["", "<b>Problems</b>", *problems])
    for number, obj in enumerate(report.objects[:OBJECTS_SHOWN], start=1):
        lines.extend(["", *object_lines(number, obj)])
    if len(report.objects) > OBJECTS_SHOWN:
        lines.append(f"… and {len(report.objects) - OBJECTS_SHOWN} more object(s)")
    if len(report.objects) > DRIFT_BUTTON_ROWS:
        lines.append(f"<i>Buttons for the first {DRIFT_BUTTON_ROWS} objects.</i>")
    lines.extend(["", f"<i>Scanned {clock(report.scanned_at)} · report {code(report.id)}</i>"])
    return lines


def drift_card(report: DriftReport, *, chat_id: int, buttons: CallbackCodec) -> Card:
    """The drift report card with Roll back / Adopt / Ignore for each drifted object."""
    level = report.level
    urgent = level is DriftLevel.CRITICAL
    # the problems and the footer are short; objects are what gets cut at the limit
    text = fit_lines(_lines(report))
    return Card(
        key=drift_key(report),
        chat_id=chat_id,
        content=Rendered(text=text, keyboard=drift_keyboard(buttons, report)),
        priority=Priority.URGENT if urgent else Priority.CARD_NEW,
        digest_line=f"🧭 Config drift: {truncate(report.summary, 200)}",
    )
