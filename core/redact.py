"""Secret redaction for anything that leaves the process as text (logs, prompts).

A secret never survives `Redactor.redact_value`, however deep it sits: in a
string, a mapping's key or value, a list, tuple or set, an exception's text or
the repr of any other object. What counts as a secret: the values the process
was given (tokens, keys), and anything shaped like one (a Telegram bot token,
an OpenAI/NVIDIA/AWS/GitHub/Slack key, `Bearer …`/`Authorization: …`/`password=…`,
the password in `scheme://user:password@host`, a PEM private key block, an
e-mail address), and every string value under a key named like a secret
(`password`, `api_key`, `authorization`, …).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# (?<!\d) rather than \b: in a Bot API URL the token follows "bot" with no word boundary
_TELEGRAM_TOKEN = re.compile(r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])")
_BEARER = re.compile(
    r"(?i)\b(bearer|token|api[_-]?key|passw(?:or)?d|pwd|secret)(\s*[=:]\s*|\s+)([^\s,;\"']+)"
)
#: `Authorization: Basic …`, `Authorization: Token …`: the credential after any scheme word
_AUTH_HEADER = re.compile(
    r"(?i)\b(authorization\s*[=:]\s*"
    r"(?:(?:basic|bearer|token|digest|negotiate|ntlm|apikey|key|aws4-hmac-sha256)\s+)?)"
    r"([^\s,;\"']+)"
)
#: OpenAI/NVIDIA keys, AWS access key ids, GitHub and Slack tokens
_API_KEY = re.compile(
    r"\b(?:(?:sk|nvapi)-[A-Za-z0-9_-]{16,}|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abprs]-[A-Za-z0-9-]{10,})(?![A-Za-z0-9_-])"
)
# greedy up to the authority's last "@", so a password holding an "@" goes whole
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)([^\s/]+)(@)")
#: a whole PEM private key block, or what is left of one when its start was cut off
#: (trimmed output keeps the last lines) or its end was (the rest of the text goes)
_PEM_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)"
    r"|(?m:^[A-Za-z0-9+/=]+\r?\n)+-----END [A-Z0-9 ]*PRIVATE KEY-----",
    re.DOTALL,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SECRET_KEY = re.compile(
    r"(?i)(token|secret|passw(or)?d|api[_-]?key|authorization|credentials?|private[_-]?key)$"
)

REDACTED = "[REDACTED]"
#: deeper than this, a value is rendered with repr() and redacted as text (cycles end here too)
MAX_DEPTH = 16


class Redactor:
    """Replaces known secret values and secret-shaped strings with a marker.

    >>> Redactor(["s3cret"]).redact("url=http://x/bots3cret/getMe")
    'url=http://x/bot[REDACTED]/getMe'
    >>> Redactor().redact("Authorization: Bearer abc.def")
    'Authorization: Bearer [REDACTED]'
    >>> Redactor().redact("postgresql+asyncpg://howl:hunter2@db/howl")
    'postgresql+asyncpg://howl:[REDACTED]@db/howl'
    >>> Redactor().redact("key AKIAIOSFODNN7EXAMPLE for oncall@example.com")
    'key [REDACTED] for [REDACTED]'
    >>> Redactor(["s3cret"]).redact_value({"k": ["s3cret"], "password": "hunter2", "n": 3})
    {'k': ['[REDACTED]'], 'password': '[REDACTED]', 'n': 3}
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _PEM_KEY.sub(REDACTED, text)
        text = _TELEGRAM_TOKEN.sub(REDACTED, text)
        text = _API_KEY.sub(REDACTED, text)
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
        text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
        text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        return _EMAIL.sub(REDACTED, text)

    def redact_value(self, value: Any, *, _depth: int = 0) -> Any:
        """`value` with every secret in it redacted; containers keep their type."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.redact(value)
        if _depth >= MAX_DEPTH:
            return self.redact(repr(value))
        if isinstance(value, Mapping):
            return {
                self.redact_value(key, _depth=_depth + 1): self.redact_field(
                    key, item, _depth=_depth + 1
                )
                for key, item in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            items = (self.redact_value(item, _depth=_depth + 1) for item in value)
            return type(value)(items) if not hasattr(value, "_fields") else tuple(items)
        if isinstance(value, BaseException):
            return self.redact(repr(value))
        text = repr(value)
        redacted = self.redact(text)
        return value if redacted == text else redacted

    def redact_field(self, key: Any, value: Any, *, _depth: int = 0) -> Any:
        """An entry's value: all of it under a secret-named key, else as `redact_value`."""
        if isinstance(key, str) and isinstance(value, str | bytes) and value and secret_key(key):
            return REDACTED
        return self.redact_value(value, _depth=_depth)


def secret_key(name: str) -> bool:
    """Whether a field called `name` holds a secret.

    >>> [secret_key(n) for n in ("api_key", "X-Auth-Token", "password", "tokens_used", "title")]
    [True, True, True, False, False]
    """
    return _SECRET_KEY.search(name) is not None
