"""The HTTP app: intake, read views, health and metrics, and (in playground mode) the emulator."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp

from bot.http import audit, health, incidents, intake, knowledge, runs
from bot.http.errors import install_error_handlers
from bot.http.openapi import use_lifted_openapi
from bot.services import Services
from core import __version__


def build_http_app(services: Services, *, emulator: ASGIApp | None = None) -> ASGIApp:
    """The process's HTTP app: the intake front, then FastAPI for everything else;
    `emulator` is mounted at /tg in playground mode."""
    app = FastAPI(
        title="Howl",
        version=__version__,
        description="ChatOps for on-call teams: alert intake, read views, health.",
        docs_url=None,
        redoc_url=None,
        # a trailing slash is a 404 naming the path, not a bodiless 307 to follow
        redirect_slashes=False,
    )
    app.state.services = services
    install_error_handlers(app)
    use_lifted_openapi(app, extra_paths=intake.openapi_paths())
    app.include_router(health.router)
    # --- capability routers (each issue wires its own here) ---
    app.include_router(incidents.router)
    app.include_router(runs.router)
    app.include_router(audit.router)
    app.include_router(knowledge.router)
    if emulator is not None:
        from bot.playground.page import router as playground_router

        app.include_router(playground_router)
        app.mount("/tg", emulator)
    front = intake.IntakeFront(app, services)
    app.state.front = front  # what a route posting to the process itself must call
    return front
