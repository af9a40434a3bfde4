"""Secret redaction for anything that leaves the process as text (logs, prompts)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TELEGRAM_TOKEN = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}\b")
_BEARER = re.compile(
    r"(?i)\b(bearer|token|api[_-]?key|password|secret)(\s*[=:]\s*|\s+)([^\s,;\"']+)"
)
_OPENAI_KEY = re.compile(r"\b(sk|nvapi)-[A-Za-z0-9_-]{16,}\b")

REDACTED = "[REDACTED]"


class Redactor:
    """Replaces known secret values and secret-shaped strings with a marker.

    >>> Redactor(["s3cret"]).redact("url=http://x/bots3cret/getMe")
    'url=http://x/bot[REDACTED]/getMe'
    >>> Redactor().redact("Authorization: Bearer abc.def")
    'Authorization: Bearer [REDACTED]'
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _TELEGRAM_TOKEN.sub(REDACTED, text)
        text = _OPENAI_KEY.sub(REDACTED, text)
        return _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
