"""`/incident <id>` in full: every alert with all its annotations, over several messages.

Each message stays within Telegram's 4,096 characters (UTF-16 units, after
entity parsing) and is valid HTML on its own: messages are cut between whole
lines, and a long annotation is cut into lines of its own first. What every
alert shares is said once at the top; each alert then shows only what sets it
apart. A reply of more than `MAX_MESSAGES` would crowd alert cards out of the
chat's send budget, so what goes beyond is counted instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.render.alerts import Shared, apart, text_annotations, urls_of
from bot.render.html import MAX_MESSAGE_CHARS, pack_blocks, pieces, truncate, visible_length
from bot.render.incident import (
    ALERT_ICON,
    clock,
    label_items,
    labels_to_show,
    link_items,
    links_line,
    next_steps,
    plural,
    state_lines,
    who,
)
from core.alerting.models import Alert, IncidentView
from core.messages import Rendered

#: alerts /incident reads from storage; those that do not fit the messages are counted
DETAIL_ALERTS = 500
#: messages one /incident may take (the chat can send about 20 a minute in all)
MAX_MESSAGES = 8
#: a line of labels or one part of a long annotation
LINE_CHARS = 3000
LABEL_CHARS = 1000
TITLE_CHARS = 60


def _wrap(items: Sequence[str], *, prefix: str = "") -> list[str]:
    """`prefix a · b · c`, continued on more lines when longer than LINE_CHARS; [] for no items."""
    lines: list[str] = []
    current = ""
    for item in items:
        if not current:
            current = prefix + item
        elif visible_length(f"{current} · {item}") > LINE_CHARS:
            lines.append(current)
            current = "    " + item
        else:
            current = f"{current} · {item}"
    return [*lines, current] if current else lines


def _annotations(annotations: Mapping[str, str]) -> list[str]:
    """`key: value`, each in full; a long value goes on over several lines."""
    lines: list[str] = []
    for key, value in annotations.items():
        name = f"<b>{truncate(key, 100)}</b>: "
        first, *rest = pieces(value.strip(), LINE_CHARS)
        lines.append(name + first)
        lines.extend(rest)
    return lines


def _head(view: IncidentView, common: Shared) -> list[str]:
    lines = state_lines(view)
    lines += _wrap(label_items(labels_to_show(view.incident, common), limit=LABEL_CHARS))
    lines += who(view.incident)
    if common.annotations or common.links:
        lines.append("")
        lines += _annotations(common.annotations)
        if links := links_line(common.links):
            lines.append(f"🔗 {links}")
    return lines


def _alert_block(number: int, alert: Alert, common: Shared) -> list[str]:
    times = f"since {clock(alert.starts_at)}"
    if alert.ends_at is not None:
        times += f" · ended {clock(alert.ends_at)}"
    first = f"{ALERT_ICON[alert.status]} <b>{number}.</b> {times}"
    items = [
        *label_items(apart(alert.labels, common.labels), limit=LABEL_CHARS),
        *link_items(apart(urls_of(alert), common.links)),
    ]
    lines = _wrap(items, prefix=first + " · ") or [first]
    return lines + _annotations(apart(text_annotations(alert), common.annotations))


def _continued(view: IncidentView, page: int, pages: int) -> str:
    title = truncate(view.incident.title, TITLE_CHARS)
    return f"<i>#{view.incident.id} {title}, continued ({page}/{pages})</i>"


def _pack(head: list[str], alerts: list[list[str]], tail: list[str], *, limit: int) -> list[str]:
    return pack_blocks([head, *alerts, tail], limit=limit)


def render_incident_detail(view: IncidentView) -> list[Rendered]:
    """Every listed alert in full, as one or more messages (see the module's docstring)."""
    incident = view.incident
    common = Shared.of(incident.labels, view.alerts)
    head = _head(view, common)
    if view.alerts:
        head += ["", "<b>Alerts</b>, firing first:"]
    blocks = [_alert_block(n, a, common) for n, a in enumerate(view.alerts, start=1)]
    steps = next_steps(incident)
    footer = ["", "<i>" + " · ".join(steps) + "</i>"] if steps else []
    # room on every message after the first for the line that says what it continues
    limit = MAX_MESSAGE_CHARS - visible_length(_continued(view, 99, 99)) - 1
    shown = _most_that_fit(head, blocks, footer, limit=limit, counted=incident.alert_count)
    hidden = incident.alert_count - shown
    note = [f"<i>… and {plural(hidden, 'more alert')} not shown here.</i>"] if hidden > 0 else []
    messages = _pack(head, blocks[:shown], note + footer, limit=limit)
    return [
        Rendered(text=text if page == 1 else f"{_continued(view, page, len(messages))}\n{text}")
        for page, text in enumerate(messages, start=1)
    ]


def _most_that_fit(
    head: list[str], blocks: list[list[str]], footer: list[str], *, limit: int, counted: int
) -> int:
    """How many alert blocks fit MAX_MESSAGES with the head, a note and the footer.

    `counted` is how many alerts the incident has; more than the blocks means a
    note will say so, and it needs its room too.
    """
    note = ["<i>… and 99999 more alerts not shown here.</i>"]
    every = _pack(head, blocks, (note if counted > len(blocks) else []) + footer, limit=limit)
    if len(every) <= MAX_MESSAGES:
        return len(blocks)
    low, high = 0, len(blocks)  # low always fits, high never does
    while high - low > 1:
        middle = (low + high) // 2
        if len(_pack(head, blocks[:middle], note + footer, limit=limit)) <= MAX_MESSAGES:
            low = middle
        else:
            high = middle
    return low
