"""The runbook review card, the anti-pattern notice, /runbooks and /runbook: escaped, bounded,
Publish / Reject only on a draft, signed under scope `k` within 64 bytes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.keyboards import (
    KNOWLEDGE_SCOPE,
    MAX_CALLBACK_DATA,
    CallbackCodec,
    InvalidCallback,
    review_keyboard,
    review_press,
)
from bot.render.html import MAX_MESSAGE_CHARS, visible_length
from bot.render.knowledge import (
    knowledge_card,
    render_entries,
    render_entry,
    render_notice,
    render_review,
)
from core.knowledge.models import EntryKind, EntryStatus, KnowledgeEntry
from core.knowledge.writing import MINIMAL_MARK
from tests.unit.knowledge.fakes import NOW

CODEC = CallbackCodec(b"k" * 32)
WEEK = timedelta(days=7)


def entry(**changes: object) -> KnowledgeEntry:
    values: dict[str, object] = {
        "id": 3,
        "kind": EntryKind.RUNBOOK,
        "status": EntryStatus.DRAFT,
        "symptoms_hash": "0123456789abcdef",
        "incident_id": 12,
        "action": "restart_deployment",
        "title": "Unstick <the> api",
        "body": "# Unstick <the> api\n\n## Symptoms\n- <script>x</script>\n\n## Root cause\n- y\n",
        "created_at": NOW,
    }
    values.update(changes)
    return KnowledgeEntry.model_validate(values)


def labels(rendered: object) -> list[str]:
    keyboard = getattr(rendered, "keyboard", None) or ()
    return [button.text for row in keyboard for button in row]


def test_a_draft_shows_its_first_lines_escaped_and_publish_reject() -> None:
    card = render_review(entry(), buttons=CODEC)
    assert "Unstick &lt;the&gt; api" in card.text
    assert "&lt;script&gt;" in card.text and "<script>" not in card.text
    assert "<b>Symptoms</b>" in card.text
    assert "Waits for an approver" in card.text and "/runbook 3" in card.text
    assert labels(card) == ["Publish", "Reject"]
    data = [b.callback_data for row in card.keyboard or () for b in row]
    assert [CODEC.decode(d) for d in data] == [("k", ("p", "3")), ("k", ("r", "3"))]


def test_a_decided_runbook_names_who_and_has_no_buttons() -> None:
    published = entry(status=EntryStatus.PUBLISHED, reviewed_by="Alice <a>", reviewed_at=NOW)
    card = render_review(published, buttons=CODEC)
    assert card.keyboard is None
    assert "Published</b> by Alice &lt;a&gt; at 2026-12-03 06:00 UTC" in card.text
    rejected = render_review(entry(status=EntryStatus.REJECTED, reviewed_by="Bob"), buttons=CODEC)
    assert rejected.keyboard is None and "Rejected</b> by Bob" in rejected.text


def test_the_preview_is_the_first_lines_and_every_card_fits() -> None:
    body = "# T\n" + "\n".join(f"- line {i} " + "x" * 400 for i in range(200))
    card = render_review(entry(body=body, title="t" * 200), buttons=CODEC)
    assert visible_length(card.text) <= MAX_MESSAGE_CHARS
    assert "line 0" in card.text and "line 40" not in card.text
    whole = render_entry(entry(body=body), window=WEEK)
    assert visible_length(whole.text) <= MAX_MESSAGE_CHARS
    listing = render_entries([entry(id=i, title="t" * 200) for i in range(1, 300)], limit=300)
    assert visible_length(listing.text) <= MAX_MESSAGE_CHARS


def test_a_minimal_runbook_says_so() -> None:
    card = render_review(
        entry(minimal=True, body=f"# T\n{MINIMAL_MARK} (x)._\n## Symptoms\n"), buttons=CODEC
    )
    assert "Minimal runbook built from the facts" in card.text


def test_the_notice_has_no_buttons_and_says_until_when_it_blocks() -> None:
    anti = entry(kind=EntryKind.ANTI_PATTERN, status=EntryStatus.PUBLISHED, title="Do not restart")
    notice = render_notice(anti, window=WEEK)
    assert notice.keyboard is None
    assert "Anti-pattern #3" in notice.text
    assert "blocked until 2026-12-10 06:00 UTC" in notice.text
    card = knowledge_card(anti, chat_id=-1, buttons=CODEC, window=WEEK)
    assert card.content == notice and card.closed and card.reply_to_card == "incident:12"


def test_a_draft_card_answers_its_incident_card_and_stays_open() -> None:
    card = knowledge_card(entry(), chat_id=-1, buttons=CODEC, window=WEEK)
    assert card.key == "knowledge:3" and not card.closed
    assert labels(card.content) == ["Publish", "Reject"]


def test_lists_and_the_whole_entry() -> None:
    listing = render_entries([entry(), entry(id=4, status=EntryStatus.PUBLISHED)], limit=20)
    assert "#3 📝 draft" in listing.text and "#4 ✅ published" in listing.text
    assert "runbooks or anti-patterns yet" in render_entries([], limit=20).text
    whole = render_entry(
        entry(kind=EntryKind.ANTI_PATTERN, status=EntryStatus.PUBLISHED), window=WEEK
    )
    assert "Blocks automatic <code>restart_deployment</code> until 2026-12-10" in whole.text


def test_review_buttons_fit_64_bytes_and_read_back() -> None:
    biggest = 2**63 - 1
    for button in review_keyboard(CODEC, biggest)[0]:
        assert button.callback_data is not None
        assert len(button.callback_data.encode()) <= MAX_CALLBACK_DATA
        scope, fields = CODEC.decode(button.callback_data)
        assert scope == KNOWLEDGE_SCOPE and review_press(fields)[1] == biggest
    for bad in [("x", "3"), ("p",), ("p", "0"), ("p", "-1"), ("p", "٣"), ("p", str(2**63))]:
        with pytest.raises(InvalidCallback):
            review_press(bad)
