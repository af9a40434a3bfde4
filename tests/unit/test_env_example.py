"""`.env.example` lists every setting with its real default, and says which are not used yet."""

from __future__ import annotations

from pathlib import Path

from core.config import NOT_USED_YET, Settings

EXAMPLE = Path(__file__).parents[2] / ".env.example"
README = Path(__file__).parents[2] / "README.md"


def _example() -> dict[str, str]:
    pairs = {}
    for line in EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def test_every_setting_is_listed() -> None:
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert set(_example()) == aliases


def test_listed_defaults_are_the_defaults() -> None:
    from_file = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_file.model_dump() == defaults.model_dump()


def _comment_above(lines: list[str], alias: str) -> str:
    """The comment lines right above `alias=`."""
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{alias}="))
    above: list[str] = []
    while index > 0 and lines[index - 1].startswith("#"):
        index -= 1
        above.insert(0, lines[index])
    return " ".join(above)


def test_settings_read_by_nothing_say_so() -> None:
    lines = EXAMPLE.read_text().splitlines()
    readme = README.read_text()
    for alias in sorted(NOT_USED_YET):
        assert "not used yet" in _comment_above(lines, alias), alias
        [row] = [line for line in readme.splitlines() if line.startswith(f"| `{alias}`")]
        assert "not used yet" in row, alias


def test_the_not_used_list_names_real_settings() -> None:
    assert {field.alias for field in Settings.model_fields.values()} >= NOT_USED_YET


def test_every_setting_is_read_now() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, HOWL_AUTOPILOT="low", HOWL_LOG_FORMAT="json", HOWL_APPROVER_IDS="5"
    )
    assert frozenset() == NOT_USED_YET
    assert settings.not_used_yet() == {}
    assert Settings(_env_file=None).not_used_yet() == {}  # type: ignore[call-arg]


def test_the_settings_summary_shows_secrets_only_as_set() -> None:
    secrets = {"TELEGRAM_BOT_TOKEN": "1:tok-abc", "HOWL_WEBHOOK_TOKEN": "wh-abc",
               "HOWL_LLM_API_KEY": "key-abc"}  # fmt: skip
    summary = Settings(_env_file=None, **secrets).summary()  # type: ignore[call-arg]
    assert not any(value in repr(summary) for value in secrets.values())
    assert summary["telegram"]["token_set"] and summary["http"]["webhook_token_set"]
    assert summary["llm"]["api_key_set"]
