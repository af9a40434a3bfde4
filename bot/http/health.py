"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bot.http.deps import services_of
from storage.db import database_size, ping

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="200 while the process lives")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="200 when the database answers and the poller runs, else 503",
    responses={503: {"description": "not ready; `checks` says what failed"}},
)
async def readyz(request: Request) -> JSONResponse:
    services = services_of(request)
    checks = {"database": await ping(services.engine), "poller": services.poller_running()}
    if all(checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    failing = ", ".join(name for name, ok in checks.items() if not ok)
    # an error answer like every other: `detail` first, the checks beside it
    return JSONResponse(
        {"detail": f"not ready (failing: {failing})", "status": "not ready", "checks": checks},
        status_code=503,
    )


@router.get(
    "/metrics",
    summary="Prometheus text format",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    services = services_of(request)
    services.metrics.uptime.set((services.clock.now() - services.started_at).total_seconds())
    for status, count in (await services.outbox.counts()).items():
        services.metrics.outbox.labels(status=status).set(count)
    incidents = await services.incidents.counts()
    services.metrics.observe_incidents({status.value: n for status, n in incidents.items()})
    services.metrics.observe_llm(services.llm.stats())
    size = await database_size(services.engine)
    if size is not None:
        services.metrics.database_bytes.set(size)
    return Response(
        services.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
