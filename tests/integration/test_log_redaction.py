"""The running `howl run` logs secret-bearing nested structures with the secrets redacted.

At start the process logs the settings it runs with (`settings`, nested by
section, the Prometheus URL among them); every setting is read now, so there is
no `settings_not_used_yet` line.
URLs in them are shown as given, so a password inside one is the redactor's to
hide: without nested redaction these lines carry it, in both log formats.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import TelegramWorld
from tests.integration.howl_process import running_howl

PROMETHEUS_PASSWORD = "prom-pass-7c1e9a4b"
TELEGRAM_PASSWORD = "tg-proxy-pass-31f0"
PROMETHEUS = f"http://howl:{PROMETHEUS_PASSWORD}@127.0.0.1:9/"


def _settings(telegram: TelegramWorld, fmt: str) -> dict[str, str]:
    # a Bot API behind a proxy that wants basic auth: the emulator ignores it
    base = telegram.base_url.replace("http://", f"http://howl:{TELEGRAM_PASSWORD}@")
    return telegram.settings(
        HOWL_LOG_FORMAT=fmt,
        HOWL_PROMETHEUS_URL=PROMETHEUS,
        TELEGRAM_API_BASE_URL=f"{base}/bot",
        HOWL_WEBHOOK_TOKEN="webhook-secret-value-456",
    )


@pytest.mark.parametrize("fmt", ["json", "console"])
async def test_nested_secrets_are_redacted_in_the_running_process(
    tmp_path: Path, telegram: TelegramWorld, fmt: str
) -> None:
    settings = _settings(telegram, fmt)
    async with running_howl(tmp_path, **settings) as howl:
        await howl.stop()
    logs = howl.logs()
    for secret in (PROMETHEUS_PASSWORD, TELEGRAM_PASSWORD, "webhook-secret-value-456",
                   settings["TELEGRAM_BOT_TOKEN"]):  # fmt: skip
        assert secret not in logs
    redacted_proxy = telegram.base_url.replace("http://", "http://howl:[REDACTED]@") + "/bot"
    if fmt == "json":
        lines = {line["event"]: line for line in map(json.loads, logs.splitlines())}
        assert "settings_not_used_yet" not in lines
        assert lines["settings"]["prometheus_url"] == "http://howl:[REDACTED]@127.0.0.1:9/"
        assert lines["settings"]["telegram"]["api_base_url"] == redacted_proxy
        assert lines["settings"]["http"]["webhook_token_set"] is True
    else:
        assert "settings_not_used_yet" not in logs
        assert "http://howl:[REDACTED]@127.0.0.1:9/" in logs
        assert f"'api_base_url': '{redacted_proxy}'" in logs
