"""Alert intake and the incident read views over real HTTP, including every bad input.

A bad request must leave no trace: no alert, no incident, no card in the outbox.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import text

from bot.http.app import build_http_app
from bot.services import Services
from tests.conftest import sqlite_threads_settled
from tests.debate_store_scenarios import package
from tests.integration.services import migrated_services
from tests.run_scenarios import T0
from tests.servers.telegram import serve_asgi

TOKEN = "intake-token-0123456789"


def am_alert(name: str = "CheckoutDown", status: str = "firing", **labels: str) -> dict[str, Any]:
    labels = {"alertname": name, "namespace": "prod", "service": "checkout", **labels}
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"{name} on {labels['service']}"},
        "startsAt": "2026-11-23T08:00:00Z",
        "endsAt": "2026-11-23T08:05:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.local/graph",
        "fingerprint": f"fp-{name}-{labels.get('pod', 'x')}",
    }


def am_webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="CheckoutDown"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "howl",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.local",
        "alerts": list(alerts),
    }


def grafana_webhook() -> dict[str, Any]:
    return {
        "receiver": "howl",
        "status": "firing",
        "orgId": 1,
        "title": "[FIRING:1] HighLatency",
        "state": "alerting",
        "message": "p99 above 2s",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighLatency", "service": "search", "severity": "high"},
                "annotations": {"summary": "p99 latency 2.4s"},
                "startsAt": "2026-11-23T08:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://grafana.local/alerting/1",
                "fingerprint": "9a1b2c3d4e5f6071",
                "silenceURL": "http://grafana.local/silence",
                "values": {"A": 2.4},
            }
        ],
    }


GENERIC = {
    "title": "Backup failed",
    "severity": "P2",
    "labels": {"service": "backup", "namespace": "ops"},
    "annotations": {"summary": "nightly backup exited 1"},
    "source": "cron",
}


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with migrated_services(tmp_path / "h.db", HOWL_WEBHOOK_TOKEN=TOKEN) as services:
        yield services


@pytest.fixture
async def http(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serve_asgi(build_http_app(services)) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as client,
    ):
        yield client


async def stored(services: Services) -> dict[str, int]:
    """Rows written by intake: nothing of a refused request may show up here."""
    async with services.engine.connect() as conn:
        return {
            table: int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
            for table in ("alerts", "alert_states", "incidents", "audit_log")
        }


async def test_alertmanager_webhook_stores_alerts_and_opens_one_incident(
    http: httpx.AsyncClient, services: Services
) -> None:
    body = am_webhook(am_alert(pod="api-1"), am_alert(pod="api-2"))
    answer = await http.post("/alerts/alertmanager", json=body)
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 2, "incidents": [1]}
    assert await stored(services) == {
        "alerts": 2, "alert_states": 2, "incidents": 1, "audit_log": 1,
    }  # fmt: skip

    view = (await http.get("/api/incidents/1")).json()
    assert view["title"] == "CheckoutDown"
    assert view["status"] == "firing"
    assert view["labels"] == {
        "alertname": "CheckoutDown",
        "namespace": "prod",
        "service": "checkout",
    }
    assert (view["alert_count"], view["firing_count"]) == (2, 2)
    assert view["decision"] is None
    assert sorted(a["labels"]["pod"] for a in view["alerts"]) == ["api-1", "api-2"]


async def test_redelivery_creates_nothing_new(http: httpx.AsyncClient, services: Services) -> None:
    body = am_webhook(am_alert())
    first = await http.post("/alerts/alertmanager", json=body)
    before = await stored(services)
    again = await http.post("/alerts/alertmanager", json=body)
    assert first.json() == again.json() == {"accepted": 1, "incidents": [1]}
    assert await stored(services) == before


async def test_resolution_resolves_the_incident(
    http: httpx.AsyncClient, services: Services
) -> None:
    await http.post("/alerts/alertmanager", json=am_webhook(am_alert()))
    answer = await http.post("/alerts/alertmanager", json=am_webhook(am_alert(status="resolved")))
    assert answer.json() == {"accepted": 1, "incidents": [1]}
    view = (await http.get("/api/incidents/1")).json()
    assert view["status"] == "resolved"
    assert view["resolved_by"] == "Howl"
    assert (await http.get("/api/incidents")).json() == {"incidents": []}
    assert len((await http.get("/api/incidents?status=all")).json()["incidents"]) == 1


async def test_a_line_per_new_incident_not_per_post(
    http: httpx.AsyncClient, services: Services
) -> None:
    body = am_webhook(am_alert(pod="api-1"), am_alert(pod="api-2"))
    with structlog.testing.capture_logs() as first:
        await http.post("/alerts/alertmanager", json=body)
    with structlog.testing.capture_logs() as again:
        await http.post("/alerts/alertmanager", json=body)
        await http.post("/alerts/alertmanager", json=am_webhook(am_alert(pod="api-3")))

    assert [(e["event"], e["incident_id"], e["severity"]) for e in first] == [
        ("incident_opened", 1, "warning")
    ]
    assert again == [], "posts into known incidents are counted, not logged"
    metrics = services.metrics.render().decode()
    assert 'howl_intake_requests_total{source="alertmanager",status="200"} 3.0' in metrics
    assert 'howl_intake_alerts_total{kind="new",source="alertmanager"} 3.0' in metrics


async def test_grafana_webhook(http: httpx.AsyncClient) -> None:
    answer = await http.post("/alerts/grafana", json=grafana_webhook())
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 1, "incidents": [1]}
    view = (await http.get("/api/incidents/1")).json()
    assert (view["title"], view["severity"], view["source"]) == ("HighLatency", "high", "grafana")


async def test_generic_alert_and_its_repeat(http: httpx.AsyncClient, services: Services) -> None:
    first = await http.post("/alerts", json=GENERIC)
    assert first.json() == {"accepted": 1, "incidents": [1]}
    before = await stored(services)
    assert (await http.post("/alerts", json=GENERIC)).json() == {"accepted": 1, "incidents": [1]}
    assert await stored(services) == before
    view = (await http.get("/api/incidents/1")).json()
    assert (view["title"], view["severity"], view["source"]) == ("Backup failed", "high", "cron")
    resolved = await http.post("/alerts", json={**GENERIC, "status": "resolved"})
    assert resolved.status_code == 200
    assert (await http.get("/api/incidents/1")).json()["status"] == "resolved"


async def test_every_accepted_incident_gets_a_card_in_the_outbox(
    http: httpx.AsyncClient, services: Services
) -> None:
    await http.post("/alerts/alertmanager", json=am_webhook(am_alert()))
    await services.cards.flush()
    counts = await services.outbox.counts()
    assert counts["pending"] == 1
    [due] = await services.delivery.due(now=services.clock.now(), limit=10)
    assert due.card_key == "incident:1" and "CheckoutDown" in due.text


# --- bad input: exact answer, nothing stored -------------------------------------------


def raw(payload: object) -> bytes:
    return json.dumps(payload).encode()


AM = "/alerts/alertmanager"
BAD_JSON = "body: invalid JSON (Expecting property name enclosed in double quotes)"
NO_LABELS = {**am_alert("Third"), "labels": None}
NO_START = {k: v for k, v in am_alert().items() if k != "startsAt"}
INT_LABEL = {**am_alert(), "labels": {"alertname": "X", "replicas": 3}}
BURNING = {**am_alert(), "status": "burning"}


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        (AM, b"{not json", BAD_JSON),
        (AM, b"", "body: empty; expected a JSON object"),
        (AM, b"[1, 2]", "body: expected a JSON object, got array"),
        (AM, raw({"version": "4"}), "alerts: field required"),
        (AM, raw({**am_webhook(am_alert()), "version": "3"}), "version: input should be '4'"),
        (AM, raw(am_webhook(am_alert(), am_alert("Other"), NO_LABELS)),
         "alerts[2].labels: input should be a valid dictionary"),
        (AM, raw(am_webhook(NO_START)), "alerts[0].startsAt: field required"),
        (AM, raw(am_webhook(INT_LABEL)),
         "alerts[0].labels.replicas: input should be a valid string"),
        (AM, raw(am_webhook(BURNING)), "alerts[0].status: input should be 'firing' or 'resolved'"),
        ("/alerts/grafana", raw({"title": "x"}), "alerts: field required"),
        ("/alerts", raw({"severity": "high"}), "title: field required"),
        ("/alerts", raw({**GENERIC, "labels": ["a"]}),
         "labels: input should be a valid dictionary"),
    ],
)  # fmt: skip
async def test_bad_payloads_are_400_naming_the_field_and_store_nothing(
    http: httpx.AsyncClient, services: Services, path: str, body: bytes, detail: str
) -> None:
    answer = await http.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"detail": detail}
    assert await stored(services) == {
        "alerts": 0,
        "alert_states": 0,
        "incidents": 0,
        "audit_log": 0,
    }
    assert (await services.outbox.counts())["pending"] == 0


GENERIC_TEXT = json.dumps(GENERIC)
OUT_OF_RANGE = "body: a number is out of range (at most 64-bit integers and finite floats)"
TOO_DEEP = "body: nested deeper than 32 levels"


def deep(levels: int) -> bytes:
    return b'{"title": "x", "labels": ' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (deep(100_000), TOO_DEEP),  # json.loads alone: RecursionError, a 500
        (deep(40), TOO_DEEP),
        (b'{"title": ' + b"1" * 5000 + b"}", OUT_OF_RANGE),  # int() refuses 4300+ digits
        (b'{"title": "x", "labels": {}, "n": 9223372036854775808}', OUT_OF_RANGE),
        (b'{"title": "x", "n": 1e999}', OUT_OF_RANGE),
        (b'{"title": "x", "n": -Infinity}', "body: invalid JSON (-Infinity is not a JSON value)"),
        (b'{"title": NaN}', "body: invalid JSON (NaN is not a JSON value)"),
        (GENERIC_TEXT.encode("utf-16"), "body: invalid JSON (not UTF-8)"),
        (GENERIC_TEXT.encode("utf-32"), "body: invalid JSON (not UTF-8)"),
        (GENERIC_TEXT.replace("Backup", "Bäckup").encode("latin-1"),
         "body: invalid JSON (not UTF-8)"),
        (b'{"title": "\xed\xa0\x80"}', "body: invalid JSON (not UTF-8)"),  # a UTF-8 surrogate
        (b'{"title": "a\\u0000b", "labels": {}}', "title: contains a NUL character"),
        (b'{"title": "x", "labels": {"k\\u0000": "v"}}', "labels: a key contains a NUL character"),
        (b'{"title": "a\x00b"}', "body: invalid JSON (Invalid control character at)"),
        (b'{"title": "x", "annotations": {"s": "\\ud83d"}}',
         "annotations.s: contains a lone surrogate (not Unicode)"),
        (b'{"title": "x", "labels": {"\\udc00": "v"}}',
         "labels: a key contains a lone surrogate (not Unicode)"),
        (b"\x00\x00\x00", "body: invalid JSON (Expecting value)"),
        (b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--",
         "body: invalid JSON (Expecting value)"),
        (b'title=Backup+failed', "body: invalid JSON (Expecting value)"),
    ],
)  # fmt: skip
async def test_odd_bodies_are_400_with_the_reason_and_store_nothing(
    http: httpx.AsyncClient, services: Services, body: bytes, detail: str
) -> None:
    answer = await http.post("/alerts", content=body, headers={"Content-Type": "text/plain"})
    assert (answer.status_code, answer.json()) == (400, {"detail": detail})
    assert await stored(services) == {
        "alerts": 0, "alert_states": 0, "incidents": 0, "audit_log": 0,
    }  # fmt: skip


async def test_a_date_that_does_not_exist_in_utc_is_400(
    http: httpx.AsyncClient, services: Services
) -> None:
    early = {**am_alert(), "startsAt": "0001-01-01T00:00:00+05:00"}
    answer = await http.post(AM, json=am_webhook(early))
    assert (answer.status_code, answer.json()) == (
        400,
        {"detail": "alerts[0].startsAt: date out of range once converted to UTC"},
    )
    assert (await stored(services))["alerts"] == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/x-www-form-urlencoded", "text/plain", None],
)
async def test_json_is_json_whatever_the_content_type_says(
    http: httpx.AsyncClient, content_type: str | None
) -> None:
    # `curl -d` sends form-urlencoded; senders are judged by the body they send
    headers = {"Content-Type": content_type} if content_type else {}
    answer = await http.post("/alerts", content=GENERIC_TEXT.encode(), headers=headers)
    assert answer.json() == {"accepted": 1, "incidents": [1]}


async def test_a_utf8_byte_order_mark_is_ignored(http: httpx.AsyncClient) -> None:
    answer = await http.post("/alerts", content=b"\xef\xbb\xbf" + GENERIC_TEXT.encode())
    assert answer.json() == {"accepted": 1, "incidents": [1]}


async def test_an_echoed_field_name_stays_one_printable_line(http: httpx.AsyncClient) -> None:
    body = {**GENERIC, "labels": {"a\nb\u202e" + "k" * 500: 1}}
    answer = await http.post("/alerts", json=body)
    detail = answer.json()["detail"]
    assert answer.status_code == 400
    assert detail.startswith("labels.a\\u000ab\\u202ekkk") and detail.endswith("…")
    assert len(detail) == 300


async def test_one_bad_alert_refuses_the_whole_webhook(
    http: httpx.AsyncClient, services: Services
) -> None:
    good, bad = am_alert(pod="a"), {**am_alert(pod="b"), "labels": {}}
    answer = await http.post("/alerts/alertmanager", json=am_webhook(good, bad))
    assert answer.json() == {"detail": "alerts[1].labels: at least one label is required"}
    assert (await stored(services))["alerts"] == 0


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
async def test_missing_or_wrong_token_is_401(
    http: httpx.AsyncClient, services: Services, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(base_url=str(http.base_url), headers=headers) as anonymous:
        answer = await anonymous.post("/alerts/alertmanager", json=am_webhook(am_alert()))
    assert answer.status_code == 401
    assert answer.json() == {"detail": "missing or wrong bearer token"}
    assert answer.headers["www-authenticate"] == "Bearer"
    assert (await stored(services))["alerts"] == 0


async def _answer_before_the_body(http: httpx.AsyncClient, head: bytes, first: bytes) -> bytes:
    """Send `head` and `first`, then stall: only an answer that needs no more body arrives.

    A server that read the body before deciding would wait for the rest forever;
    the wait_for turns that into a failure instead of a hung test.
    """
    reader, writer = await asyncio.open_connection(http.base_url.host, http.base_url.port)
    try:
        writer.write(head + first)
        await writer.drain()
        status_and_headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        length = int(
            next(line for line in status_and_headers.split(b"\r\n")
                 if line.lower().startswith(b"content-length:")).split(b":")[1]
        )  # fmt: skip
        return status_and_headers + await asyncio.wait_for(reader.readexactly(length), timeout=10)
    finally:
        writer.close()


def _head(*, token: str, framing: str) -> bytes:
    return (
        "POST /alerts/alertmanager HTTP/1.1\r\nHost: howl\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


#: one 64 KiB chunk of a body that would go on past 1 MiB, sent with no declared size
_CHUNK = b'{"version": "4", "alerts": [' + b" " * (64 * 1024 - 29)


@pytest.mark.parametrize(
    ("framing", "first"),
    [
        (f"Content-Length: {2 * 1024 * 1024}", b""),
        ("Transfer-Encoding: chunked", b"%x\r\n%s\r\n" % (len(_CHUNK), _CHUNK)),
    ],
    ids=["declared-2MiB-nothing-sent", "chunked-64KiB-sent-then-stall"],
)
async def test_a_wrong_token_is_401_before_the_body_is_read(
    http: httpx.AsyncClient, services: Services, framing: str, first: bytes
) -> None:
    answer = await _answer_before_the_body(http, _head(token="wrong", framing=framing), first)
    assert answer.startswith(b"HTTP/1.1 401 ")
    assert answer.endswith(b'{"detail":"missing or wrong bearer token"}')
    assert await stored(services) == {
        "alerts": 0, "alert_states": 0, "incidents": 0, "audit_log": 0,
    }  # fmt: skip


async def test_a_declared_size_over_one_mib_is_413_before_the_body_is_read(
    http: httpx.AsyncClient,
) -> None:
    declared = _head(token=TOKEN, framing=f"Content-Length: {1024 * 1024 + 1}")
    answer = await _answer_before_the_body(http, declared, b"")
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b'{"detail":"body over 1048576 bytes"}')


async def test_body_over_one_mib_is_413(http: httpx.AsyncClient, services: Services) -> None:
    huge = am_webhook(
        *[am_alert(pod=f"p{i}") | {"annotations": {"d": "x" * 9000}} for i in range(120)]
    )
    body = json.dumps(huge).encode()
    assert len(body) > 1024 * 1024
    answer = await http.post("/alerts/alertmanager", content=body)
    assert answer.status_code == 413
    assert answer.json() == {"detail": "body over 1048576 bytes"}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    streamed = await http.post("/alerts/alertmanager", content=chunks())
    assert streamed.status_code == 413
    assert (await stored(services))["alerts"] == 0


async def test_database_failure_is_503_so_the_sender_retries(
    http: httpx.AsyncClient, services: Services, tmp_path: Path
) -> None:
    await services.engine.dispose()
    (tmp_path / "h.db").unlink()
    (tmp_path / "h.db").mkdir()  # the path is now a directory: SQLite cannot open it
    answer = await http.post("/alerts/alertmanager", json=am_webhook(am_alert()))
    assert answer.status_code == 503
    assert answer.json() == {"detail": "could not store the alerts; nothing was kept, retry later"}
    assert answer.headers["retry-after"] == "5"
    await services.engine.dispose()
    await sqlite_threads_settled()


async def test_an_unexpected_error_is_a_logged_500_line_and_nothing_is_kept(
    http: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake is answered in front of FastAPI, so it gives FastAPI's last-resort answer itself."""

    def broken_clock() -> datetime:
        raise RuntimeError("clock broke")

    monkeypatch.setattr(services.clock, "now", broken_clock)
    answer = await http.post("/alerts/alertmanager", json=am_webhook(am_alert()))
    assert (answer.status_code, answer.json()) == (
        500, {"detail": "internal error; it is logged, please retry"},
    )  # fmt: skip
    monkeypatch.undo()
    assert (await stored(services))["alerts"] == 0


async def test_read_views(http: httpx.AsyncClient) -> None:
    missing = await http.get("/api/incidents/999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No incident #999."}
    await http.post("/alerts/alertmanager", json=am_webhook(am_alert()))
    await http.post("/alerts/alertmanager", json=am_webhook(am_alert("DiskFull", service="db")))
    listed = (await http.get("/api/incidents")).json()["incidents"]
    assert [i["id"] for i in listed] == [2, 1]


async def test_an_incident_shows_its_latest_decision(
    http: httpx.AsyncClient, services: Services
) -> None:
    await http.post("/alerts/alertmanager", json=am_webhook(am_alert()))
    assert (await http.get("/api/incidents/1")).json()["decision"] is None
    first = await services.runs.create(1, "opened")
    await services.decisions.save(package(first.id, 1, summary="first debate"))
    shown = (await http.get("/api/incidents/1")).json()["decision"]
    assert shown == package(first.id, 1, summary="first debate").model_dump(mode="json")
    later = await services.runs.create(1, "escalated")
    newest = package(later.id, 1, created_at=T0 + timedelta(minutes=10), summary="second")
    await services.decisions.save(newest)
    shown = (await http.get("/api/incidents/1")).json()["decision"]
    assert (shown["run_id"], shown["summary"]) == (str(later.id), "second")
    assert shown["approval"] == {"state": "waiting", "by": [], "at": None, "reason": None}


async def test_openapi_describes_intake_and_read_views(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    for path in ("/alerts/alertmanager", "/alerts/grafana", "/alerts"):
        operation = schema["paths"][path]["post"]
        assert {"200", "400", "401", "413"} <= set(operation["responses"])
        assert "schema" in operation["requestBody"]["content"]["application/json"]
    assert "/api/incidents/{incident_id}" in schema["paths"]
    described = schema["paths"]["/api/incidents/{incident_id}"]["get"]["description"]
    assert "`decision` is the incident's latest decision package" in described


# --- every other error: the same one-line shape ----------------------------------------

MAX_ID_LINE = "incident_id: input should be less than or equal to 9223372036854775807"


@pytest.mark.parametrize(
    ("method", "path", "status", "detail"),
    [
        ("GET", "/api/incidents?status=bogus", 400,
         "status: string should match pattern '^(open|all)$'"),
        ("GET", "/api/incidents?limit=abc", 400,
         "limit: input should be a valid integer, unable to parse string as an integer"),
        ("GET", "/api/incidents?limit=0", 400, "limit: input should be greater than or equal to 1"),
        ("GET", "/api/incidents?limit=" + "9" * 40, 400,
         "limit: input should be less than or equal to 500"),
        ("GET", "/api/incidents/abc", 400,
         "incident_id: input should be a valid integer, unable to parse string as an integer"),
        ("GET", "/api/incidents/99999999999999999999", 400, MAX_ID_LINE),  # was a 500: overflow
        ("GET", "/api/incidents/0", 400, "incident_id: input should be greater than or equal to 1"),
        ("GET", "/api/incidents/", 404, "no such endpoint: /api/incidents/ (see /openapi.json)"),
        ("GET", "/nothing/here", 404, "no such endpoint: /nothing/here (see /openapi.json)"),
        ("DELETE", "/api/incidents/1", 405, "DELETE is not allowed on /api/incidents/1; use GET"),
        ("GET", "/alerts/alertmanager", 405,
         "GET is not allowed on /alerts/alertmanager; use POST"),
        ("PUT", "/healthz", 405, "PUT is not allowed on /healthz; use GET"),
    ],
)  # fmt: skip
async def test_every_error_is_one_readable_line(
    http: httpx.AsyncClient, services: Services, method: str, path: str, status: int, detail: str
) -> None:
    answer = await http.request(method, path)
    assert (answer.status_code, answer.json()) == (status, {"detail": detail})
    assert await stored(services) == {
        "alerts": 0, "alert_states": 0, "incidents": 0, "audit_log": 0,
    }  # fmt: skip
