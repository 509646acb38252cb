"""Fixtures: a temporary database, packs on disk, the local Bot API simulator, the real bot."""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import SimulatorServer
from db import Database
from tasks.clock import FakeClock
from tasks.packs import load_pack
from tasks.work import WorkService

OPTIONS = [
    {"id": "pos", "label": "Positive"},
    {"id": "neg", "label": "Negative"},
    {"id": "neu", "label": "Neutral"},
]


def pack_dict(pack_id: str = "reviews", tasks: int = 5, **header: Any) -> dict[str, Any]:
    pack: dict[str, Any] = {
        "id": pack_id,
        "title": "Reviews <sentiment> & more",
        "instructions": "Read the review and pick its sentiment.",
        "type": "single_choice",
        "options": OPTIONS,
        "reward": "0.02",
        "currency": "EUR",
        "overlap": 3,
        "lease_seconds": 300,
    }
    pack.update(header)
    pack["tasks"] = [
        {"id": f"t{i:03d}", "text": f"Review number {i}: fine & <ok>"} for i in range(tasks)
    ]
    return pack


@pytest.fixture
def write_pack(tmp_path: Path) -> Callable[..., Path]:
    def write(pack_id: str = "reviews", tasks: int = 5, **header: Any) -> Path:
        path = tmp_path / f"{pack_id}.json"
        path.write_text(json.dumps(pack_dict(pack_id, tasks, **header)), encoding="utf-8")
        return path

    return write


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    """The local Bot API server, with no simulated user yet."""
    async with SimulatorServer() as server:
        yield server


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "test.sqlite3") as database:
        yield database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def work(db: Database, clock: FakeClock) -> WorkService:
    return WorkService(db, clock)


@pytest.fixture
def load(db: Database, clock: FakeClock, write_pack: Callable[..., Path]) -> Callable[..., Any]:
    async def loader(pack_id: str = "reviews", tasks: int = 5, **header: Any) -> None:
        report = await load_pack(db, write_pack(pack_id, tasks, **header), clock=clock)
        assert report.ok, report.errors

    return loader
