"""What every route needs from the process: its services, put on the app by build_http_app."""

from __future__ import annotations

from fastapi import Request

from bot.services import Services


def services_of(request: Request) -> Services:
    services = request.app.state.services
    assert isinstance(services, Services)
    return services
