"""Alert intake: Alertmanager, Grafana and generic webhooks, answered by a lean ASGI front.

Order of checks, cheapest first: the token (before reading a byte of the body),
the size (declared, then counted while streaming), JSON, the payload's shape.
A 2xx is sent only after the alerts are committed, so a sender that sees
anything else retries, and the retry is deduplicated.

The intake routes are the one hot path: an Alertmanager in a storm posts
thousands of times a second. They are served by `IntakeFront` before FastAPI's
request machinery (middleware, dependency solving, response classes), which
cost most of a post's CPU in `make bench`; every other path goes on to FastAPI.
The routes' OpenAPI entries are written by `openapi_paths` for the same reason.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.http.errors import one_line
from bot.http.json_body import decode_json
from bot.services import Services
from core.alerting.models import Actor, Alert
from core.alerting.payloads import (
    AlertmanagerWebhook,
    GenericAlert,
    GrafanaWebhook,
    parse_alertmanager,
    parse_generic,
    parse_grafana,
)
from core.errors import PayloadError

log = structlog.get_logger(__name__)

MAX_BODY = 1024 * 1024
HTTP_ACTOR = Actor(id="http", name="webhook")


@dataclass(frozen=True)
class Sender:
    """One intake route: who posts to it, how its body is read, how it is documented."""

    source: str
    parse: Callable[..., list[Alert]]
    model: type[Any]
    summary: str


SENDERS: dict[str, Sender] = {
    "/alerts/alertmanager": Sender(
        "alertmanager", parse_alertmanager, AlertmanagerWebhook,
        "Alertmanager webhook (version 4)",
    ),
    "/alerts/grafana": Sender(
        "grafana", parse_grafana, GrafanaWebhook, "Grafana unified-alerting webhook",
    ),
    "/alerts": Sender(
        "generic", parse_generic, GenericAlert,
        "Generic alert: title, severity, labels, annotations, source, fingerprint?",
    ),
}  # fmt: skip


class _Refused(Exception):
    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        self.status, self.detail, self.headers = status, detail, dict(headers or {})


class _Disconnected(Exception):
    """The sender went away before its body was read: there is nobody to answer."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _check_token(scope: Scope, expected: str) -> None:
    if not expected:
        return
    scheme, _, given = (_header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        raise _Refused(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise _Refused(413, f"body over {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise _Refused(413, f"body over {MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(
    send: Send, status: int, body: Any, headers: Mapping[str, str] | None = None
) -> None:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    head += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": payload})


async def _refuse(
    send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> None:
    """The one error shape of every HTTP answer (bot/http/errors.py)."""
    await _answer(send, status, {"detail": one_line(detail)}, headers)


class IntakeFront:
    """ASGI app: POSTs to the intake routes are answered here, everything else by `app`."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self._services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sender = SENDERS.get(scope["path"]) if scope["type"] == "http" else None
        if sender is None:
            await self.app(scope, receive, send)
        elif scope["method"] != "POST":
            allowed = f"{scope['method']} is not allowed on {scope['path']}; use POST"
            await _refuse(send, 405, allowed, {"Allow": "POST"})
        else:
            try:
                await self._intake(scope, receive, send, sender)
            except _Disconnected:
                return
            except Exception:  # FastAPI's last-resort answer, which this path bypasses
                log.exception("intake_failed", source=sender.source)
                await _refuse(send, 500, "internal error; it is logged, please retry")

    async def _intake(self, scope: Scope, receive: Receive, send: Send, sender: Sender) -> None:
        services, source = self._services, sender.source
        try:
            _check_token(scope, services.settings.webhook_token.get_secret_value())
            body = await _read_body(scope, receive)
            alerts = sender.parse(decode_json(body), now=services.clock.now())
        except _Refused as refused:
            log.warning(
                "intake_refused", source=source, status=refused.status, detail=refused.detail
            )
            services.metrics.intake(source, str(refused.status))
            return await _refuse(send, refused.status, refused.detail, refused.headers)
        except PayloadError as exc:
            log.warning("intake_bad_payload", source=source, detail=str(exc))
            services.metrics.intake(source, "400")
            return await _refuse(send, 400, str(exc))
        try:
            result = await services.intake.submit(alerts, actor=HTTP_ACTOR)
        except Exception:  # any failure: the sender must hear "retry", not see a stack trace
            log.exception("intake_store_failed", source=source, alerts=len(alerts))
            services.metrics.intake(source, "503")
            return await _refuse(
                send,
                503,
                "could not store the alerts; nothing was kept, retry later",
                {"Retry-After": "5"},
            )
        # counted, not logged: a line per POST cost a tenth of the request (new incidents
        # and every refusal or failure still get their own line)
        services.metrics.intake(source, "200", alerts=result.accepted, new=result.new)
        await _answer(send, 200, {"accepted": result.accepted, "incidents": result.incidents})


_ANSWERS: dict[str, dict[str, Any]] = {
    "200": {
        "description": "stored: how many alerts were taken and the incidents they belong to",
        "content": {"application/json": {"example": {"accepted": 2, "incidents": [12]}}},
    },
    "400": {
        "description": "malformed JSON or payload; `detail` names the field, "
        "e.g. `alerts[0].labels: field required`"
    },
    "401": {"description": "missing or wrong bearer token (when HOWL_WEBHOOK_TOKEN is set)"},
    "413": {"description": "body over 1 MiB"},
    "503": {"description": "the database did not take the alerts; nothing was kept, retry"},
}


def openapi_paths() -> dict[str, Any]:
    """The intake routes' entries in /openapi.json (FastAPI does not see these routes)."""
    return {
        path: {
            "post": {
                "tags": ["intake"],
                "summary": sender.summary,
                "operationId": f"intake_{sender.source}",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": sender.model.model_json_schema()}},
                },
                "responses": _ANSWERS,
            }
        }
        for path, sender in SENDERS.items()
    }
