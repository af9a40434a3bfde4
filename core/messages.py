"""Outbound chat messages as values: what to show, where, and how urgent it is.

Every send and edit goes through the outbox (see `core.ports.Outbox`): a card is
a message with an identity (`card_key`) that is edited in place as its subject
changes; a reply is a one-off answer to a person.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Priority(IntEnum):
    """Lower goes first: a person waiting on an answer beats bulk traffic."""

    REPLY = 0
    #: a storm digest: how new incidents become visible when cards cannot all go
    DIGEST = 5
    CARD_UPDATE = 10
    CARD_NEW = 20
    BULK = 30


class Button(BaseModel):
    """An inline button: either a callback (signed data) or a link."""

    model_config = ConfigDict(frozen=True)

    text: str
    callback_data: str | None = None
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


class Rendered(BaseModel):
    """HTML text and an optional inline keyboard, ready for the chat."""

    model_config = ConfigDict(frozen=True)

    text: str
    keyboard: Keyboard | None = None


class OutboundKind(StrEnum):
    SEND = "send"
    EDIT = "edit"
    DELETE = "delete"


class OutboundMessage(BaseModel):
    """One delivery the worker owes the chat."""

    id: int
    chat_id: int
    kind: OutboundKind
    text: str = ""
    keyboard: Keyboard | None = None
    card_key: str | None = None
    #: for EDIT and DELETE: the message; for a card, resolved at delivery time
    message_id: int | None = None
    reply_to_message_id: int | None = None
    priority: int = Priority.REPLY
    attempts: int = 0
    not_before: datetime
    created_at: datetime
    #: for a storm digest: the lines it lists as of the claim; the worker renders them
    digest_lines: tuple[str, ...] | None = None


class Card(BaseModel):
    """The latest content a card should show; the outbox converges the chat to it."""

    key: str = Field(min_length=1, max_length=120)
    chat_id: int
    content: Rendered
    #: a new card's priority; updates to an already posted card use CARD_UPDATE
    priority: int = Priority.CARD_NEW
    #: one HTML line naming the subject (with its severity): what a storm digest
    #: shows instead of the whole card when the chat has no budget for every card
    digest_line: str | None = None
