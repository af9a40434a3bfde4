"""The httpx adapter for Alertmanager's silences: the body it sends, every failure as one error."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.alerting.alertmanager import AlertmanagerSilences, silence_body
from core.alerting.silences import Matcher, SilenceApiError, SilenceRequest
from tests.servers.telegram import free_port

START = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
REQUEST = SilenceRequest(
    matchers=(Matcher(name="alertname", value="Down"), Matcher(name="namespace", value="prod")),
    starts_at=START,
    ends_at=START + timedelta(hours=1),
    created_by="Alice",
    comment="Howl incident #3: Down",
)


def api(handler: Callable[[httpx.Request], httpx.Response]) -> AlertmanagerSilences:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AlertmanagerSilences("http://127.0.0.1:9093/", client=client)


def test_the_body_is_alertmanagers_v2_silence() -> None:
    assert silence_body(REQUEST) == {
        "matchers": [
            {"name": "alertname", "value": "Down", "isRegex": False, "isEqual": True},
            {"name": "namespace", "value": "prod", "isRegex": False, "isEqual": True},
        ],
        "startsAt": "2026-03-02T09:00:00.123Z",
        "endsAt": "2026-03-02T10:00:00.123Z",
        "createdBy": "Alice",
        "comment": "Howl incident #3: Down",
    }


async def test_create_posts_and_returns_the_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"silenceID": "abc-123"})

    assert await api(handler).create(REQUEST) == "abc-123"
    [request] = seen
    assert (request.method, str(request.url)) == ("POST", "http://127.0.0.1:9093/api/v2/silences")
    assert json.loads(request.content) == silence_body(REQUEST)


async def test_expire_deletes_and_a_gone_silence_counts_as_done() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.raw_path.decode()}")
        return httpx.Response(404 if "gone" in str(request.url) else 200)

    await api(handler).expire("abc-123")
    await api(handler).expire("gone/../x")
    assert seen == ["DELETE /api/v2/silence/abc-123", "DELETE /api/v2/silence/gone%2F..%2Fx"]


def test_link_is_the_web_ui_page() -> None:
    adapter = AlertmanagerSilences("http://127.0.0.1:9093/")
    assert adapter.link("abc") == "http://127.0.0.1:9093/#/silences/abc"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(400, text="bad matchers\n"), "Alertmanager answered 400: bad matchers"),
        (httpx.Response(500, text=""), "Alertmanager answered 500: "),
        (httpx.Response(200, text="not json"), "Alertmanager answered without a silence id"),
        (httpx.Response(200, json={"silenceID": 7}), "Alertmanager answered without a silence id"),
    ],
)
async def test_odd_answers_are_one_error(answer: httpx.Response, message: str) -> None:
    with pytest.raises(SilenceApiError) as raised:
        await api(lambda _request: answer).create(REQUEST)
    assert str(raised.value) == message


async def test_an_unreachable_alertmanager_is_one_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    adapter = AlertmanagerSilences(url)
    try:
        with pytest.raises(SilenceApiError) as raised:
            await adapter.create(REQUEST)
        assert str(raised.value) == f"Alertmanager at {url} is unreachable (ConnectError)"
        with pytest.raises(SilenceApiError):
            await adapter.expire("abc")
    finally:
        await adapter.aclose()
