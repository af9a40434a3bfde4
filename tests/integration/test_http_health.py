"""Health, readiness, metrics, OpenAPI and the playground page over the real HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.http.app import build_http_app
from bot.playground.botapi import BotApiEmulator
from bot.playground.server import create_emulator_app
from bot.services import Services
from tests.conftest import sqlite_threads_settled
from tests.integration.services import migrated_services


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with migrated_services(tmp_path / "h.db") as services:
        yield services


def client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://howl")  # type: ignore[arg-type]


async def test_healthz_and_readyz(services: Services) -> None:
    async with client(build_http_app(services)) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        not_ready = await http.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json() == {
            "detail": "not ready (failing: poller)",
            "status": "not ready",
            "checks": {"database": True, "poller": False},
        }
        services.poller_running = lambda: True
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_readyz_503_when_the_database_is_gone(services: Services, tmp_path: Path) -> None:
    services.poller_running = lambda: True
    await services.engine.dispose()
    (tmp_path / "h.db").unlink()
    (tmp_path / "h.db").mkdir()  # the path is now a directory: SQLite cannot open it
    async with client(build_http_app(services)) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"] is False
    await services.engine.dispose()
    await sqlite_threads_settled()


async def test_metrics_are_prometheus_text(services: Services) -> None:
    services.metrics.update_seen("handled")
    async with client(build_http_app(services)) as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    body = answer.text
    assert 'howl_telegram_updates_total{outcome="handled"} 1.0' in body
    assert 'howl_outbox_items{status="pending"} 0.0' in body
    assert 'howl_build_info{version="0.1.0"} 1.0' in body
    assert "howl_uptime_seconds" in body
    assert 'howl_incidents{status="firing"} 0.0' in body
    assert 'howl_llm_calls{outcome="ok",provider="embedded"} 0.0' in body
    assert 'howl_llm_breaker_open{provider="embedded"} 0.0' in body
    assert 'howl_llm_cost_usd{period="today",provider="embedded"} 0.0' in body


async def test_openapi_lists_the_endpoints(services: Services) -> None:
    async with client(build_http_app(services)) as http:
        schema = (await http.get("/openapi.json")).json()
    assert {"/healthz", "/readyz", "/metrics"} <= set(schema["paths"])
    assert not any(path.startswith(("/tg", "/playground")) for path in schema["paths"])


async def test_playground_page_only_in_playground_mode(services: Services) -> None:
    async with client(build_http_app(services)) as http:
        assert (await http.get("/playground")).status_code == 404
    emulator = create_emulator_app(BotApiEmulator(token="1:t"))
    async with client(build_http_app(services, emulator=emulator)) as http:
        page = await http.get("/playground")
        assert page.status_code == 200 and "Howl playground" in page.text
        config = (await http.get("/playground/config")).json()
        assert config["chat_id"] == services.alert_chat_id
        assert (await http.get("/tg/_emu/state")).json()["bot"]["username"] == "howl_bot"
