"""What a person writes that no command handles: never left without an answer.

- An unknown command (`/deploy`) gets one line pointing to /help. A command
  addressed to another bot (`/start@otherbot`) is that bot's business.
- A message to the bot that is not a command — anything in a private chat, a
  mention of the bot in a group, or a reply to one of its messages — is read
  by the chat service (core/chat/service.py): a question is answered from the
  team's open incidents; a request to act becomes a decision card waiting for
  an approver, or a clear "I can't do that". A message without text (a
  sticker, a photo) gets the note of what the bot does.
- Group chatter not addressed to the bot is left alone.

Both handlers sit in their own group after the commands', so registration order
elsewhere does not matter: a known command is answered by its handler and
skipped here by name.
"""

from __future__ import annotations

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import Application, MessageHandler, filters

from bot.context import Context, services_of
from bot.handlers.commands import registered_commands
from bot.handlers.common import reply
from bot.handlers.incidents import actor_of
from bot.render.chat import render_chat_reply
from bot.render.status import render_capabilities, render_unknown_command
from bot.status import open_count

#: after group 0, where every command handler lives
GROUP = 1


def command_of(text: str) -> tuple[str, str]:
    """The command's name (lower case) and the bot it is addressed to, if any.

    >>> command_of("/Deploy@Howl_bot now")
    ('deploy', 'howl_bot')
    >>> command_of("/help")
    ('help', '')
    """
    word = text.split(maxsplit=1)[0].removeprefix("/")
    name, _, addressee = word.partition("@")
    return name.lower(), addressee.lower()


def addressed_to_bot(message: Message, *, bot_id: int, username: str) -> bool:
    """A private chat, a reply to one of the bot's messages, or a mention of it."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    mention = f"@{username}".lower()
    for entity, text in message.parse_entities().items():
        if entity.type == MessageEntity.MENTION and text.lower() == mention:
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return False


async def unknown_command(update: Update, context: Context) -> None:
    """Point an unknown command to /help."""
    message = update.effective_message
    if message is None or not message.text:
        return
    name, addressee = command_of(message.text)
    if addressee and addressee != (context.bot.username or "").lower():
        return
    if name in registered_commands(context.application):
        return
    await reply(update, context, render_unknown_command(name))


async def message_to_bot(update: Update, context: Context) -> None:
    """Answer a person who wrote to the bot in words: a question, or a request to act."""
    message = update.effective_message
    if message is None or not addressed_to_bot(
        message, bot_id=context.bot.id, username=context.bot.username or ""
    ):
        return
    services = services_of(context)
    text = message.text or message.caption or ""
    if not text.strip():
        open_incidents = open_count(await services.incidents.counts())
        built = registered_commands(context.application)
        await reply(update, context, render_capabilities(built, open_incidents=open_incidents))
        return
    answer = await services.chat.handle(text, asker=actor_of(update), update_id=update.update_id)
    rendered = render_chat_reply(
        answer, shadow=services.settings.shadow, has_alert_chat=services.alert_chat_id is not None
    )
    await reply(update, context, rendered)


def register(application: Application) -> None:  # type: ignore[type-arg]
    new_messages = filters.UpdateType.MESSAGE
    application.add_handler(
        MessageHandler(filters.COMMAND & new_messages, unknown_command), group=GROUP
    )
    application.add_handler(
        MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL & new_messages, message_to_bot),
        group=GROUP,
    )
