"""`SilenceApi` over Alertmanager's HTTP API v2, with httpx.

Every failure — connection refused, timeout, a non-2xx answer, a body without
a silence id — is mapped to `SilenceApiError` at this boundary, so callers
handle one exception and never see httpx's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from core.alerting.silences import SilenceApiError, SilenceRequest

TIMEOUT = httpx.Timeout(5.0)
#: Alertmanager's timestamps: RFC 3339 with milliseconds
_TIME = "%Y-%m-%dT%H:%M:%S.%f"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME)[:-3] + "Z"


def silence_body(silence: SilenceRequest) -> dict[str, Any]:
    """The JSON `POST /api/v2/silences` takes."""
    return {
        "matchers": [
            {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
            for m in silence.matchers
        ],
        "startsAt": _when(silence.starts_at),
        "endsAt": _when(silence.ends_at),
        "createdBy": silence.created_by,
        "comment": silence.comment,
    }


class AlertmanagerSilences:
    """Implements `core.alerting.silences.SilenceApi` for one Alertmanager."""

    def __init__(self, base_url: str, *, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT)

    def link(self, silence_id: str) -> str:
        return f"{self.base_url}/#/silences/{silence_id}"

    async def create(self, silence: SilenceRequest) -> str:
        answer = await self._call("POST", "/api/v2/silences", json=silence_body(silence))
        try:
            silence_id = answer.json()["silenceID"]
        except (ValueError, KeyError, TypeError):
            raise SilenceApiError("Alertmanager answered without a silence id") from None
        if not isinstance(silence_id, str) or not silence_id:
            raise SilenceApiError("Alertmanager answered without a silence id")
        return silence_id

    async def expire(self, silence_id: str) -> None:
        path = f"/api/v2/silence/{quote(silence_id, safe='')}"
        await self._call("DELETE", path, gone_ok=True)

    async def _call(
        self, method: str, path: str, *, json: Any = None, gone_ok: bool = False
    ) -> httpx.Response:
        try:
            answer = await self._client.request(method, f"{self.base_url}{path}", json=json)
        except httpx.HTTPError as exc:
            raise SilenceApiError(
                f"Alertmanager at {self.base_url} is unreachable ({type(exc).__name__})"
            ) from exc
        if gone_ok and answer.status_code == 404:
            return answer  # already expired and collected, or never known: nothing to end
        if answer.is_error:
            raise SilenceApiError(
                f"Alertmanager answered {answer.status_code}: {answer.text.strip()[:120]}"
            )
        return answer

    async def aclose(self) -> None:
        await self._client.aclose()
