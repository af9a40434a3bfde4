"""The Bot API emulator answers as Telegram does: shapes, errors and limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.playground.botapi import ApiError, BotApiEmulator

GROUP, ALICE = -100500, 7


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> BotApiEmulator:
    emulator = BotApiEmulator(token="1:t", clock=clock)
    emulator.add_user(ALICE, "Alice")
    emulator.add_chat(GROUP)
    emulator.add_chat(ALICE)
    return emulator


async def call(api: BotApiEmulator, method: str, **params: Any) -> Any:
    return (await api.call(method, params))["result"]


async def error(api: BotApiEmulator, method: str, **params: Any) -> ApiError:
    with pytest.raises(ApiError) as raised:
        await api.call(method, params)
    return raised.value


async def test_send_message_returns_a_telegram_message(api: BotApiEmulator) -> None:
    message = await call(
        api, "sendMessage", chat_id=str(GROUP), text="<b>hi</b>", parse_mode="HTML"
    )
    assert message["message_id"] == 1
    assert message["text"] == "hi"
    assert message["chat"] == {"id": GROUP, "type": "supergroup", "title": "On-call"}
    assert message["from"]["is_bot"] is True


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": ""}, "Bad Request: message text is empty"),
        ({"text": "x" * 4097}, "Bad Request: message is too long"),
        ({"text": "<foo>x</foo>", "parse_mode": "HTML"}, 'Unsupported start tag "foo"'),
        ({"text": "x", "chat_id": "-1"}, "Bad Request: chat not found"),
        (
            {
                "text": "x",
                "reply_markup": json.dumps(
                    {"inline_keyboard": [[{"text": "a", "callback_data": "x" * 65}]]}
                ),
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {"text": "x", "reply_markup": json.dumps({"inline_keyboard": [[{"text": "a"}]]})},
            "Text buttons are unallowed in the inline keyboard",
        ),
    ],
)
async def test_send_message_validation(
    api: BotApiEmulator, params: dict[str, Any], description: str
) -> None:
    failure = await error(api, "sendMessage", **{"chat_id": GROUP, **params})
    assert failure.code == 400
    assert description in failure.description
    assert api.bot_messages(GROUP) == []


async def test_edit_and_not_modified(api: BotApiEmulator) -> None:
    sent = await call(api, "sendMessage", chat_id=GROUP, text="a")
    edited = await call(
        api, "editMessageText", chat_id=GROUP, message_id=sent["message_id"], text="b"
    )
    assert edited["text"] == "b" and "edit_date" in edited
    same = await error(
        api, "editMessageText", chat_id=GROUP, message_id=sent["message_id"], text="b"
    )
    assert same.description.startswith("Bad Request: message is not modified")
    missing = await error(api, "editMessageText", chat_id=GROUP, message_id=99, text="b")
    assert missing.description == "Bad Request: message to edit not found"


async def test_unknown_method_is_404(api: BotApiEmulator) -> None:
    failure = await error(api, "sendPoll", chat_id=GROUP)
    assert (failure.code, failure.description) == (404, "Not Found")


async def test_group_flood_limit_answers_429_with_retry_after(
    api: BotApiEmulator, clock: Clock
) -> None:
    for n in range(20):
        await call(api, "sendMessage", chat_id=GROUP, text=f"m{n}")
        clock.now += 1
    flood = await error(api, "editMessageText", chat_id=GROUP, message_id=1, text="edits count too")
    assert flood.code == 429
    assert flood.parameters == {"retry_after": 40}  # the first send ages out at t+60
    assert api.stats.too_many_requests == 1
    clock.now += 40
    await call(api, "sendMessage", chat_id=GROUP, text="after the window")


async def test_thirty_a_second_overall_answers_429_past_it(
    api: BotApiEmulator, clock: Clock
) -> None:
    for chat in range(1, 32):
        api.add_chat(-200000 - chat)
    for chat in range(1, 31):  # 30 groups, one message each, in the same second
        await call(api, "sendMessage", chat_id=-200000 - chat, text="one each")
    flood = await error(api, "sendMessage", chat_id=-200031, text="the 31st")
    assert (flood.code, flood.parameters) == (429, {"retry_after": 1})
    assert [p.method for p in api.postings].count("sendMessage") == 30, "the 31st was not sent"
    clock.now += 1
    await call(api, "sendMessage", chat_id=-200031, text="a second later")


async def test_get_updates_offset_confirms_and_redelivery(api: BotApiEmulator) -> None:
    first = await api.user_sends(ALICE, ALICE, "/start")
    [update] = await call(api, "getUpdates", offset=0, timeout=0)
    assert update["update_id"] == first["update_id"]
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert await call(api, "getUpdates", offset=first["update_id"] + 1, timeout=0) == []
    again = await api.inject_update({"message": update["message"]}, update_id=first["update_id"])
    assert await call(api, "getUpdates", offset=first["update_id"] + 1, timeout=0) == [again]


async def test_callback_answers_once(api: BotApiEmulator) -> None:
    sent = await call(api, "sendMessage", chat_id=GROUP, text="card")
    query = await api.user_presses(GROUP, ALICE, sent["message_id"], "approve:1")
    assert await call(api, "answerCallbackQuery", callback_query_id=query, text="Approved")
    twice = await error(api, "answerCallbackQuery", callback_query_id=query)
    assert "query is too old" in twice.description
    assert api.notices(GROUP) == [
        {"callback_query_id": query, "text": "Approved", "show_alert": False}
    ]


async def test_set_my_commands_validates(api: BotApiEmulator) -> None:
    good = json.dumps([{"command": "status", "description": "Status"}])
    assert await call(api, "setMyCommands", commands=good)
    bad = json.dumps([{"command": "Status!", "description": "x"}])
    assert (
        await error(api, "setMyCommands", commands=bad)
    ).description == "Bad Request: BOT_COMMAND_INVALID"


async def test_a_user_message_carries_mentions_and_its_reply(api: BotApiEmulator) -> None:
    sent = await call(api, "sendMessage", chat_id=str(GROUP), text="card")
    update = await api.user_sends(
        GROUP, ALICE, "🔥 @howl_bot look, not @x", reply_to=sent["message_id"]
    )
    message = update["message"]
    # offsets in UTF-16 units: the emoji counts two; "@x" is too short to be a username
    assert message["entities"] == [{"type": "mention", "offset": 3, "length": 9}]
    assert message["reply_to_message"]["message_id"] == sent["message_id"]
    assert api.view(GROUP)[-1]["reply_to"] == sent["message_id"]
    with pytest.raises(ApiError, match="message to be replied not found"):
        await api.user_sends(GROUP, ALICE, "hi", reply_to=999)
