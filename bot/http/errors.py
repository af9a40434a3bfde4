"""One error shape for every HTTP answer that is not a success: `{"detail": "one readable line"}`.

Whatever a client sends, the detail it gets back is a single printable line of
bounded length: control, format (bidi, zero-width) and surrogate characters
are shown as escapes, so an echoed field name can neither break the line nor
the JSON encoder. Validation errors of query and path parameters are 400s
naming the parameter, like intake's; unknown paths and methods are 404 and 405;
anything unexpected is a 500 with a line that says so (and a logged traceback).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from core.alerting.payloads import describe_error

MAX_DETAIL = 300
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def one_line(text: str) -> str:
    """`text` as one printable line of at most MAX_DETAIL characters.

    >>> one_line("labels.a\\nb\\u202e: bad")
    'labels.a\\\\u000ab\\\\u202e: bad'
    """
    shown = "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN else ch for ch in text
    )
    return shown if len(shown) <= MAX_DETAIL else shown[: MAX_DETAIL - 1] + "…"


def error_response(
    status: int, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The one error answer."""
    return JSONResponse({"detail": one_line(detail)}, status_code=status, headers=headers)


def describe_request_error(exc: RequestValidationError) -> str:
    """The first problem with a request's parameters, e.g. `limit: input should be …`."""
    errors = exc.errors()
    if not errors:
        return "invalid request"
    field, message = describe_error(errors[0], skip=1)
    return f"{field}: {message}" if field else message


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(400, describe_request_error(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 404 and exc.detail == "Not Found":
        detail = f"no such endpoint: {path} (see /openapi.json)"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed on {path}" + (
            f"; use {allowed}" if allowed else ""
        )
    else:
        detail = str(exc.detail)
    return error_response(exc.status_code, detail, headers=exc.headers)


async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
    # Starlette re-raises after this answer is sent, so uvicorn logs the traceback once
    return error_response(500, "internal error; it is logged, please retry")


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app can answer, in the one shape."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
