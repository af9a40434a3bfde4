"""/help, /start, setMyCommands and the answers to what no command handles: only what works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, Message

from bot.app import build_application, build_services
from bot.handlers.catalog import CATALOG
from bot.handlers.chat import addressed_to_bot, command_of
from bot.handlers.commands import registered_commands
from bot.render.status import (
    render_capabilities,
    render_help,
    render_start,
    render_unknown_command,
)
from core.config import load_settings
from storage.db import create_engine

BOT_ID, BOT = 7000001, "howl_bot"


@pytest.fixture
def built(tmp_path: Path) -> Iterator[set[str]]:
    """The commands the real application registers (nothing is started or connected)."""
    settings = load_settings(
        _env_file=None, HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    )
    engine = create_engine(settings.database_url)
    services = build_services(settings, engine, mode="playground", buttons_key=b"k" * 32)
    application = build_application(services, token="1:t", base_url="http://127.0.0.1:9/bot")
    yield registered_commands(application)


def test_the_catalog_is_exactly_the_registered_commands(built: set[str]) -> None:
    names = [c.name for c in CATALOG]
    assert len(names) == len(set(names))
    assert set(names) == built


def test_help_lists_only_what_is_registered(built: set[str]) -> None:
    text = render_help(built).text
    assert text.splitlines() == [
        "<b>Commands</b>",
        "/start — What Howl is and how to begin",
        "/help — Every command",
        "/status — Version, uptime, database, mode and counts",
        "/incidents — Open incidents",
        "/incident &lt;id&gt; — One incident in detail",
        "/ack &lt;id&gt; — Acknowledge an incident",
        "/resolve &lt;id&gt; — Resolve an incident",
        "/silence &lt;id&gt; &lt;30m|2h&gt; — Silence an incident for a while",
        "/debate &lt;id&gt; — Debate an incident afresh: a new decision package",
        "/runs — Recent runs and their states",
        "/runbooks — Runbooks and anti-patterns, with their status",
        "/runbook &lt;id&gt; — One runbook or anti-pattern, whole",
        "/drift — Scan for config drift now: what differs from Git",
        "/alert &lt;text&gt; — Open a manual incident",
    ]
    assert "coming soon" not in render_help({"start", "help"}).text
    assert render_help({"start", "help"}).text.count("\n") == 2


def _named_commands(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w&<])/([a-z_]+)", text))


@pytest.mark.parametrize("mode", ["telegram", "playground"])
def test_start_names_only_registered_commands(built: set[str], mode: str) -> None:
    text = render_start(mode=mode).text
    assert _named_commands(text) <= built
    assert "approver" not in text, "approving is not built: the start text does not offer it"


def test_the_capabilities_note_names_only_registered_commands(built: set[str]) -> None:
    text = render_capabilities(built, open_incidents=2).text
    assert _named_commands(text) <= built
    assert "Open incidents right now: <b>2</b> — /incidents lists them." in text
    assert "No open incidents right now." in render_capabilities(built, open_incidents=0).text
    assert "/incidents" not in render_capabilities({"help"}, open_incidents=0).text
    assert "don't answer plain messages" not in text and "ask me to act" in text


def test_an_unknown_command_is_pointed_to_help() -> None:
    assert render_unknown_command("deploy").text == (
        "I don't know /deploy. /help lists the commands I answer."
    )
    assert render_unknown_command("x" * 40).text.startswith(f"I don't know /{'x' * 32}…")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("/deploy", ("deploy", "")), ("/Help@Howl_Bot extra", ("help", "howl_bot")),
     ("/a@b@c", ("a", "b@c"))],
)  # fmt: skip
def test_command_of(text: str, expected: tuple[str, str]) -> None:
    assert command_of(text) == expected


def _message(text: str, *, chat_type: str = "supergroup", **extra: Any) -> Message:
    bot = Bot("1:t")
    data = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": -100 if chat_type != "private" else 42, "type": chat_type},
        "from": {"id": 42, "is_bot": False, "first_name": "Alice"},
        "text": text,
        **extra,
    }
    return Message.de_json(data, bot)


BOT_MESSAGE = {
    "message_id": 4,
    "date": 0,
    "chat": {"id": -100, "type": "supergroup"},
    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Howl"},
    "text": "card",
}
BOB_MESSAGE = {**BOT_MESSAGE, "from": {"id": 43, "is_bot": False, "first_name": "Bob"}}


@pytest.mark.parametrize(
    ("message", "addressed"),
    [
        (_message("hi", chat_type="private"), True),
        (_message("hello team"), False),
        (_message("@Howl_Bot status?", entities=[{"type": "mention", "offset": 0, "length": 9}]),
         True),
        (_message("@other_bot hi", entities=[{"type": "mention", "offset": 0, "length": 10}]),
         False),
        (_message("Howl, hi", entities=[{"type": "text_mention", "offset": 0, "length": 4,
                                          "user": {"id": BOT_ID, "is_bot": True,
                                                   "first_name": "Howl"}}]), True),
        (_message("thanks", reply_to_message=BOT_MESSAGE), True),
        (_message("thanks", reply_to_message=BOB_MESSAGE), False),
    ],
)  # fmt: skip
def test_what_counts_as_a_message_to_the_bot(message: Message, addressed: bool) -> None:
    assert addressed_to_bot(message, bot_id=BOT_ID, username=BOT) is addressed
