"""Fixtures the alerting unit tests share: a fake clock and an in-memory incident store."""

from __future__ import annotations

import pytest

from tests.unit.alerting.fakes import FakeClock, FakeIncidentStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FakeIncidentStore:
    return FakeIncidentStore()
