"""An in-memory Telegram Bot API: the methods Howl uses, Telegram's shapes, limits and errors.

The real bot talks to it over HTTP exactly as it talks to api.telegram.org (see
`bot.playground.server`); people (the playground page) and tests act on it
through the `user_*` methods, as Telegram users would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.playground.telegram_html import EntityParseError, parse_html, utf16_length
from bot.telegram_limits import GLOBAL, SlidingBudget, chat_window

JSON = dict[str, Any]
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
#: methods that post or change a message and so count against Telegram's limits
LIMITED_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description, optional parameters."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class StoredMessage:
    """A message as the chat shows it; `html` is kept for the playground page."""

    message_id: int
    chat: JSON
    sender: JSON
    date: int
    text: str
    html: str
    reply_markup: JSON | None = None
    edit_date: int | None = None
    deleted: bool = False
    reply_to: int | None = None

    def to_api(self) -> JSON:
        body: JSON = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
            "text": self.text,
        }
        if self.reply_markup:
            body["reply_markup"] = self.reply_markup
        if self.edit_date:
            body["edit_date"] = self.edit_date
        return body

    def to_view(self) -> JSON:
        return {
            "message_id": self.message_id,
            "from": self.sender,
            "date": self.date,
            "text": self.text,
            "html": self.html,
            "reply_markup": self.reply_markup,
            "edited": self.edit_date is not None,
            "deleted": self.deleted,
            "reply_to": self.reply_to,
        }


@dataclass
class ChatState:
    chat: JSON
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    notices: list[JSON] = field(default_factory=list)


@dataclass(frozen=True)
class Posting:
    """One text the bot put in a chat: a new message or an edit of one (for tests to
    check what people were notified of: Telegram notifies nobody of an edit)."""

    method: str
    chat_id: int
    message_id: int
    at: float
    text: str


@dataclass
class Stats:
    calls: dict[str, int] = field(default_factory=dict)
    too_many_requests: int = 0
    errors: int = 0


class BotApiEmulator:
    """One bot, its chats and users, its update queue, and Telegram's rules."""

    def __init__(
        self,
        *,
        token: str,
        bot_username: str = "howl_bot",
        enforce_limits: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.bot: JSON = {
            "id": int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 7000001,
            "is_bot": True,
            "first_name": "Howl",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.enforce_limits = enforce_limits
        self.clock = clock
        self.chats: dict[int, ChatState] = {}
        self.users: dict[int, JSON] = {}
        self.commands: list[JSON] = []
        self.stats = Stats()
        #: every sendMessage and editMessageText that went through, in order
        self.postings: list[Posting] = []
        #: methods answering 500 while an outage is simulated ("*" = all but getUpdates)
        self.outage: set[str] = set()
        self._updates: list[JSON] = []
        self._sent: set[int] = set()
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._callbacks: dict[str, JSON] = {}
        self._changed = asyncio.Condition()
        self._version = 0
        self._closing = False
        self._global = SlidingBudget(GLOBAL)
        self._per_chat: dict[int, SlidingBudget] = {}

    # --- the world ---------------------------------------------------------------

    def add_chat(self, chat_id: int, *, title: str = "", chat_type: str | None = None) -> JSON:
        kind = chat_type or ("supergroup" if chat_id < 0 else "private")
        chat: JSON = {"id": chat_id, "type": kind}
        if kind == "private":
            user = self.users.get(chat_id, {})
            chat["first_name"] = user.get("first_name", title or "User")
        else:
            chat["title"] = title or "On-call"
        self.chats[chat_id] = ChatState(chat=chat)
        return chat

    def add_user(self, user_id: int, first_name: str, *, username: str | None = None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        self.users[user_id] = user
        return user

    def _chat(self, chat_id: Any) -> ChatState:
        try:
            state = self.chats.get(int(chat_id))
        except (TypeError, ValueError):
            state = None
        if state is None:
            raise bad_request("chat not found")
        return state

    @property
    def version(self) -> int:
        return self._version

    async def _bump(self) -> None:
        async with self._changed:
            self._version += 1
            self._changed.notify_all()

    async def close(self) -> None:
        """Release every long poll (the server is stopping)."""
        async with self._changed:
            self._closing = True
            self._changed.notify_all()

    async def wait_changed(self, after_version: int, wait_s: float) -> int:
        """Block until something changed since `after_version` (or `wait_s` passed)."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._closing or self._version > after_version),
                    wait_s,
                )
            return self._version

    # --- what users do -------------------------------------------------------------

    async def user_sends(
        self, chat_id: int, user_id: int, text: str, *, reply_to: int | None = None
    ) -> JSON:
        """A user writes in a chat (in reply to `reply_to`, if given): the message shows and
        the bot gets an update, with the entities Telegram would mark (command, @mentions)."""
        state, user = self._chat(chat_id), self.users[user_id]
        replied = state.messages.get(reply_to) if reply_to is not None else None
        if reply_to is not None and (replied is None or replied.deleted):
            raise bad_request("message to be replied not found")
        message = self._store(state, sender=user, text=text, html=None)
        message.reply_to = reply_to
        api = message.to_api()
        entities = _mentions(text)
        if text.startswith("/"):
            command = text.split()[0]
            entities.insert(
                0, {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            )
        if entities:
            api["entities"] = entities
        if replied is not None:
            api["reply_to_message"] = replied.to_api()
        update = await self.inject_update({"message": api})
        await self._bump()
        return update

    async def user_presses(self, chat_id: int, user_id: int, message_id: int, data: str) -> str:
        """A user presses an inline button; returns the callback query id."""
        state = self._chat(chat_id)
        message = state.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message not found")
        query_id = str(next(self._callback_ids))
        self._callbacks[query_id] = {"chat_id": chat_id, "answered": False, "at": self.clock()}
        await self.inject_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.users[user_id],
                    "message": message.to_api(),
                    "chat_instance": str(chat_id),
                    "data": data,
                }
            }
        )
        return query_id

    async def inject_update(self, body: JSON, *, update_id: int | None = None) -> JSON:
        """Queue an update; an explicit `update_id` re-delivers one seen before."""
        update = {"update_id": update_id if update_id is not None else next(self._update_ids)}
        update.update(body)
        async with self._changed:
            self._updates.append(update)
            self._version += 1
            self._changed.notify_all()
        return update

    def force_retry_after(self, chat_id: int, seconds: int) -> None:
        """Make Telegram flood-limit this chat for `seconds` (as after a burst elsewhere)."""
        now = self.clock()
        budget = self._per_chat.setdefault(chat_id, SlidingBudget(chat_window(chat_id)))
        budget.block_until(now + seconds, now)

    def callback_answer(self, query_id: str) -> JSON | None:
        return self._callbacks.get(query_id)

    def view(self, chat_id: int) -> list[JSON]:
        return [m.to_view() for m in self._chat(chat_id).messages.values()]

    def notices(self, chat_id: int) -> list[JSON]:
        return list(self._chat(chat_id).notices)

    def bot_messages(self, chat_id: int) -> list[StoredMessage]:
        return [
            m
            for m in self._chat(chat_id).messages.values()
            if m.sender.get("id") == self.bot["id"] and not m.deleted
        ]

    # --- the Bot API ----------------------------------------------------------------

    async def call(self, method: str, params: JSON) -> JSON:
        """Answer one Bot API call with Telegram's JSON; errors come back as ApiError."""
        self.stats.calls[method] = self.stats.calls.get(method, 0) + 1
        handler = getattr(self, f"_m_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            if method != "getUpdates" and (method in self.outage or "*" in self.outage):
                raise ApiError(500, "Internal Server Error")
            if method in LIMITED_METHODS:
                self._check_limits(params.get("chat_id"))
            result = await handler(params)
        except ApiError as exc:
            if exc.code == 429:
                self.stats.too_many_requests += 1
            else:
                self.stats.errors += 1
            raise
        return {"ok": True, "result": result}

    def _check_limits(self, chat_id: Any) -> None:
        if not self.enforce_limits:
            return
        now = self.clock()
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            return
        per_chat = self._per_chat.setdefault(chat, SlidingBudget(chat_window(chat)))
        wait = max(self._global.wait(now), per_chat.wait(now))
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        self._global.record(now)
        per_chat.record(now)

    async def _m_getMe(self, _params: JSON) -> JSON:
        return self.bot

    async def _m_logOut(self, _params: JSON) -> bool:
        return True

    async def _m_close(self, _params: JSON) -> bool:
        return True

    async def _m_deleteWebhook(self, _params: JSON) -> bool:
        return True

    async def _m_getWebhookInfo(self, _params: JSON) -> JSON:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _m_setMyCommands(self, params: JSON) -> bool:
        commands = _json_param(params, "commands", [])
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 items")
        for command in commands:
            name = str(command.get("command", ""))
            described = str(command.get("description", ""))
            if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(described) <= 256:
                raise bad_request("command description must be 1-256 characters")
        self.commands = commands
        return True

    async def _m_getMyCommands(self, _params: JSON) -> list[JSON]:
        return self.commands

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(float(params.get("timeout") or 0), 50.0)
        async with self._changed:
            # An offset confirms what was delivered below it; an update injected
            # again with an old id (a re-delivery) is still owed once.
            self._updates = [
                u for u in self._updates if u["update_id"] >= offset or id(u) not in self._sent
            ]
            self._sent &= {id(u) for u in self._updates}
            if not self._updates and timeout > 0:
                try:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: self._closing or bool(self._updates)),
                        timeout,
                    )
                except TimeoutError:
                    return []
            batch = self._updates[:limit]
            self._sent.update(id(u) for u in batch)
            return [dict(u) for u in batch]

    async def _m_sendMessage(self, params: JSON) -> JSON:
        state = self._chat(params.get("chat_id"))
        source, plain = _checked_text(params)
        markup = _checked_markup(params)
        reply_to = _reply_to(params)
        if reply_to is not None and reply_to not in state.messages:
            raise bad_request("message to be replied not found")
        message = self._store(state, sender=self.bot, text=plain, html=source, markup=markup)
        message.reply_to = reply_to
        self._posted("sendMessage", message)
        await self._bump()
        return message.to_api()

    async def _m_editMessageText(self, params: JSON) -> JSON:
        message = self._editable(params, "message to edit not found")
        source, plain = _checked_text(params)
        markup = _checked_markup(params)
        if source == message.html and markup == message.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.html, message.text, message.reply_markup = source, plain, markup
        message.edit_date = int(time.time())
        self._posted("editMessageText", message)
        await self._bump()
        return message.to_api()

    def _posted(self, method: str, message: StoredMessage) -> None:
        chat_id = int(message.chat["id"])
        self.postings.append(
            Posting(method, chat_id, message.message_id, self.clock(), message.text)
        )

    async def _m_editMessageReplyMarkup(self, params: JSON) -> JSON:
        message = self._editable(params, "message to edit not found")
        markup = _checked_markup(params)
        if markup == message.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.reply_markup = markup
        message.edit_date = int(time.time())
        await self._bump()
        return message.to_api()

    async def _m_deleteMessage(self, params: JSON) -> bool:
        message = self._editable(params, "message to delete not found")
        message.deleted = True
        await self._bump()
        return True

    async def _m_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        record = self._callbacks.get(query_id)
        if record is None or record["answered"]:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = str(params.get("text") or "")
        if utf16_length(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        show_alert = str(params.get("show_alert", "")).lower() in {"true", "1"}
        record.update(answered=True, text=text, show_alert=show_alert)
        if text:
            self.chats[record["chat_id"]].notices.append(
                {"callback_query_id": query_id, "text": text, "show_alert": show_alert}
            )
        await self._bump()
        return True

    # --- helpers ----------------------------------------------------------------------

    def _store(
        self,
        state: ChatState,
        *,
        sender: JSON,
        text: str,
        html: str | None,
        markup: JSON | None = None,
    ) -> StoredMessage:
        message = StoredMessage(
            message_id=state.next_message_id,
            chat=state.chat,
            sender=sender,
            date=int(time.time()),
            text=text,
            html=html if html is not None else _escape(text),
            reply_markup=markup,
        )
        state.messages[message.message_id] = message
        state.next_message_id += 1
        return message

    def _editable(self, params: JSON, missing: str) -> StoredMessage:
        state = self._chat(params.get("chat_id"))
        try:
            message = state.messages.get(int(params.get("message_id") or 0))
        except (TypeError, ValueError):
            message = None
        if message is None or message.deleted:
            raise bad_request(missing)
        if message.sender.get("id") != self.bot["id"]:
            raise bad_request("message can't be edited")
        return message


_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}\b")


def _mentions(text: str) -> list[JSON]:
    """`mention` entities for each @username, offsets in UTF-16 units as Telegram counts."""
    return [
        {
            "type": "mention",
            "offset": utf16_length(text[: found.start()]),
            "length": utf16_length(found.group()),
        }
        for found in _MENTION.finditer(text)
    ]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json_param(params: JSON, name: str, default: Any) -> Any:
    value = params.get(name, default)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(f"can't parse {name} JSON object") from None
    return value


def _reply_to(params: JSON) -> int | None:
    reply = _json_param(params, "reply_parameters", None)
    if isinstance(reply, dict) and reply.get("message_id") is not None:
        return int(reply["message_id"])
    if params.get("reply_to_message_id") is not None:
        return int(params["reply_to_message_id"])
    return None


def _checked_text(params: JSON) -> tuple[str, str]:
    source = str(params.get("text") or "")
    if not source.strip():
        raise bad_request("message text is empty")
    mode = str(params.get("parse_mode") or "")
    try:
        plain = parse_html(source) if mode.upper() == "HTML" else source
    except EntityParseError as exc:
        raise ApiError(400, str(exc)) from None
    if mode and mode.upper() != "HTML":
        raise bad_request(f"unsupported parse_mode {mode!r} in this emulator")
    if not plain.strip():
        raise bad_request("message text is empty")
    if utf16_length(plain) > MAX_TEXT:
        raise bad_request("message is too long")
    return (source if mode else _escape(source)), plain


def _checked_markup(params: JSON) -> JSON | None:
    markup = _json_param(params, "reply_markup", None)
    if markup is None:
        return None
    if isinstance(markup, dict) and markup.get("force_reply") is True:
        # the client shows a reply box; the message itself carries no markup
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in rows:
        if not isinstance(row, list):
            raise bad_request("can't parse inline keyboard: rows must be arrays of buttons")
        for button in row:
            _check_button(button)
    return markup if rows else None


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text") or "").strip():
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    data, url = button.get("callback_data"), button.get("url")
    if data is None and url is None:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
        raise bad_request("BUTTON_DATA_INVALID")
    if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
        raise bad_request("BUTTON_URL_INVALID")
