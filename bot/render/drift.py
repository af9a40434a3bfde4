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
from bot.render.html import MAX_MESSAGE_CHARS, code, fit_lines, truncate, visible_length
from bot.render.incident import clock
from core.drift.models import Difference, DriftLevel, DriftObject, DriftReport
from core.messages import Card, Priority, Rendered

LEVEL_ICON = {DriftLevel.CRITICAL: "🔴", DriftLevel.WARNING: "🟡", DriftLevel.INFO: "🔵"}
#: differences listed per object; the rest are counted
DIFFERENCES_SHOWN = 6
OBJECTS_SHOWN = 10
PROBLEMS_SHOWN = 5
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
    return Rendered(text=_text(report))


def _text(report: DriftReport) -> str:
    """Head, problems and footer always; the objects fill what is left of the 4096."""
    level = report.level
    head = "🧭 <b>Config drift</b>"
    if level is not None:
        head += f" — {LEVEL_ICON[level]} {level.value}"
    elif not report.problems:
        head += " — ✅ none"
    top = [head, truncate(report.summary, 400)]
    shown_problems = report.problems[:PROBLEMS_SHOWN]
    if shown_problems:
        top.extend(["", "<b>Problems</b>", *(f"⚠️ {truncate(p, 300)}" for p in shown_problems)])
    if len(report.problems) > len(shown_problems):
        top.append(f"⚠️ … and {len(report.problems) - len(shown_problems)} more problem(s)")
    body: list[str] = []
    for number, obj in enumerate(report.objects[:OBJECTS_SHOWN], start=1):
        body.extend(["", *object_lines(number, obj)])
    if len(report.objects) > OBJECTS_SHOWN:
        body.append(f"… and {len(report.objects) - OBJECTS_SHOWN} more object(s)")
    tail = [""]
    if len(report.objects) > DRIFT_BUTTON_ROWS:
        tail.append(f"<i>Buttons for the first {DRIFT_BUTTON_ROWS} objects.</i>")
    tail.append(f"<i>Scanned {clock(report.scanned_at)} · report {code(report.id)}</i>")
    fixed = "\n".join([*top, *tail])
    if not body:
        return fixed
    room = MAX_MESSAGE_CHARS - visible_length(fixed) - 2
    return "\n".join([*top, fit_lines(body, limit=room), *tail])


def drift_card(report: DriftReport, *, chat_id: int, buttons: CallbackCodec) -> Card:
    """The drift report card with Roll back / Adopt / Ignore for each drifted object."""
    level = report.level
    urgent = level is DriftLevel.CRITICAL
    text = _text(report)
    return Card(
        key=drift_key(report),
        chat_id=chat_id,
        content=Rendered(text=text, keyboard=drift_keyboard(buttons, report)),
        priority=Priority.URGENT if urgent else Priority.CARD_NEW,
        digest_line=f"🧭 Config drift: {truncate(report.summary, 200)}",
    )
