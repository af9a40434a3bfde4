"""Settings: every knob of the contract, read once by the composition root."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError

#: the chat the playground shows as the on-call group (a Telegram supergroup id)
PLAYGROUND_CHAT_ID = -1001000000001
#: the person typing in the playground page; an approver unless told otherwise
PLAYGROUND_USER_ID = 1001

IntList = Annotated[list[int], NoDecode]

#: settings that are accepted and validated but read by nothing yet (the work that
#: reads each removes it from here; README and .env.example say the same)
NOT_USED_YET: frozenset[str] = frozenset()


class Settings(BaseSettings):
    """The contract's settings; each field's alias is its environment variable."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
    )

    telegram_bot_token: SecretStr = Field(SecretStr(""), alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(
        "https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL"
    )
    alert_chat_id: int | None = Field(None, alias="HOWL_ALERT_CHAT_ID")
    allowed_chat_ids: IntList = Field(default_factory=list, alias="HOWL_ALLOWED_CHAT_IDS")
    approver_ids: IntList = Field(default_factory=list, alias="HOWL_APPROVER_IDS")
    database_url: str = Field("sqlite+aiosqlite:///./howl.db", alias="HOWL_DATABASE_URL")
    http_listen: str = Field("127.0.0.1:8088", alias="HOWL_HTTP_LISTEN")
    webhook_token: SecretStr = Field(SecretStr(""), alias="HOWL_WEBHOOK_TOKEN")
    llm_base_url: str = Field("", alias="HOWL_LLM_BASE_URL")
    llm_api_key: SecretStr = Field(SecretStr(""), alias="HOWL_LLM_API_KEY")
    llm_model: str = Field("nvidia/nemotron-mini-4b-instruct", alias="HOWL_LLM_MODEL")
    llm_local: bool = Field(True, alias="HOWL_LLM_LOCAL")
    prometheus_url: str = Field("", alias="HOWL_PROMETHEUS_URL")
    alertmanager_url: str = Field("", alias="HOWL_ALERTMANAGER_URL")
    config_path: Path | None = Field(None, alias="HOWL_CONFIG")
    debate_timeout_s: float = Field(260.0, gt=0, alias="HOWL_DEBATE_TIMEOUT_S")
    approval_ttl_s: int = Field(900, gt=0, alias="HOWL_APPROVAL_TTL_S")
    shadow: bool = Field(False, alias="HOWL_SHADOW")
    autopilot: Literal["off", "low"] = Field("off", alias="HOWL_AUTOPILOT")
    log_format: Literal["console", "json"] = Field("console", alias="HOWL_LOG_FORMAT")

    @field_validator("alert_chat_id", "config_path", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_chat_ids", "approver_ids", mode="before")
    @classmethod
    def _comma_separated_ints(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            return [part for part in parts if part]
        return value

    @field_validator("http_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("expected HOST:PORT, for example 127.0.0.1:8088")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected an async SQLAlchemy URL: sqlite+aiosqlite:///PATH "
                "or postgresql+asyncpg://USER@HOST/DB"
            )
        return value

    @field_validator("telegram_api_base_url", "llm_base_url", "prometheus_url", "alertmanager_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    # --- derived views -------------------------------------------------------------

    @property
    def playground(self) -> bool:
        """No token: Howl runs its own Bot API emulator and web chat."""
        return not self.telegram_bot_token.get_secret_value()

    @property
    def http_host(self) -> str:
        return self.http_listen.rpartition(":")[0].strip("[]")

    @property
    def http_port(self) -> int:
        return int(self.http_listen.rpartition(":")[2])

    @property
    def http_is_loopback(self) -> bool:
        return self.http_host in {"localhost", "::1"} or self.http_host.startswith("127.")

    def effective_alert_chat_id(self) -> int | None:
        """The on-call group; in the playground its emulated group by default."""
        if self.alert_chat_id is None and self.playground:
            return PLAYGROUND_CHAT_ID
        return self.alert_chat_id

    def effective_allowed_chat_ids(self) -> frozenset[int]:
        """Chats the bot answers in: the list, else the alert chat alone."""
        if self.allowed_chat_ids:
            return frozenset(self.allowed_chat_ids)
        chat = self.effective_alert_chat_id()
        return frozenset({chat} if chat is not None else ())

    def effective_approver_ids(self) -> frozenset[int]:
        if not self.approver_ids and self.playground:
            return frozenset({PLAYGROUND_USER_ID})
        return frozenset(self.approver_ids)

    def check_can_listen(self) -> None:
        """Refuse an unauthenticated intake reachable from other hosts."""
        if not self.http_is_loopback and not self.webhook_token.get_secret_value():
            raise ConfigError(
                f"HOWL_HTTP_LISTEN={self.http_listen} is not a loopback address: "
                "set HOWL_WEBHOOK_TOKEN so alert intake requires a bearer token"
            )

    def summary(self) -> dict[str, Any]:
        """What this process runs with, for its start-up log line.

        Secret settings show only whether they are set. URLs show as given: a
        password inside one (`https://user:pass@host`) is the log redactor's to hide.
        """
        return {
            "telegram": {
                "api_base_url": self.telegram_api_base_url,
                "token_set": bool(self.telegram_bot_token.get_secret_value()),
                "alert_chat_id": self.alert_chat_id,
                "allowed_chat_ids": self.allowed_chat_ids,
            },
            "http": {
                "listen": self.http_listen,
                "webhook_token_set": bool(self.webhook_token.get_secret_value()),
            },
            "database_url": self.database_url,
            "llm": {
                "base_url": self.llm_base_url,
                "model": self.llm_model,
                "api_key_set": bool(self.llm_api_key.get_secret_value()),
                "local": self.llm_local,
            },
            "prometheus_url": self.prometheus_url,
            "alertmanager_url": self.alertmanager_url,
            "debate_timeout_s": self.debate_timeout_s,
            "config": str(self.config_path) if self.config_path is not None else None,
            "shadow": self.shadow,
            "log_format": self.log_format,
        }

    def secret_values(self) -> list[str]:
        """The secrets this process was given: redacted wherever they might show."""
        return [
            self.telegram_bot_token.get_secret_value(),
            self.webhook_token.get_secret_value(),
            self.llm_api_key.get_secret_value(),
        ]

    def not_used_yet(self) -> dict[str, Any]:
        """Each setting in NOT_USED_YET given a value other than its default."""
        defaults = type(self).model_fields
        return {
            field.alias: getattr(self, name)
            for name, field in defaults.items()
            if field.alias in NOT_USED_YET
            and getattr(self, name) != field.get_default(call_default_factory=True)
        }

    def howl_config(self) -> dict[str, Any]:
        """The parsed HOWL_CONFIG TOML file, or an empty table when none is set."""
        if self.config_path is None:
            return {}
        try:
            with self.config_path.open("rb") as handle:
                return tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"HOWL_CONFIG: no such file {self.config_path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"HOWL_CONFIG: {self.config_path} is not valid TOML: {exc}") from None


def load_settings(**overrides: Any) -> Settings:
    """Read the environment and `.env`; a bad value becomes one ConfigError line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem, as `VARIABLE: what was expected (got 'value')`."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float) else ""
    if "SECRET" in name or "TOKEN" in name or "KEY" in name:
        shown = ""
    return f"bad setting {name}: {message}{shown}"
