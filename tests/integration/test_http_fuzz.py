"""Every endpoint of /openapi.json, fuzzed over HTTP against the real app on 127.0.0.1.

For each operation the schema lists, hypothesis sends bodies built from the
operation's own schema (`from_schema`: the JSON Schema pydantic writes),
arbitrary JSON, raw bytes and mutations of valid bodies (other encodings, NUL
and lone-surrogate escapes, deep nesting, huge numbers, truncation), with odd
parameters, content types and tokens. The promises: no answer is a 5xx; every
answer that is not a success is `{"detail": "<one line>"}`; and a refused
intake body stores nothing.

Deterministic: derandomized, no example database, a fixed budget per operation.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.http.app import build_http_app
from bot.http.errors import MAX_DETAIL
from tests.integration.services import migrated_services
from tests.servers.telegram import serve_asgi

TOKEN = "fuzz-token-0123456789"
STORED = ("alerts", "alert_states", "incidents", "audit_log", "outbox")
#: examples per operation: bodies get more, they have more to get wrong
BUDGET_WITH_BODY, BUDGET_WITHOUT = 100, 30


class LiveHowl:
    """The real HTTP app over a real database, served by uvicorn in its own thread."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-howl", daemon=True)

    def __enter__(self) -> LiveHowl:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._failure is not None or not self.url:
            raise AssertionError(f"the app did not start: {self._failure!r}")
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test thread
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with migrated_services(self.db, HOWL_WEBHOOK_TOKEN=TOKEN) as services:
            services.poller_running = lambda: True
            try:
                async with serve_asgi(build_http_app(services)) as url:
                    self.url = url
                    self._ready.set()
                    await self._stop.wait()
            finally:
                await services.intake.close()

    def stored(self) -> dict[str, int]:
        with sqlite3.connect(self.db) as db:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in STORED}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHowl]:
    with LiveHowl(tmp_path_factory.mktemp("fuzz") / "howl.db") as app:
        yield app


@pytest.fixture(scope="module")
def http(live: LiveHowl) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


# --- the operations, from the schema ---------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def intake(self) -> bool:
        return self.path.startswith("/alerts")


def operations(document: dict[str, Any]) -> list[Operation]:
    return [
        Operation(method.upper(), path, spec)
        for path, item in document["paths"].items()
        for method, spec in item.items()
    ]


def inline_refs(node: Any, components: dict[str, Any]) -> Any:
    """The schema with every `#/components/schemas/X` replaced by X (ours have no cycles)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return inline_refs(components[ref.rsplit("/", 1)[1]], components)
        return {key: inline_refs(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [inline_refs(item, components) for item in node]
    return node


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the JSON Schema subset pydantic writes (hypothesis-jsonschema no longer
    runs on current hypothesis); `format: date-time` includes far-off years and offsets."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object":
        properties = {k: from_schema(v) for k, v in schema.get("properties", {}).items()}
        required = set(schema.get("required", ()))
        extra = schema.get("additionalProperties")
        fixed = st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
        if not isinstance(extra, dict):
            return fixed
        more = st.dictionaries(st.text(max_size=12), from_schema(extra), max_size=4)
        return st.tuples(fixed, more).map(lambda pair: {**pair[1], **pair[0]})
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {})), max_size=3)
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.one_of(st.sampled_from(EDGE_TIMES), st.datetimes().map(datetime.isoformat))
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(max_size=min(schema.get("maxLength", 40), 40))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JSON_VALUES


# --- what gets sent --------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
#: times that exist only in their own offset, Alertmanager's zero time, a leap day
EDGE_TIMES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z",
              "2024-02-29T23:59:60Z", "2026-11-23T08:00:00.123456789+14:00"]  # fmt: skip
ODD_NUMBERS = ["1" * 5000, "1e999", "-1e999", "NaN", "Infinity", "9223372036854775808", "1e-400"]
ODD_STRINGS = ["\\u0000", "\\ud83d", "\\udc00x", "\\u202e", "\\u200b", "\x00", "\\"]


def _insert(text: str, where: int, what: str) -> str:
    where %= len(text) + 1
    return text[:where] + what + text[where:]


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> bytes:
    """A valid body broken in one of the ways senders break them."""
    text = json.dumps(draw(valid), ensure_ascii=draw(st.booleans()))
    where = draw(st.integers(min_value=0, max_value=len(text)))
    how = draw(st.sampled_from(["utf16", "utf32", "bom", "latin1", "byte", "string", "number",
                                "nest", "truncate"]))  # fmt: skip
    if how in ("utf16", "utf32"):
        return text.encode("utf-16" if how == "utf16" else "utf-32")
    if how == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    if how == "latin1":
        return text.encode("latin-1", errors="replace") + "é".encode("latin-1")
    if how == "byte":
        raw = text.encode()
        byte = draw(st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80"]))
        return raw[: where % (len(raw) + 1)] + byte + raw[where % (len(raw) + 1) :]
    if how == "string":
        quotes = [i for i, ch in enumerate(text) if ch == '"'] or [0]
        return _insert(
            text, draw(st.sampled_from(quotes)) + 1, draw(st.sampled_from(ODD_STRINGS))
        ).encode()
    if how == "number":
        colons = [i for i, ch in enumerate(text) if ch == ":"] or [0]
        at = draw(st.sampled_from(colons)) + 1
        return (text[:at] + " " + draw(st.sampled_from(ODD_NUMBERS)) + ", " + text[at:]).encode()
    if how == "nest":
        depth = draw(st.sampled_from([31, 32, 33, 1000, 100_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return _insert(text, where, opener * depth + "1" + closer * depth).encode()
    return text[:where].encode()


def body_strategy(schema: dict[str, Any]) -> st.SearchStrategy[bytes]:
    valid = from_schema(schema)
    return st.one_of(
        valid.map(lambda v: json.dumps(v).encode()),
        mutated(valid),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=64),
        st.just(b""),
    )


def parameter_value(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    return st.one_of(
        from_schema(schema).map(lambda v: v if isinstance(v, str) else json.dumps(v)),
        st.text(max_size=20),
        st.integers().map(str),
        st.sampled_from(["", "0", "-1", "9" * 30, "1e3", "..", "%00", "open\x00", "\ud800"]),
    )


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


AUTHORIZATIONS = st.sampled_from([f"Bearer {TOKEN}"] * 8 + ["Bearer nope", ""])
CONTENT_TYPES = st.sampled_from([
    "application/json", "application/json", "application/json; charset=utf-16", "text/plain",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "",
])  # fmt: skip
EXTRA_QUERY = st.tuples(st.sampled_from(["x", "limit", "status", "%"]), st.text(max_size=8))


def requests_for(operation: Operation, components: dict[str, Any]) -> st.SearchStrategy[Sent]:
    """Requests for one operation; the strategies are built once, drawn many times."""
    in_path, in_query = {}, {}
    for parameter in operation.spec.get("parameters", []):
        values = parameter_value(inline_refs(parameter.get("schema", {}), components))
        if parameter["in"] == "path":
            in_path[parameter["name"]] = values
        elif parameter["in"] == "query":
            in_query[parameter["name"]] = values
    content = operation.spec.get("requestBody", {}).get("content", {})
    bodies = (
        body_strategy(inline_refs(content["application/json"]["schema"], components))
        if "application/json" in content
        else st.none()
    )

    @st.composite
    def draw_request(draw: st.DrawFn) -> Sent:
        path = operation.path
        for name, values in in_path.items():
            quoted = urllib.parse.quote(draw(values).encode("utf-8", "surrogatepass"), safe="")
            path = path.replace("{" + name + "}", quoted or "%20")
        query = draw(st.fixed_dictionaries({}, optional=in_query))
        if draw(st.booleans()):
            key, value = draw(EXTRA_QUERY)
            query[key] = value
        encoded = urllib.parse.urlencode(
            {k: v.encode("utf-8", "surrogatepass") for k, v in query.items()}
        )
        headers = {"Authorization": draw(AUTHORIZATIONS), "Content-Type": draw(CONTENT_TYPES)}
        return Sent(
            operation.method,
            path + (f"?{encoded}" if encoded else ""),
            {k: v for k, v in headers.items() if v},
            draw(bodies),
        )

    return draw_request()


# --- the promises ----------------------------------------------------------------------


def check_answer(http: httpx.Client, live: LiveHowl, operation: Operation, sent: Sent) -> None:
    before = live.stored() if operation.intake else None
    answer = http.request(sent.method, sent.url, headers=sent.headers, content=sent.body)
    shown = (
        f"{sent.method} {sent.url} {sent.body!r:.300} -> {answer.status_code} {answer.text:.300}"
    )
    assert answer.status_code < 500, shown
    if answer.is_success:
        return
    body = answer.json()
    assert isinstance(body, dict) and isinstance(body.get("detail"), str), shown
    assert "\n" not in body["detail"] and 0 < len(body["detail"]) <= MAX_DETAIL, shown
    if before is not None:
        assert live.stored() == before, f"a refused body stored something: {shown}"


def test_openapi_lists_every_route(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    listed = {(op.method, op.path) for op in operations(document)}
    assert {("POST", "/alerts/alertmanager"), ("POST", "/alerts/grafana"), ("POST", "/alerts"),
            ("GET", "/api/incidents"), ("GET", "/api/incidents/{incident_id}"),
            ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")} <= listed  # fmt: skip
    refs = json.dumps(document).count('"$ref": "#/$defs/')
    assert refs == 0, "every $ref resolves inside the document"


def fuzzer(
    http: httpx.Client, live: LiveHowl, operation: Operation, components: dict[str, Any]
) -> Callable[[], None]:
    """One hypothesis test for one operation, with its own budget."""

    @settings(
        max_examples=BUDGET_WITH_BODY if "requestBody" in operation.spec else BUDGET_WITHOUT,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(requests_for(operation, components))
    def fuzz(sent: Sent) -> None:
        check_answer(http, live, operation, sent)

    return fuzz


def test_every_endpoint_survives_the_fuzz(http: httpx.Client, live: LiveHowl) -> None:
    document = http.get("/openapi.json").json()
    components = document.get("components", {}).get("schemas", {})
    for operation in operations(document):
        fuzzer(http, live, operation, components)()
