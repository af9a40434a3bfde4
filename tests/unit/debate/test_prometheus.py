"""`PrometheusMetrics` against scripted answers: every backend failure is a value, never raised."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import httpx
import pytest

from core.debate.prometheus import PrometheusMetrics
from tests.unit.debate.evidence_fakes import T0

Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)
START, END = T0 - timedelta(hours=1), T0


def prometheus(handler: Handler, *, timeout_s: float = 3.0) -> PrometheusMetrics:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PrometheusMetrics("http://howl:prom-pass@prom:9090/", timeout_s=timeout_s, client=client)


def matrix(*series: tuple[dict[str, str], list[float]]) -> dict[str, Any]:
    result = [
        {
            "metric": labels,
            "values": [[START.timestamp() + 60 * n, str(v)] for n, v in enumerate(values)],
        }
        for labels, values in series
    ]
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


async def ask(metrics: PrometheusMetrics, expr: str = "up") -> Any:
    return await metrics.query_range("up of job api", expr, start=START, end=END, step_s=30)


async def test_a_range_result_is_summarised_and_the_request_is_a_range_query() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = matrix(
            ({"job": "api", "instance": "a"}, [1, 1, 1]),
            ({"job": "api", "instance": "b"}, [1, 0, 0]),
        )
        return httpx.Response(200, json=body)

    query = await ask(prometheus(answer), 'up{job="api"}')
    assert query.status == "ok" and query.error is None
    assert query.summary == "2 series; latest 0 to 1 (min 0, max 1) over 1h; by instance: a 1, b 0"
    [request] = seen
    assert request.url.path == "/api/v1/query_range"
    params = dict(request.url.params)
    assert params == {
        "query": 'up{job="api"}',
        "start": f"{START.timestamp():.3f}",
        "end": f"{END.timestamp():.3f}",
        "step": "30",
    }
    assert request.headers["authorization"].startswith("Basic "), "the URL's user:password"


async def test_no_series_is_empty() -> None:
    query = await ask(prometheus(lambda _: httpx.Response(200, json=matrix())))
    assert (query.status, query.summary) == ("empty", "no series over 1h")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            httpx.Response(
                400,
                json={"status": "error", "errorType": "bad_data", "error": "parse error at char 3"},
            ),
            "Prometheus answered 400: bad_data: parse error at char 3",
        ),
        (
            httpx.Response(502, text="<html>\nBad gateway\n</html>"),
            "Prometheus answered 502 without JSON: <html> Bad gateway </html>",
        ),
        (httpx.Response(200, json=[1, 2]), "Prometheus answered 200 with unexpected JSON"),
        (
            httpx.Response(
                200, json={"status": "success", "data": {"resultType": "vector", "result": []}}
            ),
            "Prometheus answered with no range result (resultType is not matrix)",
        ),
        (
            httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {"resultType": "matrix", "result": [{"values": 3}]},
                },
            ),
            "Prometheus answered a range result that could not be read",
        ),
    ],
    ids=["prometheus-error", "not-json", "not-an-object", "not-a-matrix", "garbled"],
)
async def test_a_bad_answer_is_an_error_with_one_line(answer: httpx.Response, reason: str) -> None:
    query = await ask(prometheus(lambda _: answer))
    assert (query.status, query.error) == ("error", reason)


async def test_a_long_error_is_clipped_to_one_line() -> None:
    answer = httpx.Response(
        422, json={"status": "error", "errorType": "execution", "error": "x\n" * 500}
    )
    query = await ask(prometheus(lambda _: answer))
    assert query.status == "error" and query.error is not None
    assert len(query.error) <= 160 and "\n" not in query.error


async def test_unreachable_is_an_error_without_the_password() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    query = await ask(prometheus(refuse))
    assert (query.status, query.error) == (
        "error",
        "Prometheus at http://prom:9090 is unreachable (ConnectError)",
    )


async def test_a_transport_timeout_is_a_timeout() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    query = await ask(prometheus(slow, timeout_s=2))
    assert (query.status, query.error) == (
        "timeout",
        "Prometheus at http://prom:9090 did not answer within 2s",
    )


async def test_the_timeout_bounds_the_whole_call() -> None:
    async def never(_request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    query = await ask(prometheus(never, timeout_s=0.05))
    assert query.status == "timeout"


async def test_nan_samples_do_not_break_the_summary() -> None:
    body = matrix(({"job": "api"}, [float("nan"), 2.5]))
    query = await ask(prometheus(lambda _: httpx.Response(200, json=body)))
    assert query.summary == "1 series; latest 2.5 (min 2.5, max 2.5) over 1h"


async def test_a_client_it_was_given_is_left_open() -> None:
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=matrix()))
    )
    await PrometheusMetrics("http://prom:9090", client=client).aclose()
    assert not client.is_closed
    await client.aclose()
    owned = PrometheusMetrics("http://prom:9090")
    await owned.aclose()
