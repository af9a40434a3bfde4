"""Outbound chat messages as values: what to show, where, and how urgent it is.

Every send and edit goes through the outbox (see `core.ports.Outbox`): a card is
a message with an identity (`card_key`) that is edited in place as its subject
changes; a reply is a one-off answer to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field

#: card keys of storm digests (the outbox makes them; the delivery worker tells them apart)
DIGEST_KEY_PREFIX = "digest:"


class Priority(IntEnum):
    """Lower goes first: a person waiting on an answer beats bulk traffic, and a new
    incident's announcement beats an edit of a known one (an edit notifies nobody)."""

    REPLY = 0
    #: the first card of a critical incident, or a digest announcing one
    URGENT = 2
    #: a storm digest: how new incidents become visible when cards cannot all go
    DIGEST = 5
    CARD_NEW = 10
    #: a critical incident's decision package: like DECISION, but outside a storm it
    #: may use the slots other announcements leave to critical ones
    URGENT_DECISION = 14
    #: a decision package's first send: it announces something new (a person may be
    #: asked to approve), so it goes before any edit; after a new incident's card,
    #: since it answers that card and a storm is announced incidents first
    DECISION = 15
    CARD_UPDATE = 20
    BULK = 30

    @classmethod
    def announces_incident(cls, priority: int) -> bool:
        """Whether a first send at this priority announces a new incident: what a storm
        folds into digests ("N new incidents"). A decision card is not one; it waits its
        turn behind the incidents' cards instead."""
        return cls.REPLY < priority < cls.URGENT_DECISION

    @classmethod
    def announces(cls, priority: int) -> bool:
        """Whether a delivery at this priority announces something new (not a reply or an edit)."""
        return cls.REPLY < priority < cls.CARD_UPDATE


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


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """What the delivery worker plans on: a pending delivery's header, without its content.

    The content is read when the delivery is claimed (`DeliveryQueue.claim`); planning
    looks at every due delivery on each round, so it reads no more than this.
    """

    id: int
    chat_id: int
    kind: OutboundKind
    card_key: str | None
    priority: int


@dataclass(frozen=True, slots=True)
class DuePlan:
    """The deliveries that may go now, most urgent first, and when the next one falls due."""

    due: tuple[DueDelivery, ...]
    #: the earliest `not_before` still in the future; None when nothing waits for a time
    next_due_at: datetime | None


class Card(BaseModel):
    """The latest content a card should show; the outbox converges the chat to it."""

    key: str = Field(min_length=1, max_length=120)
    chat_id: int
    content: Rendered
    #: a new card's priority; updates to an already posted card use CARD_UPDATE
    priority: int = Priority.CARD_NEW
    #: its subject needs nobody any more (a resolved incident): after a storm a card
    #: that only shows as a digest line gets its own message unless it is closed
    closed: bool = False
    #: one HTML line naming the subject (with its severity): what a storm digest
    #: shows instead of the whole card when the chat has no budget for every card
    digest_line: str | None = None
    #: the key of the card this one answers (a decision package answers its incident's
    #: card): its first send is a reply to that card's message, when it has one
    reply_to_card: str | None = Field(default=None, max_length=120)
