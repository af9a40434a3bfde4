"""The delivery worker: drains the outbox into Telegram within Telegram's limits.

It plans rather than waits: each chat has a sliding-window budget (edits count
like sends), a person's reply may use slots that bulk traffic may not, a storm
of new cards is folded into digests before it can exhaust a group's 20 a
minute, `RetryAfter` closes the chat's window until the time Telegram gave, and
transient failures back off while the delivery stays in the outbox. Nothing is
lost across restarts: a delivery leaves the outbox only once Telegram took it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

import structlog
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.render.digest import render_digest
from bot.telegram_limits import GLOBAL, SlidingBudget, chat_window
from core.messages import (
    DIGEST_KEY_PREFIX,
    DueDelivery,
    Keyboard,
    OutboundKind,
    OutboundMessage,
    Priority,
    Rendered,
)
from core.ports import Clock, DeliveryQueue, StormDigests

log = structlog.get_logger(__name__)

#: slots of a chat's window a critical incident's announcement leaves free for replies
ANNOUNCE_HEADROOM = 2
#: slots other announcements (a warning's card, a digest of warnings) leave free on top,
#: for critical ones: a storm of warnings that spent the group's minute must not hold a
#: critical incident's card back until the minute rolls over
URGENT_RESERVE = 2
#: slots edits and bulk traffic leave free for replies and announcements
BULK_HEADROOM = ANNOUNCE_HEADROOM + URGENT_RESERVE + 1
#: a new card waits at most this long for its chat's budget; when more wait than can go
#: in that time, the rest fold into a storm digest. The contract gives a new incident
#: 60 s to be announced: this leaves room for the publisher and the digest itself.
ANNOUNCE_WITHIN_S = 45.0
#: while a storm lasts, own cards leave this many announcement slots for its digests
DIGEST_RESERVE = 3
#: slots a decision card leaves free while its chat storms (outside a storm it is an
#: announcement like others): a storm's decisions never take the slot a new incident's
#: announcement (its card or a digest) or a person's reply needs
DECISION_HEADROOM = ANNOUNCE_HEADROOM + URGENT_RESERVE + DIGEST_RESERVE + 1
#: a chat that folded nothing for this long is calm again: folded cards may unfold
STORM_CALM_S = 20.0
#: how often a chat with folded cards is checked for room to give them their own message
UNFOLD_EVERY_S = 1.0
#: an edit of a message waits this long after the previous delivery of the same card
#: (pending edits merge meanwhile), so a digest growing card by card costs a few edits
EDIT_SPACING_S = 1.0

_CARD_NOT_POSTED_YET = 0.5


class Metrics(Protocol):
    def delivered(self, kind: str, result: str) -> None: ...


class _NoMetrics:
    def delivered(self, kind: str, result: str) -> None:
        return None


_DECISIONS = frozenset({Priority.URGENT_DECISION, Priority.DECISION})


def headroom(priority: int) -> int:
    """Slots of a chat's window a delivery must leave free for more urgent traffic.

    A person's reply may use every slot, a critical incident's announcement (its
    card, or a digest with it) all but two, any other announcement all but four,
    an edit or bulk message all but five, a storm's decision card all but eight:
    `/status` in a storm answers at once, a critical card is not behind a storm
    of warnings, and neither edits nor fifty decisions take the slot a new
    incident needs.

    >>> headroom(Priority.REPLY), headroom(Priority.URGENT), headroom(Priority.CARD_NEW)
    (0, 2, 4)
    >>> headroom(Priority.DIGEST), headroom(Priority.CARD_UPDATE), headroom(Priority.DECISION)
    (4, 5, 8)
    >>> headroom(Priority.URGENT_DECISION)
    8
    """
    if priority <= Priority.REPLY:
        return 0
    if priority <= Priority.URGENT:
        return ANNOUNCE_HEADROOM
    if priority in _DECISIONS:
        return DECISION_HEADROOM
    return ANNOUNCE_HEADROOM + URGENT_RESERVE if Priority.announces(priority) else BULK_HEADROOM


def calm_decision_headroom(priority: int) -> int:
    """Outside a storm a decision card is an announcement like others, a critical
    incident's like its card: an approver may be waiting for it.

    >>> calm_decision_headroom(Priority.URGENT_DECISION), calm_decision_headroom(Priority.DECISION)
    (2, 4)
    """
    urgent = priority == Priority.URGENT_DECISION
    return headroom(Priority.URGENT if urgent else Priority.CARD_NEW)


def _is_new_card(item: DueDelivery) -> bool:
    """A card's first send (not a digest's): what a storm folds."""
    return (
        item.kind == OutboundKind.SEND
        and item.card_key is not None
        and not item.card_key.startswith(DIGEST_KEY_PREFIX)
        and Priority.announces_incident(item.priority)
    )


def to_markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    """Domain keyboard -> python-telegram-bot markup."""
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, callback_data=b.callback_data, url=b.url) for b in row]
            for row in keyboard
        ]
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    """RetryAfter's delay in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class DeliveryWorker:
    """One task that owns every chat's budget; deliveries run concurrently across chats."""

    def __init__(
        self,
        outbox: DeliveryQueue,
        digests: StormDigests,
        bot: Bot,
        *,
        clock: Clock,
        digest_renderer: Callable[[Sequence[str]], Rendered] = render_digest,
        monotonic: Callable[[], float] = time.monotonic,
        lanes: int = 8,
        max_backoff_s: float = 30.0,
        poll_s: float = 2.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._outbox = outbox
        self._digests = digests
        self._render_digest = digest_renderer
        self._bot = bot
        self._clock = clock
        self._mono = monotonic
        self._lanes = lanes
        self._max_backoff = max_backoff_s
        self._poll = poll_s
        self._metrics = metrics or _NoMetrics()
        self._global = SlidingBudget(GLOBAL)
        self._chats: dict[int, SlidingBudget] = {}
        self._busy: set[int] = set()
        #: chats with cards that show only as digest lines, and when to look at each next
        self._folded_chats: set[int] = set()
        self._next_unfold: dict[int, float] = {}
        self._last_fold: dict[int, float] = {}
        #: card key -> when its last delivery started (monotonic); paces edits of one message
        self._last_card_delivery: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._runner: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        recovered = await self._outbox.recover()
        await self._seed_budgets()
        self._folded_chats.update(await self._digests.folded_chats())
        self._outbox.subscribe(self.wake)
        self._runner = asyncio.create_task(self._run(), name="howl-delivery")
        log.info("delivery_started", recovered=recovered)

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, *, grace_s: float = 2.0) -> None:
        """Stop taking work; give in-flight deliveries `grace_s`, then cancel them."""
        self._stopping = True
        self._wake.set()
        if self._runner is not None:
            await self._runner
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        log.info("delivery_stopped")

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    async def _seed_budgets(self) -> None:
        # After a restart, what was sent in the last minute still counts at Telegram.
        now_wall, now = self._clock.now(), self._mono()
        for chat_id, sent_at in await self._outbox.sent_since(now_wall - timedelta(seconds=60)):
            ago = (now_wall - sent_at).total_seconds()
            self._budget(chat_id).record(now - ago)

    def _budget(self, chat_id: int) -> SlidingBudget:
        budget = self._chats.get(chat_id)
        if budget is None:
            budget = self._chats[chat_id] = SlidingBudget(chat_window(chat_id))
        return budget

    # --- the loop ----------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self._pump()
            except Exception:
                log.exception("delivery_pump_failed")
                delay = self._poll
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.01))

    async def _pump(self) -> float:
        """Start every delivery that may go now; return how long to sleep."""
        plan = await self._outbox.plan(now=self._clock.now(), limit=500)
        if await self._plan_storms(plan.due):
            plan = await self._outbox.plan(now=self._clock.now(), limit=500)
        wait = self._poll
        for item in plan.due:
            if len(self._tasks) >= self._lanes:
                break
            if item.chat_id in self._busy:
                continue
            delay = self._delay_for(item)
            if delay > 0:
                wait = min(wait, delay)
                continue
            self._launch(item)
        if plan.next_due_at is not None:
            until = (plan.next_due_at - self._clock.now()).total_seconds()
            wait = min(wait, max(until, 0.01))
        return wait

    def _delay_for(self, item: DueDelivery) -> float:
        now = self._mono()
        global_wait = self._global.wait(now)
        if item.kind == OutboundKind.DELETE:
            return global_wait
        keep_free = headroom(item.priority)
        if item.priority in _DECISIONS and not self._storming(item.chat_id, now):
            keep_free = calm_decision_headroom(item.priority)
        chat_wait = self._budget(item.chat_id).wait(now, keep_free=keep_free)
        spacing = 0.0
        if item.kind == OutboundKind.EDIT and item.card_key in self._last_card_delivery:
            spacing = self._last_card_delivery[item.card_key] + EDIT_SPACING_S - now
        return max(chat_wait, global_wait, spacing)

    async def _plan_storms(self, due: Sequence[DueDelivery]) -> bool:
        """Fold new cards a chat cannot announce in time; unfold them once it can.

        Returns whether anything was folded or unfolded (the due list changed).
        """
        now = self._mono()
        storming = {item.chat_id for item in due if _is_new_card(item)}
        urgent = Counter(
            item.chat_id for item in due if _is_new_card(item) and item.priority <= Priority.URGENT
        )
        changed = False
        for chat_id in storming:
            waiting = await self._digests.pending_new_cards(chat_id)
            keep = self._cards_to_keep(chat_id, now, waiting=waiting, urgent=urgent[chat_id])
            if keep < waiting:
                count = await self._digests.fold_new_cards(chat_id, keep=keep)
                log.info("storm_folded", chat_id=chat_id, cards=count, kept=keep)
                self._folded_chats.add(chat_id)
                self._last_fold[chat_id] = now
                changed = changed or count > 0
        for chat_id in sorted(self._folded_chats - storming):
            changed = await self._unfold(chat_id, now) or changed
        return changed

    def _cards_to_keep(self, chat_id: int, now: float, *, waiting: int, urgent: int) -> int:
        """How many of the chat's `waiting` new cards can go as messages of their own in
        time; the `urgent` (critical) ones first, as the fold keeps them first.

        Own cards never take the slots kept for digests: the last one outside a storm,
        DIGEST_RESERVE while one lasts, so its later folds still go at once; critical
        cards may use the slots kept from the others (URGENT_RESERVE).
        """
        reserve = self._digest_slots(chat_id, now)
        urgent_room = max(self._announce_capacity(chat_id, now, Priority.URGENT) - reserve, 0)
        room = max(self._announce_capacity(chat_id, now) - reserve, 0)
        kept_urgent = min(urgent, urgent_room)
        return kept_urgent + min(waiting - kept_urgent, max(room - kept_urgent, 0))

    def _storming(self, chat_id: int, now: float) -> bool:
        """The chat folded new cards into a digest within the last STORM_CALM_S."""
        last = self._last_fold.get(chat_id)
        return last is not None and now - last < STORM_CALM_S

    def _digest_slots(self, chat_id: int, now: float) -> int:
        """Announcement slots kept for digests in this chat."""
        return DIGEST_RESERVE if self._storming(chat_id, now) else 1

    async def _unfold(self, chat_id: int, now: float) -> bool:
        """After the storm: cards that show only as a digest line get their own message."""
        calm_since = self._last_fold.get(chat_id, float("-inf")) + STORM_CALM_S
        if max(self._next_unfold.get(chat_id, 0.0), calm_since) > now:
            return False
        self._next_unfold[chat_id] = now + UNFOLD_EVERY_S
        if await self._digests.pending_new_cards(chat_id):
            return False  # new cards still wait: the storm is not over
        room = self._announce_capacity(chat_id, now) - DIGEST_RESERVE
        if room <= 0:
            return False
        count = await self._digests.unfold(chat_id, limit=room)
        if count < room:
            self._folded_chats.discard(chat_id)
        if count:
            log.info("storm_unfolded", chat_id=chat_id, cards=count)
        return count > 0

    def _announce_capacity(
        self, chat_id: int, now: float, priority: int = Priority.CARD_NEW
    ) -> int:
        """New cards at `priority` this chat can still announce within `ANNOUNCE_WITHIN_S`."""
        return self._budget(chat_id).capacity(
            now, within=ANNOUNCE_WITHIN_S, keep_free=headroom(priority)
        )

    def _launch(self, item: DueDelivery) -> None:
        now = self._mono()
        self._global.record(now)
        if item.kind != OutboundKind.DELETE:
            self._budget(item.chat_id).record(now)
        if item.card_key is not None:
            if len(self._last_card_delivery) > 1000:  # only recent ones can still pace an edit
                self._last_card_delivery = {
                    key: at
                    for key, at in self._last_card_delivery.items()
                    if at > now - EDIT_SPACING_S
                }
            self._last_card_delivery[item.card_key] = now
        self._busy.add(item.chat_id)
        task = asyncio.create_task(self._deliver(item, now), name=f"howl-deliver-{item.id}")
        self._tasks.add(task)
        task.add_done_callback(functools.partial(self._finished, chat_id=item.chat_id))

    def _not_sent(self, item: DueDelivery, launched_at: float) -> None:
        """Give back the slots `_launch` took for a delivery that did not happen."""
        self._global.forget(launched_at)
        if item.kind != OutboundKind.DELETE:
            self._budget(item.chat_id).forget(launched_at)

    def _finished(self, task: asyncio.Task[None], chat_id: int) -> None:
        self._tasks.discard(task)
        self._busy.discard(chat_id)
        self._wake.set()

    # --- one delivery --------------------------------------------------------------

    async def _deliver(self, queued: DueDelivery, launched_at: float) -> None:
        item = await self._outbox.claim(queued.id)
        if item is None:
            # gone, or held (a reply waiting for the card it answers): nothing was sent,
            # so it must not cost the chat a slot
            self._not_sent(queued, launched_at)
            return
        if item.kind != OutboundKind.SEND and item.message_id is None:
            # A card edit whose first send has not gone through yet.
            later = self._clock.now() + timedelta(seconds=_CARD_NOT_POSTED_YET)
            await self._outbox.release(item.id, not_before=later)
            self._not_sent(queued, launched_at)
            return
        try:
            message_id = await self._call(item)
        except RetryAfter as exc:
            await self._on_retry_after(item, retry_after_seconds(exc))
        except BadRequest as exc:
            await self._on_bad_request(item, exc)
        except (Forbidden, InvalidToken) as exc:
            await self._dead(item, f"{type(exc).__name__}: {exc.message}")
        except (NetworkError, TelegramError) as exc:
            await self._backoff(item, f"{type(exc).__name__}: {exc.message}")
        except Exception as exc:  # a bug here must not kill the worker or lose the item
            log.exception("delivery_crashed", outbox_id=item.id)
            await self._backoff(item, f"{type(exc).__name__}: {exc}")
        else:
            await self._outbox.mark_sent(item.id, message_id=message_id, at=self._clock.now())
            self._metrics.delivered(item.kind.value, "ok")

    async def _call(self, item: OutboundMessage) -> int | None:
        if item.kind == OutboundKind.DELETE:
            assert item.message_id is not None
            await self._bot.delete_message(chat_id=item.chat_id, message_id=item.message_id)
            return item.message_id
        text, markup = item.text, to_markup(item.keyboard)
        if item.digest_lines is not None:
            # a storm digest: storage hands over its lines as of now; rendering is ours
            content = self._render_digest(item.digest_lines)
            text, markup = content.text, to_markup(content.keyboard)
        if item.kind == OutboundKind.EDIT:
            assert item.message_id is not None
            result = await self._bot.edit_message_text(
                chat_id=item.chat_id,
                message_id=item.message_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            return result.message_id if isinstance(result, Message) else item.message_id
        reply = (
            ReplyParameters(message_id=item.reply_to_message_id, allow_sending_without_reply=True)
            if item.reply_to_message_id
            else None
        )
        sent = await self._bot.send_message(
            chat_id=item.chat_id,
            text=text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            reply_parameters=reply,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        return sent.message_id

    async def _on_retry_after(self, item: OutboundMessage, seconds: float) -> None:
        now = self._mono()
        self._budget(item.chat_id).block_until(now + seconds, now)
        later = self._clock.now() + timedelta(seconds=seconds)
        # Not the item's fault: give it back without counting an attempt.
        await self._outbox.release(item.id, not_before=later)
        self._metrics.delivered(item.kind.value, "retry_after")
        log.warning("telegram_retry_after", chat_id=item.chat_id, seconds=seconds)

    async def _on_bad_request(self, item: OutboundMessage, exc: BadRequest) -> None:
        text = exc.message.lower()
        if "message is not modified" in text:
            await self._outbox.mark_sent(item.id, message_id=item.message_id, at=self._clock.now())
            self._metrics.delivered(item.kind.value, "not_modified")
        elif item.card_key and item.kind == OutboundKind.EDIT and "not found" in text:
            # Someone deleted the card's message: post the card again.
            await self._outbox.repost_card(item.id)
            log.info("card_reposted", card=item.card_key)
        else:
            await self._dead(item, f"BadRequest: {exc.message}")

    async def _backoff(self, item: OutboundMessage, error: str) -> None:
        delay = min(2.0 ** min(item.attempts, 10), self._max_backoff)
        await self._outbox.mark_retry(
            item.id, not_before=self._clock.now() + timedelta(seconds=delay), error=error
        )
        self._metrics.delivered(item.kind.value, "retry")
        log.warning(
            "delivery_retry",
            outbox_id=item.id,
            attempt=item.attempts + 1,
            delay_s=delay,
            error=error,
        )

    async def _dead(self, item: OutboundMessage, error: str) -> None:
        await self._outbox.mark_dead(item.id, error=error)
        self._metrics.delivered(item.kind.value, "dead")
        log.error("delivery_failed", outbox_id=item.id, chat_id=item.chat_id, error=error)
