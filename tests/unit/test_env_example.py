"""`.env.example` lists every setting with its real default."""

from __future__ import annotations

from pathlib import Path

from core.config import Settings

EXAMPLE = Path(__file__).parents[2] / ".env.example"


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
