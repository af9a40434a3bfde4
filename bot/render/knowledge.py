"""Knowledge in the chat: the runbook review card, the anti-pattern notice, /runbooks, /runbook.

Pure rendering. Every text an entry holds (a model wrote some of it, an alert
the rest) is escaped line by line, so no line leaves a tag open and cutting
whole lines keeps the HTML valid; every message stays within Telegram's 4096
characters. Publish / Reject appear only while a runbook is a draft; once
decided, the card names who decided and when. The notice has no buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.keyboards import CallbackCodec, review_keyboard
from bot.render.html import MAX_MESSAGE_CHARS, code, esc, fit_lines, truncate, visible_length
from bot.render.incident import card_key, clock
from core.knowledge.models import EntryKind, EntryStatus, KnowledgeEntry
from core.knowledge.writing import MINIMAL_MARK
from core.messages import Card, Priority, Rendered

#: lines of the body a review card previews
PREVIEW_LINES = 12
LINE_CHARS = 300
STATUS_ICON = {
    EntryStatus.DRAFT: "📝",
    EntryStatus.PUBLISHED: "✅",
    EntryStatus.REJECTED: "🚫",
}
KIND_ICON = {EntryKind.RUNBOOK: "📘", EntryKind.ANTI_PATTERN: "⛔"}
KIND_NAME = {EntryKind.RUNBOOK: "Runbook", EntryKind.ANTI_PATTERN: "Anti-pattern"}


def knowledge_key(entry_id: int) -> str:
    return f"knowledge:{entry_id}"


def markdown_line(line: str) -> str:
    """One Markdown line as Telegram HTML: headings bold, the rest escaped.

    >>> markdown_line("## Root cause"), markdown_line("- a <b>")
    ('<b>Root cause</b>', '- a &lt;b&gt;')
    """
    stripped = line.strip()
    if stripped.startswith("#"):
        return f"<b>{truncate(stripped.lstrip('#').strip(), LINE_CHARS)}</b>"
    return truncate(line.rstrip(), LINE_CHARS)


def _body_lines(entry: KnowledgeEntry, *, skip_title: bool = True) -> list[str]:
    lines = entry.body.splitlines()
    if skip_title and lines and lines[0].startswith("# "):
        lines = lines[1:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    return [markdown_line(line) for line in lines]


def _preview(entry: KnowledgeEntry) -> list[str]:
    lines = [line for line in _body_lines(entry) if line.strip() and line.strip() != "```"]
    if entry.minimal:
        lines = [line for line in lines if not line.startswith(esc(MINIMAL_MARK))]
    shown = lines[:PREVIEW_LINES]
    more = ["…"] if len(lines) > PREVIEW_LINES else []
    return [*shown, *more]


def _status(entry: KnowledgeEntry) -> str:
    if entry.status is EntryStatus.DRAFT:
        return "✋ <b>Waits for an approver</b>: Publish to use it in the next debates, or Reject."
    who = esc(entry.reviewed_by or "someone")
    when = f" at {clock(entry.reviewed_at)}" if entry.reviewed_at else ""
    if entry.status is EntryStatus.PUBLISHED:
        if entry.kind is EntryKind.ANTI_PATTERN:
            return "✅ Published at once (anti-patterns need no review)"
        return f"✅ <b>Published</b> by {who}{when}"
    return f"🚫 <b>Rejected</b> by {who}{when}"


def _head(entry: KnowledgeEntry, label: str) -> list[str]:
    icon = KIND_ICON[entry.kind]
    return [
        f"{icon} <b>{label} #{entry.id} · {truncate(entry.title, 150)}</b>",
        f"From incident #{entry.incident_id} · symptoms {code(entry.symptoms_hash)}",
    ]


def _fit(head: list[str], body: list[str], tail: list[str]) -> str:
    ends = "\n".join(head), "\n".join(tail)
    room = MAX_MESSAGE_CHARS - sum(visible_length(end) for end in ends) - 2
    return "\n".join([ends[0], fit_lines(body, limit=room), ends[1]])


def render_review(entry: KnowledgeEntry, *, buttons: CallbackCodec) -> Rendered:
    """A runbook's review card: the first lines of it, and Publish / Reject while a draft."""
    head = _head(entry, "Runbook draft" if entry.status is EntryStatus.DRAFT else "Runbook")
    if entry.minimal:
        head.append("<i>Minimal runbook built from the facts (the model gave no draft).</i>")
    body = ["", *_preview(entry), ""]
    tail = [_status(entry), f"<i>Whole text: /runbook {entry.id}</i>"]
    keyboard = review_keyboard(buttons, entry.id) if entry.status is EntryStatus.DRAFT else None
    return Rendered(text=_fit(head, body, tail), keyboard=keyboard)


def render_notice(entry: KnowledgeEntry, *, window: timedelta) -> Rendered:
    """An anti-pattern's notice: what failed, and until when it blocks automatic repair."""
    until = entry.active_until(window)
    action = code(entry.action) if entry.action else "this action"
    blocked = (
        f"🔒 Automatic {action} on these symptoms is blocked until {clock(until)}; "
        "a person can still approve it."
        if until is not None
        else ""
    )
    head = _head(entry, "Anti-pattern")
    body = ["", *_preview(entry), ""]
    tail = [blocked, f"<i>Whole text: /runbook {entry.id}</i>"]
    return Rendered(text=_fit(head, body, tail))


def knowledge_card(
    entry: KnowledgeEntry, *, chat_id: int, buttons: CallbackCodec, window: timedelta
) -> Card:
    """The card to queue, a reply to its incident's card; edited in place after a review."""
    if entry.kind is EntryKind.RUNBOOK:
        content = render_review(entry, buttons=buttons)
    else:
        content = render_notice(entry, window=window)
    label = KIND_NAME[entry.kind].lower()
    return Card(
        key=knowledge_key(entry.id),
        chat_id=chat_id,
        content=content,
        priority=Priority.DECISION,
        closed=entry.status is not EntryStatus.DRAFT,
        digest_line=f"{KIND_ICON[entry.kind]} {label} #{entry.id} {truncate(entry.title, 80)}",
        reply_to_card=card_key(entry.incident_id),
    )


def entry_line(entry: KnowledgeEntry) -> str:
    """`📘 #3 ✅ published · title · incident #12`."""
    minimal = " (minimal)" if entry.minimal else ""
    return (
        f"{KIND_ICON[entry.kind]} #{entry.id} {STATUS_ICON[entry.status]} "
        f"{entry.status.value}{minimal} · {truncate(entry.title, 90)}"
        f" · incident #{entry.incident_id}"
    )


def render_entries(entries: Sequence[KnowledgeEntry], *, limit: int) -> Rendered:
    """/runbooks: newest first, each with its kind and status."""
    if not entries:
        return Rendered(
            text="📚 No runbooks or anti-patterns yet: they are written after each repair."
        )
    head = f"📚 <b>Knowledge</b> (newest {min(len(entries), limit)})"
    lines = [
        head,
        *(entry_line(e) for e in entries[:limit]),
        "",
        "<i>/runbook &lt;id&gt; shows one</i>",
    ]
    return Rendered(text=fit_lines(lines))


def render_entry(entry: KnowledgeEntry, *, window: timedelta) -> Rendered:
    """/runbook <id>: the whole entry, cut to one message."""
    head = [
        *_head(entry, KIND_NAME[entry.kind]),
        f"{STATUS_ICON[entry.status]} {entry.status.value} · written {clock(entry.created_at)}",
    ]
    until = entry.active_until(window)
    if until is not None:
        head.append(f"Blocks automatic {code(entry.action or 'repair')} until {clock(until)}")
    body = ["", *_body_lines(entry)]
    return Rendered(text=_fit(head, body, [""]).rstrip())
