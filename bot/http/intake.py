"""Alert intake: Alertmanager, Grafana and generic webhooks.

Order of checks, cheapest first: the token (before reading a byte of the body),
the size (declared, then counted while streaming), JSON, the payload's shape.
A 2xx is sent only after the alerts are committed, so a sender that sees
anything else retries, and the retry is deduplicated.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.http.deps import services_of
from bot.http.errors import error_response
from bot.http.json_body import decode_json
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

router = APIRouter(tags=["intake"])


class _Refused(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.detail, self.headers = status, detail, headers or {}


def _check_token(request: Request, expected: str) -> None:
    if not expected:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        raise _Refused(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise _Refused(413, f"body over {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _Refused(413, f"body over {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _intake(request: Request, parse: Callable[..., list[Alert]], source: str) -> JSONResponse:
    services = services_of(request)
    try:
        _check_token(request, services.settings.webhook_token.get_secret_value())
        body = await _read_body(request)
        alerts = parse(decode_json(body), now=services.clock.now())
    except _Refused as refused:
        log.warning("intake_refused", source=source, status=refused.status, detail=refused.detail)
        services.metrics.intake(source, str(refused.status))
        return error_response(refused.status, refused.detail, headers=refused.headers)
    except PayloadError as exc:
        log.warning("intake_bad_payload", source=source, detail=str(exc))
        services.metrics.intake(source, "400")
        return error_response(400, str(exc))
    try:
        result = await services.intake.submit(alerts, actor=HTTP_ACTOR)
    except Exception:  # any failure: the sender must hear "retry", not see a stack trace
        log.exception("intake_store_failed", source=source, alerts=len(alerts))
        services.metrics.intake(source, "503")
        return error_response(
            503,
            "could not store the alerts; nothing was kept, retry later",
            headers={"Retry-After": "5"},
        )
    # counted, not logged: a line per POST cost a tenth of the request (new incidents
    # and every refusal or failure still get their own line)
    services.metrics.intake(source, "200", alerts=result.accepted, new=result.new)
    return JSONResponse({"accepted": result.accepted, "incidents": result.incidents})


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "stored: how many alerts were taken and the incidents they belong to",
        "content": {"application/json": {"example": {"accepted": 2, "incidents": [12]}}},
    },
    400: {
        "description": "malformed JSON or payload; `detail` names the field, "
        "e.g. `alerts[0].labels: field required`"
    },
    401: {"description": "missing or wrong bearer token (when HOWL_WEBHOOK_TOKEN is set)"},
    413: {"description": "body over 1 MiB"},
    503: {"description": "the database did not take the alerts; nothing was kept, retry"},
}


def _body_schema(model: type[Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


#: path -> (source name, parser, body model, summary): one intake route each
SENDERS: dict[str, tuple[str, Callable[..., list[Alert]], type[Any], str]] = {
    "/alerts/alertmanager": (
        "alertmanager", parse_alertmanager, AlertmanagerWebhook,
        "Alertmanager webhook (version 4)",
    ),
    "/alerts/grafana": (
        "grafana", parse_grafana, GrafanaWebhook, "Grafana unified-alerting webhook",
    ),
    "/alerts": (
        "generic", parse_generic, GenericAlert,
        "Generic alert: title, severity, labels, annotations, source, fingerprint?",
    ),
}  # fmt: skip


def _endpoint(
    parse: Callable[..., list[Alert]], source: str
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        return await _intake(request, parse, source)

    endpoint.__name__ = f"intake_{source}"
    return endpoint


for _path, (_source, _parse, _model, _summary) in SENDERS.items():
    router.add_api_route(
        _path,
        _endpoint(_parse, _source),
        methods=["POST"],
        summary=_summary,
        responses=_ANSWERS,
        openapi_extra=_body_schema(_model),
    )
