"""Settings: defaults, parsing, and one-line errors naming the variable."""

from __future__ import annotations

import pytest

from core.config import PLAYGROUND_CHAT_ID, PLAYGROUND_USER_ID, Settings, load_settings
from core.errors import ConfigError


def settings(**env: str) -> Settings:
    return load_settings(_env_file=None, **env)


def test_defaults_are_the_playground() -> None:
    s = settings()
    assert s.playground
    assert s.effective_alert_chat_id() == PLAYGROUND_CHAT_ID
    assert s.effective_allowed_chat_ids() == {PLAYGROUND_CHAT_ID}
    assert s.effective_approver_ids() == {PLAYGROUND_USER_ID}
    assert (s.http_host, s.http_port) == ("127.0.0.1", 8088)


def test_lists_are_comma_separated() -> None:
    s = settings(
        TELEGRAM_BOT_TOKEN="1:x", HOWL_ALLOWED_CHAT_IDS="-100, -200,", HOWL_APPROVER_IDS="7"
    )
    assert s.effective_allowed_chat_ids() == {-100, -200}
    assert s.effective_approver_ids() == {7}


def test_with_a_token_nobody_approves_by_default() -> None:
    s = settings(TELEGRAM_BOT_TOKEN="1:x", HOWL_ALERT_CHAT_ID="-42")
    assert not s.playground
    assert s.effective_approver_ids() == frozenset()
    assert s.effective_allowed_chat_ids() == {-42}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"HOWL_ALERT_CHAT_ID": "abc"},
            "bad setting HOWL_ALERT_CHAT_ID: Input should be a valid integer",
        ),
        ({"HOWL_HTTP_LISTEN": "localhost"}, "bad setting HOWL_HTTP_LISTEN: expected HOST:PORT"),
        (
            {"HOWL_HTTP_LISTEN": "127.0.0.1:99999"},
            "bad setting HOWL_HTTP_LISTEN: expected HOST:PORT",
        ),
        ({"HOWL_LLM_BASE_URL": "ftp://x"}, "bad setting HOWL_LLM_BASE_URL: expected an http"),
        (
            {"HOWL_ALERTMANAGER_URL": "am:9093"},
            "bad setting HOWL_ALERTMANAGER_URL: expected an http",
        ),
        (
            {"HOWL_LOG_FORMAT": "xml"},
            "bad setting HOWL_LOG_FORMAT: Input should be 'console' or 'json'",
        ),
        ({"HOWL_SHADOW": "maybe"}, "bad setting HOWL_SHADOW: Input should be a valid boolean"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings(**env)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_secret_values_are_not_echoed() -> None:
    with pytest.raises(ConfigError) as raised:
        settings(HOWL_WEBHOOK_TOKEN="x", HOWL_APPROVAL_TTL_S="sekrit-ish")
    assert "HOWL_APPROVAL_TTL_S" in str(raised.value)


def test_public_listen_needs_a_webhook_token() -> None:
    with pytest.raises(ConfigError, match="set HOWL_WEBHOOK_TOKEN"):
        settings(HOWL_HTTP_LISTEN="0.0.0.0:8088").check_can_listen()
    settings(HOWL_HTTP_LISTEN="0.0.0.0:8088", HOWL_WEBHOOK_TOKEN="t").check_can_listen()
    settings(HOWL_HTTP_LISTEN="localhost:8088").check_can_listen()


def test_howl_config_toml(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "howl.toml"
    path.write_text('[[actions]]\nname = "x"\n')
    assert settings(HOWL_CONFIG=str(path)).howl_config() == {"actions": [{"name": "x"}]}
    path.write_text("[[actions]\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        settings(HOWL_CONFIG=str(path)).howl_config()
