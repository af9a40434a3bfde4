"""HTTP face of the emulator: the Bot API for the bot, a small client API for people.

/bot<TOKEN>/<method>            the Bot API (form-encoded or JSON, GET or POST)
/_emu/state                     bot, chats, users, commands, counters
/_emu/chats/<id>/messages       the chat as a person sees it; long-polls with
                                ?after=<version>&timeout=<s>
/_emu/chats/<id>/send           {"user_id", "text"}: a person writes
/_emu/chats/<id>/press          {"user_id", "message_id", "data"}: a person presses a button
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.playground.botapi import ApiError, BotApiEmulator


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if request.method == "POST":
        if content_type.startswith("application/json"):
            try:
                body = await request.json()
            except json.JSONDecodeError:
                raise ApiError(400, "Bad Request: can't parse JSON") from None
            if isinstance(body, dict):
                params.update(body)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        elif content_type.startswith("multipart/form-data"):
            raise ApiError(400, "Bad Request: file uploads are not emulated")
    return params


def create_emulator_app(emulator: BotApiEmulator) -> Starlette:
    """A Starlette app serving `emulator` (mount it, or serve it alone with uvicorn)."""

    async def bot_api(request: Request) -> JSONResponse:
        if request.path_params["token"] != emulator.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        try:
            params = await _params(request)
            return JSONResponse(await emulator.call(request.path_params["method"], params))
        except ApiError as exc:
            return JSONResponse(exc.payload(), status_code=exc.code)

    async def state(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "bot": emulator.bot,
                "chats": [c.chat for c in emulator.chats.values()],
                "users": list(emulator.users.values()),
                "commands": emulator.commands,
                "stats": {
                    "calls": emulator.stats.calls,
                    "too_many_requests": emulator.stats.too_many_requests,
                    "errors": emulator.stats.errors,
                },
                "version": emulator.version,
            }
        )

    async def messages(request: Request) -> JSONResponse:
        try:
            chat_id = int(request.path_params["chat_id"])
        except ValueError:
            return JSONResponse({"ok": False, "description": "chat id must be an integer"}, 400)
        after = int(request.query_params.get("after", "-1"))
        timeout = min(float(request.query_params.get("timeout", "0")), 30.0)
        if timeout > 0 and after >= 0:
            await emulator.wait_changed(after, timeout)
        try:
            return JSONResponse(
                {
                    "version": emulator.version,
                    "messages": emulator.view(chat_id),
                    "notices": emulator.notices(chat_id),
                }
            )
        except ApiError as exc:
            return JSONResponse(exc.payload(), status_code=exc.code)

    async def send(request: Request) -> JSONResponse:
        body = await request.json()
        try:
            update = await emulator.user_sends(
                int(request.path_params["chat_id"]), int(body["user_id"]), str(body["text"])[:4096]
            )
        except (KeyError, ValueError) as exc:
            return JSONResponse({"ok": False, "description": f"bad request: {exc}"}, 400)
        except ApiError as exc:
            return JSONResponse(exc.payload(), status_code=exc.code)
        return JSONResponse({"ok": True, "update_id": update["update_id"]})

    async def press(request: Request) -> JSONResponse:
        body = await request.json()
        try:
            query_id = await emulator.user_presses(
                int(request.path_params["chat_id"]),
                int(body["user_id"]),
                int(body["message_id"]),
                str(body["data"]),
            )
        except (KeyError, ValueError) as exc:
            return JSONResponse({"ok": False, "description": f"bad request: {exc}"}, 400)
        except ApiError as exc:
            return JSONResponse(exc.payload(), status_code=exc.code)
        return JSONResponse({"ok": True, "callback_query_id": query_id})

    return Starlette(
        routes=[
            Route("/bot{token}/{method}", bot_api, methods=["GET", "POST"]),
            Route("/_emu/state", state),
            Route("/_emu/chats/{chat_id}/messages", messages),
            Route("/_emu/chats/{chat_id}/send", send, methods=["POST"]),
            Route("/_emu/chats/{chat_id}/press", press, methods=["POST"]),
        ]
    )
