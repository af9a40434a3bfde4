"""Redaction: no secret survives, however deep it sits, and nothing else changes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.logging_setup import configure_logging
from core.redact import REDACTED, Redactor

SECRET = "given-secret-0f3a9c"
TG_TOKEN = "123456789:AAH9xK2mQ7vLw3nR8tY5uZ1bC4dE6fG0hIj"
NVAPI = "nvapi-abcdefghijklmnop1234"

REDACTOR = Redactor([SECRET])


class Opaque:
    """An object Howl does not know, whose repr carries a secret."""

    def __init__(self, carried: str) -> None:
        self.carried = carried

    def __repr__(self) -> str:
        return f"Opaque(url='http://127.0.0.1/bot{self.carried}/getMe')"


def rendered(value: Any) -> str:
    """Every way a log renderer shows a value: repr (console) and JSON (json)."""
    return repr(value) + json.dumps(value, default=repr)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"k": SECRET}, {"k": REDACTED}),
        ({"outer": {"inner": [f"x {SECRET} y"]}}, {"outer": {"inner": [f"x {REDACTED} y"]}}),
        ((SECRET, 1, None, True), (REDACTED, 1, None, True)),
        ({SECRET: "value"}, {REDACTED: "value"}),
        (frozenset({SECRET}), frozenset({REDACTED})),
        ({"password": "hunter2", "api_key": "k", "Authorization": "Basic Zm9v"},
         {"password": REDACTED, "api_key": REDACTED, "Authorization": REDACTED}),
        ({"tokens_used": 120, "token": ""}, {"tokens_used": 120, "token": ""}),
        ([ValueError(f"bad key {SECRET}")], [f"ValueError('bad key {REDACTED}')"]),
        ({"o": Opaque(TG_TOKEN)}, {"o": f"Opaque(url='http://127.0.0.1/bot{REDACTED}/getMe')"}),
        (f"https://api.telegram.org/bot{TG_TOKEN}/getMe",
         f"https://api.telegram.org/bot{REDACTED}/getMe"),
        ({"url": "postgresql+asyncpg://howl:pa55@db:5432/howl"},
         {"url": f"postgresql+asyncpg://howl:{REDACTED}@db:5432/howl"}),
        ({"e": [{"m": f"Incorrect API key provided: {NVAPI}"}]},
         {"e": [{"m": f"Incorrect API key provided: {REDACTED}"}]}),
        ({"h": "Authorization: Bearer abc.def"}, {"h": f"Authorization: Bearer {REDACTED}"}),
    ],
)  # fmt: skip
def test_redacts_at_any_depth_and_keeps_the_rest(value: Any, expected: Any) -> None:
    assert REDACTOR.redact_value(value) == expected


def test_a_cycle_ends_as_redacted_text() -> None:
    looped: dict[str, Any] = {"s": SECRET}
    looped["self"] = looped
    out = REDACTOR.redact_value(looped)
    assert SECRET not in rendered(out)


def test_an_object_without_secrets_is_left_as_it_is() -> None:
    plain = Opaque("nothing-here")
    assert REDACTOR.redact_value({"o": plain})["o"] is plain


_LEAVES = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.none(),
    st.builds(lambda a, b: f"{a}{SECRET}{b}", st.text(max_size=6), st.text(max_size=6)),
    st.sampled_from([TG_TOKEN, NVAPI, f"Bearer {SECRET}", f"http://u:{SECRET}@h/"]),
    st.builds(lambda a: RuntimeError(f"{a}{SECRET}"), st.text(max_size=6)),
    st.builds(Opaque, st.just(TG_TOKEN)),
)


def _nest(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    )


@settings(derandomize=True, max_examples=200, database=None)
@given(st.recursive(_LEAVES, _nest, max_leaves=20))
def test_no_secret_survives_in_any_structure(value: Any) -> None:
    out = rendered(REDACTOR.redact_value(value))
    for secret in (SECRET, TG_TOKEN, NVAPI):
        assert secret not in out


_PLAIN = st.text(alphabet="abcdefghij0123456789 ", max_size=12)


@settings(derandomize=True, max_examples=200, database=None)
@given(st.recursive(st.one_of(_PLAIN, st.integers(), st.none()), _nest, max_leaves=20))
def test_values_without_secrets_are_unchanged(value: Any) -> None:
    assert REDACTOR.redact_value(value) == value


# --- the logging pipeline ---------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _log_everything(stream: io.StringIO, fmt: str) -> str:
    configure_logging(fmt=fmt, secrets=[SECRET], stream=stream)
    log = structlog.get_logger("howl.test")
    log.info(
        "nested",
        nested={"k": SECRET, "deeper": [{"url": f"http://127.0.0.1/bot{TG_TOKEN}/getMe"}]},
        pair=(SECRET, 1),
        error=ValueError(f"provider said {NVAPI}"),
        password="hunter2-plain",
    )
    try:
        raise RuntimeError(f"failed with {SECRET}")
    except RuntimeError:
        log.exception("crashed")
    logging.getLogger("httpx").warning("POST http://127.0.0.1/bot%s/sendMessage", TG_TOKEN)
    return stream.getvalue()


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_every_log_line_is_redacted(restore_logging: None, fmt: str) -> None:
    out = _log_everything(io.StringIO(), fmt)
    for secret in (SECRET, TG_TOKEN, NVAPI, "hunter2-plain"):
        assert secret not in out
    assert out.count(REDACTED) >= 7
    assert "RuntimeError: failed with" in out  # the traceback is kept, only the secret goes


def test_json_lines_keep_their_structure(restore_logging: None) -> None:
    lines = [json.loads(line) for line in _log_everything(io.StringIO(), "json").splitlines()]
    nested = next(line for line in lines if line["event"] == "nested")
    assert nested["nested"] == {
        "k": REDACTED,
        "deeper": [{"url": f"http://127.0.0.1/bot{REDACTED}/getMe"}],
    }
    assert nested["pair"] == [REDACTED, 1]
    assert nested["error"] == f"ValueError('provider said {REDACTED}')"
    assert nested["password"] == REDACTED
    httpx_line = next(line for line in lines if line["logger"] == "httpx")
    assert httpx_line["event"] == f"POST http://127.0.0.1/bot{REDACTED}/sendMessage"
