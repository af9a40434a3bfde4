"""Knowledge cards in the alert chat: the adapter behind `core.knowledge.ports.KnowledgeCards`."""

from __future__ import annotations

from datetime import timedelta

import structlog

from bot.keyboards import CallbackCodec
from bot.render.knowledge import knowledge_card
from core.knowledge.models import KnowledgeEntry
from core.ports import CardSink

log = structlog.get_logger(__name__)


class ChatKnowledgeCards:
    """Queues an entry's card (a reply to its incident's card); nowhere in shadow mode."""

    def __init__(
        self,
        cards: CardSink,
        buttons: CallbackCodec,
        *,
        chat_id: int | None,
        shadow: bool,
        window: timedelta,
    ) -> None:
        self._cards = cards
        self._buttons = buttons
        self._chat_id = chat_id
        self._shadow = shadow
        self._window = window

    async def show(self, entry: KnowledgeEntry) -> None:
        if self._shadow or self._chat_id is None:
            log.info(
                "knowledge_card_not_posted",
                why="shadow mode" if self._shadow else "no alert chat",
                entry_id=entry.id,
            )
            return
        await self._cards.put_card(
            knowledge_card(entry, chat_id=self._chat_id, buttons=self._buttons, window=self._window)
        )
