"""`MetricsSource` over Prometheus's HTTP API (`/api/v1/query_range`), with httpx.

A query never raises for what the backend did: a refused connection, an
answer later than `timeout_s` (a hard ceiling on the whole call, not per
phase), a non-2xx answer, a body that is not Prometheus's JSON or says
`"status": "error"` — each becomes a `MetricQuery` with status "timeout" or
"error" and a one-line reason; an answer with no series is "empty". So a
Prometheus that is down or slow costs the debate at most `timeout_s` and a
line in the snapshot, never the debate.

The answer is summarised, not copied: the agents read a line such as
"2 series; latest 0.12 to 0.93 (min 0.12, max 0.97) over 1h; by instance: a 0.93, b 0.12",
never thousands of samples.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from core.alerting.durations import describe
from core.debate.models import MetricQuery

#: series named in a summary; the rest are counted
SHOWN_SERIES = 4
#: characters of a backend's error text kept in `MetricQuery.error`
ERROR_CHARS = 160


class PrometheusMetrics:
    """Implements `core.debate.ports.MetricsSource` for one Prometheus."""

    def __init__(
        self, base_url: str, *, timeout_s: float = 3.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._owned = client is None
        # a user:password in the URL is httpx's basic auth; it never appears in a reason
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout_s))
        self._shown_url = _without_userinfo(self.base_url)

    async def query_range(
        self, name: str, expr: str, *, start: datetime, end: datetime, step_s: float
    ) -> MetricQuery:
        """`expr` from `start` to `end` every `step_s` seconds, summarised; never raises."""
        params = {
            "query": expr,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step_s:g}",
        }
        try:
            async with asyncio.timeout(self.timeout_s):
                answer = await self._client.get(
                    f"{self.base_url}/api/v1/query_range", params=params
                )
        except (TimeoutError, httpx.TimeoutException):
            reason = f"Prometheus at {self._shown_url} did not answer within {self.timeout_s:g}s"
            return MetricQuery(name=name, expr=expr, status="timeout", error=reason)
        except httpx.HTTPError as exc:
            reason = f"Prometheus at {self._shown_url} is unreachable ({type(exc).__name__})"
            return MetricQuery(name=name, expr=expr, status="error", error=reason)
        return _read_answer(name, expr, answer, window=end - start)

    async def aclose(self) -> None:
        """Close the HTTP client, when this object made it."""
        if self._owned:
            await self._client.aclose()


def _read_answer(name: str, expr: str, answer: httpx.Response, *, window: timedelta) -> MetricQuery:
    def failed(reason: str) -> MetricQuery:
        return MetricQuery(name=name, expr=expr, status="error", error=_one_line(reason))

    try:
        body = answer.json()
    except ValueError:
        return failed(f"Prometheus answered {answer.status_code} without JSON: {answer.text}")
    if not isinstance(body, dict):
        return failed(f"Prometheus answered {answer.status_code} with unexpected JSON")
    if body.get("status") != "success" or answer.is_error:
        kind, text = body.get("errorType", "error"), body.get("error", "no reason given")
        return failed(f"Prometheus answered {answer.status_code}: {kind}: {text}")
    data = body.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        return failed("Prometheus answered with no range result (resultType is not matrix)")
    try:
        series = [_series(item) for item in data.get("result") or []]
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return failed("Prometheus answered a range result that could not be read")
    series = [s for s in series if s[1]]
    if not series:
        return MetricQuery(
            name=name, expr=expr, status="empty", summary=f"no series over {describe(window)}"
        )
    return MetricQuery(name=name, expr=expr, status="ok", summary=summarise(series, window))


def _series(item: Any) -> tuple[dict[str, str], list[float]]:
    labels = {str(k): str(v) for k, v in dict(item.get("metric") or {}).items()}
    return labels, [float(value) for _, value in item["values"]]


Series = tuple[Mapping[str, str], Sequence[float]]


def summarise(series: Sequence[Series], window: timedelta) -> str:
    """One line for a range result.

    >>> summarise([({"instance": "a"}, [0.5, 0.93]), ({"instance": "b"}, [0.12, 0.97, 0.12])],
    ...           timedelta(hours=1))
    '2 series; latest 0.12 to 0.93 (min 0.12, max 0.97) over 1h; by instance: a 0.93, b 0.12'
    >>> summarise([({"job": "api"}, [1.0, 1.0])], timedelta(minutes=30))
    '1 series; latest 1 (min 1, max 1) over 30m'
    """
    latest = [values[-1] for _, values in series]
    every = [v for _, values in series for v in values if not math.isnan(v)]
    low, high = _fmt(_least(latest)), _fmt(_most(latest))
    line = f"{len(series)} series; latest {low if low == high else f'{low} to {high}'}"
    if every:
        line += f" (min {_fmt(min(every))}, max {_fmt(max(every))})"
    line += f" over {describe(window)}"
    if len(series) > 1:
        line += "; " + _by_labels(series)
    return line


def _by_labels(series: Sequence[Series]) -> str:
    """The series told apart by the labels whose values differ among them."""
    keys = sorted({k for labels, _ in series for k in labels})
    varying = [k for k in keys if len({labels.get(k, "") for labels, _ in series}) > 1]
    named = [
        f"{','.join(labels.get(k, '') for k in varying) or '{}'} {_fmt(values[-1])}"
        for labels, values in series[:SHOWN_SERIES]
    ]
    if len(series) > SHOWN_SERIES:
        named.append(f"+{len(series) - SHOWN_SERIES} more")
    return f"by {','.join(varying) or 'series'}: " + ", ".join(named)


def _least(values: Sequence[float]) -> float:
    real = [v for v in values if not math.isnan(v)]
    return min(real) if real else math.nan


def _most(values: Sequence[float]) -> float:
    real = [v for v in values if not math.isnan(v)]
    return max(real) if real else math.nan


def _fmt(value: float) -> str:
    """Four significant digits: enough to read, short in a prompt."""
    return f"{value:.4g}"


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def _without_userinfo(url: str) -> str:
    """The URL as a reason may show it: no `user:password@`.

    >>> _without_userinfo("http://howl:pw@prom:9090/x")
    'http://prom:9090/x'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
