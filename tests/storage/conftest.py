"""Fixtures for the storage tests: a job store on a real SQLite file with a settable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from storage import JobStore, NewJob


class FakeClock:
    """Clock whose time the test sets through the now attribute, in unix seconds."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "jobs.db"


@pytest.fixture
async def store(db_path: Path, clock: FakeClock) -> AsyncIterator[JobStore]:
    async with await JobStore.open(db_path, clock=clock) as opened:
        yield opened


@pytest.fixture
async def fair_store(db_path: Path, clock: FakeClock) -> AsyncIterator[JobStore]:
    async with await JobStore.open(db_path, clock=clock, policy="fair") as opened:
        yield opened


@pytest.fixture
def make_job() -> Callable[..., NewJob]:
    """Return a NewJob factory whose keyword arguments override the default fields."""

    def factory(**overrides: Any) -> NewJob:
        fields: dict[str, Any] = {
            "user_id": 1001,
            "channel_id": 2002,
            "guild_id": 3003,
            "params": {"prompt": "a lighthouse at dusk", "steps": 20},
        }
        fields.update(overrides)
        return NewJob(**fields)

    return factory
