"""The playground page: the on-call group as a web chat, served only in playground mode."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bot.http.deps import services_of
from core.config import PLAYGROUND_USER_ID

router = APIRouter(include_in_schema=False)

#: the second person in the playground: a teammate who is not an approver
TEAMMATE_ID = 1002


@router.get("/playground", response_class=HTMLResponse)
async def page() -> HTMLResponse:
    html = resources.files("bot.playground").joinpath("static/playground.html").read_text("utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/playground/config")
async def config(request: Request) -> dict[str, Any]:
    services = services_of(request)
    return {
        "chat_id": services.alert_chat_id,
        "emulator": "/tg",
        "users": [
            {"id": PLAYGROUND_USER_ID, "name": "You (approver)"},
            {"id": TEAMMATE_ID, "name": "Teammate (not an approver)"},
        ],
    }


def sample_alertmanager_payload(now: datetime | None = None) -> dict[str, Any]:
    """A realistic Alertmanager v4 webhook: a crash-looping API pod in prod."""
    started = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    labels = {
        "alertname": "KubePodCrashLooping",
        "namespace": "prod",
        "service": "api",
        "pod": "api-7d9f8b6c5-x2k4q",
        "container": "api",
        "severity": "critical",
    }
    return {
        "version": "4",
        "groupKey": '{}:{alertname="KubePodCrashLooping"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "howl",
        "groupLabels": {"alertname": "KubePodCrashLooping"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": "Pod prod/api-7d9f8b6c5-x2k4q is crash looping",
                    "description": "Container api restarted 6 times in the last 10 minutes.",
                },
                "startsAt": started,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=kube_pod_container_status_restarts_total",
                "fingerprint": hashlib.sha256(started.encode()).hexdigest()[:16],
            }
        ],
    }


@router.post("/playground/simulate-alert")
async def simulate_alert(request: Request) -> JSONResponse:
    """Post a sample Alertmanager payload through the real intake endpoint."""
    services = services_of(request)
    headers = {}
    token = services.settings.webhook_token.get_secret_value()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # the whole process's app: intake is answered in front of FastAPI
    transport = httpx.ASGITransport(app=request.app.state.front)
    async with httpx.AsyncClient(transport=transport, base_url="http://playground") as client:
        answer = await client.post(
            "/alerts/alertmanager", json=sample_alertmanager_payload(), headers=headers
        )
    return JSONResponse(answer.json(), status_code=answer.status_code)
