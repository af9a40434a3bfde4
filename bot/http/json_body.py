"""Strict JSON for request bodies: what json.loads alone lets through, refused with a reason.

RFC 8259 JSON, and only what every store can keep: UTF-8 (a leading BOM is
ignored), at most MAX_DEPTH levels of nesting, finite numbers that fit in 64
bits, no NaN/Infinity, and no string or key holding a NUL character (PostgreSQL
text cannot) or a lone surrogate (not Unicode, cannot be encoded). Each refusal
is a PayloadError naming where, as the payload validation that follows does.
"""

from __future__ import annotations

import json
import math
from typing import Any

from core.alerting.payloads import field_path
from core.errors import PayloadError

MAX_DEPTH = 32
_INT_LIMIT = 2**63
_TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"
_TOO_LARGE = "a number is out of range (at most 64-bit integers and finite floats)"


def decode_json(body: bytes) -> Any:
    """The JSON value in `body`, or a PayloadError saying what is wrong with it.

    >>> decode_json(b'{"a": [1, 2.5, "x"]}')
    {'a': [1, 2.5, 'x']}
    >>> decode_json(b'{"title": "a\\\\u0000b"}')
    Traceback (most recent call last):
    core.errors.PayloadError: title: contains a NUL character
    """
    if not body.strip():
        raise PayloadError("body", "empty; expected a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body", "invalid JSON (not UTF-8)") from None
    try:
        value = json.loads(
            text.removeprefix("\ufeff"),
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise PayloadError("body", f"invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise PayloadError("body", _TOO_DEEP) from None
    _check_tree(value)
    return value


def _int(digits: str) -> int:
    # the length test first: int() of thousands of digits is slow, then refused by Python
    if len(digits) > 20 or not -_INT_LIMIT <= (number := int(digits)) < _INT_LIMIT:
        raise PayloadError("body", _TOO_LARGE)
    return number


def _float(digits: str) -> float:
    number = float(digits)
    if not math.isfinite(number):
        raise PayloadError("body", _TOO_LARGE)
    return number


def _constant(name: str) -> Any:
    raise PayloadError("body", f"invalid JSON ({name} is not a JSON value)")


#: a trail is (parent trail, key or index): the path is only spelled out for an error
_Trail = tuple[Any, str | int] | None


def _check_tree(value: Any) -> None:
    """Depth, NUL and surrogates, without recursion (the depth is the thing checked)."""
    stack: list[tuple[Any, int, _Trail]] = [(value, 1, None)]
    while stack:
        node, depth, trail = stack.pop()
        if isinstance(node, str):
            _check_text(node, trail, what="")
        elif isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise PayloadError("body", _TOO_DEEP)
            if isinstance(node, list):
                stack.extend((item, depth + 1, (trail, i)) for i, item in enumerate(node))
                continue
            for key, item in node.items():
                _check_text(key, trail, what="a key ")
                stack.append((item, depth + 1, (trail, key)))


def _check_text(text: str, trail: _Trail, *, what: str) -> None:
    if "\x00" in text:
        raise PayloadError(_path(trail) or "body", f"{what}contains a NUL character")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise PayloadError(
                _path(trail) or "body", f"{what}contains a lone surrogate (not Unicode)"
            ) from None


def _path(trail: _Trail) -> str:
    """(((None, 'alerts'), 2), 'labels') -> 'alerts[2].labels'."""
    parts: list[str | int] = []
    while trail is not None:
        trail, part = trail
        parts.append(part)
    return field_path(tuple(reversed(parts)))
