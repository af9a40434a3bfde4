"""Through the real `howl run`: a person who writes to the bot always gets an answer.

Unknown commands point to /help; a message to the bot (private chat, mention,
reply to the bot) says what the bot does; chatter not addressed to it and
commands for other bots get nothing; /help and setMyCommands list only
commands that work.
"""

from __future__ import annotations

from pathlib import Path

from bot.handlers.catalog import CATALOG
from tests.integration.conftest import ALICE, BOB, ONCALL, TelegramWorld
from tests.integration.howl_process import running_howl
from tests.servers.telegram import wait_for

CAPABILITIES = (
    "🐺 I post a card for every incident in the on-call group and keep it up to date.\n"
    "No open incidents right now.\n"
    "Commands: /status, /incidents, /incident, /ack, /resolve, /silence, /debate, /runs, "
    "/drift, /alert. /help explains each.\n"
    "I don't answer plain messages yet: please use a command."
)


async def answer_to(world: TelegramWorld, chat_id: int, message_id: int) -> str:
    [answer] = await wait_for(
        lambda: [m.text for m in world.emulator.bot_messages(chat_id) if m.reply_to == message_id],
        what=f"the answer to message {message_id}",
    )
    return answer


async def say(
    world: TelegramWorld, chat_id: int, user: int, text: str, reply_to: int | None = None
) -> int:
    sent = await world.emulator.user_sends(chat_id, user, text, reply_to=reply_to)
    return int(sent["message"]["message_id"])


async def test_every_person_gets_an_answer(tmp_path: Path, telegram: TelegramWorld) -> None:
    telegram.emulator.add_chat(ALICE, chat_type="private")
    settings = telegram.settings(HOWL_ALLOWED_CHAT_IDS=f"{ONCALL},{ALICE}")
    async with running_howl(tmp_path, **settings) as howl:
        unknown = await say(telegram, ONCALL, BOB, "/deploy api")
        assert await answer_to(telegram, ONCALL, unknown) == (
            "I don't know /deploy. /help lists the commands I answer."
        )
        shouted = await say(telegram, ONCALL, BOB, "/Deploy@howl_bot")
        assert await answer_to(telegram, ONCALL, shouted) == (
            "I don't know /deploy. /help lists the commands I answer."
        )

        help_id = await say(telegram, ONCALL, ALICE, "/help")
        listed = await answer_to(telegram, ONCALL, help_id)
        assert [line.split()[0] for line in listed.splitlines()[1:]] == [
            f"/{c.name}" for c in CATALOG
        ]
        assert "coming soon" not in listed

        mention = await say(telegram, ONCALL, BOB, "@howl_bot is anything on fire?")
        assert await answer_to(telegram, ONCALL, mention) == CAPABILITIES
        help_message = next(
            m.message_id for m in telegram.emulator.bot_messages(ONCALL) if m.reply_to == help_id
        )
        thanks = await say(telegram, ONCALL, BOB, "thanks", reply_to=help_message)
        assert await answer_to(telegram, ONCALL, thanks) == CAPABILITIES
        private = await say(telegram, ALICE, ALICE, "hi, what can you do?")
        assert await answer_to(telegram, ALICE, private) == CAPABILITIES

        # not for Howl: chatter, another bot's command; the next answer shows they were seen
        quiet = [
            await say(telegram, ONCALL, BOB, "lunch anyone?"),
            await say(telegram, ONCALL, BOB, "/deploy@other_bot"),
            await say(telegram, ONCALL, BOB, "ask @other_bot"),
        ]
        marker = await say(telegram, ONCALL, ALICE, "/status")
        await answer_to(telegram, ONCALL, marker)
        answered = {m.reply_to for m in telegram.emulator.bot_messages(ONCALL)}
        assert answered.isdisjoint(quiet)
        await howl.stop()
    assert [c["command"] for c in telegram.emulator.commands] == [c.name for c in CATALOG]
    assert "Traceback" not in howl.logs()
