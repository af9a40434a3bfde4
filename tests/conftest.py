"""Session-wide test rules: no traffic leaves 127.0.0.0/8, and e2e needs are explicit."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from storage.db import sqlite_threads_settled

__all__ = ["require_binary", "sqlite_threads_settled"]

# As `howl` does at start-up: python-telegram-bot's durations as timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not reach {address!r}: loopback only")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not reach {address!r}: loopback only")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


def require_binary(*names: str) -> str:
    """Path of the first binary found; skip (or fail with HOWL_REQUIRE_E2E=1) if none."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    reason = f"needs {' or '.join(names)} (installed by .ci/run)"
    if os.environ.get("HOWL_REQUIRE_E2E") == "1":
        pytest.fail(f"HOWL_REQUIRE_E2E=1 but {reason}")
    pytest.skip(reason)
