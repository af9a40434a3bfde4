"""/openapi.json that resolves: nested model schemas moved to `components/schemas`.

The intake routes read raw bytes (the token is checked before the body), so
their body schemas come from `model_json_schema()`, whose `$ref`s point at
`#/$defs/...` inside the body schema. In an OpenAPI document `#` is the document
itself, so those refs are lifted to `#/components/schemas/...` where every tool
looks for them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_LOCAL = "#/$defs/"
_COMPONENTS = "#/components/schemas/"


def lift_defs(document: dict[str, Any]) -> dict[str, Any]:
    """Move every nested `$defs` into the components and repoint its refs (in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    stack: list[Any] = [document["paths"]]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            defs = node.pop("$defs", None)
            if isinstance(defs, dict):
                schemas.update(defs)
                stack.extend(defs.values())
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_LOCAL):
                node["$ref"] = _COMPONENTS + ref.removeprefix(_LOCAL)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return document


def use_lifted_openapi(app: FastAPI, *, extra_paths: dict[str, Any] | None = None) -> None:
    """Serve `lift_defs` of FastAPI's own document plus `extra_paths` (routes answered
    in front of FastAPI), built once, on first request."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document["paths"] = {**(extra_paths or {}), **document["paths"]}
            app.openapi_schema = lift_defs(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
