"""Fixtures: a temporary database, packs on disk, the local Bot API simulator, the real bot."""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application, start_polling, stop_polling
from bot.settings import load_settings
from bot.simulator import SimulatorServer
from db import Database
from tasks.clock import Clock, FakeClock
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


RunBot = Callable[..., Awaitable[Any]]


@pytest.fixture
async def run_bot(sim: SimulatorServer, db_path: Path) -> AsyncIterator[RunBot]:
    """Starts the Application that `run` builds, polling the simulator, on `db_path`:
    `await run_bot(clock=None, before_start=None, **settings)`. Stopped at the end of the test."""
    running: list[Any] = []

    async def start(
        clock: Clock | None = None,
        before_start: Callable[[Any], None] | None = None,
        **settings: Any,
    ) -> Any:
        app = build_application(
            load_settings(
                bot_token=sim.token,
                telegram_api_url=sim.base_url,
                database_path=db_path,
                _env_file=None,
                **settings,
            ),
            clock=clock,
        )
        if before_start is not None:
            before_start(app)
        await start_polling(app)
        running.append(app)
        return app

    yield start
    for app in running:
        if app.running:
            await stop_polling(app)


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
