"""Fixtures: a temporary database, packs on disk, the local Bot API simulator, the real bot.

And the markers `make test-fast` selects by (pyproject.toml registers them):

- e2e: the real bot against the simulator over HTTP: everything under tests/e2e/, and any other
  test that asks for the `sim` or `run_bot` fixture (tests/simulator/ excepted: there `sim` is
  the simulator under test, with no bot);
- subprocess: the test starts another process (`python -m bot ...` through tests/helpers.py's
  `cli` or `cli_into_a_closed_pipe`, or subprocess / asyncio's create_subprocess_*), found in
  its code and in the module-level helpers it calls: correct, but each start costs a second.
"""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")


import json
import logging
import random
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
from typing import Any

import pytest

from bot.app import build_application, start_polling, stop_polling
from bot.settings import load_settings
from db import Database
from simulator import SimulatorServer
from tasks.clock import Clock, FakeClock
from tasks.packs import load_pack
from tasks.quality.disputes import DisputeService
from tasks.quality.service import QualityService
from tasks.work import WorkService
from tests.helpers import (
    OPTION_IDS,
    OPTIONS,
    GoldPack,
    RunBot,
    pack_dict,
)

TESTS = Path(__file__).resolve().parent
SPAWNERS = frozenset(
    {
        "cli",
        "cli_into_a_closed_pipe",
        "subprocess",
        "create_subprocess_exec",
        "create_subprocess_shell",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path)).resolve()
        fixtures = set(getattr(item, "fixturenames", ()))
        if (TESTS / "e2e") in path.parents or (
            (TESTS / "simulator") not in path.parents and fixtures & {"sim", "run_bot"}
        ):
            item.add_marker(pytest.mark.e2e)
        function = getattr(item, "function", None)
        module = getattr(item, "module", None)
        if isinstance(function, FunctionType) and module is not None:
            if _spawns(function.__code__, module, set()):
                item.add_marker(pytest.mark.subprocess)


def _spawns(code: CodeType, module: ModuleType, seen: set[str]) -> bool:
    """Whether `code`, the functions nested in it, or the tests' own functions it names start
    a process."""
    if SPAWNERS & set(code.co_names):
        return True
    for constant in code.co_consts:
        if isinstance(constant, CodeType) and _spawns(constant, module, seen):
            return True
    for name in set(code.co_names) - seen:
        seen.add(name)
        helper = getattr(module, name, None)
        if (
            isinstance(helper, FunctionType)
            and helper.__module__.startswith("tests")
            and _spawns(helper.__code__, module, seen)
        ):
            return True
    return False


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
    """A seeded gold draw: a quality story is the same on every run."""
    return WorkService(db, clock, rng=random.Random(7))


@pytest.fixture
def load(db: Database, clock: FakeClock, write_pack: Callable[..., Path]) -> Callable[..., Any]:
    async def loader(pack_id: str = "reviews", tasks: int = 5, **header: Any) -> None:
        report = await load_pack(db, write_pack(pack_id, tasks, **header), clock=clock)
        assert report.ok, report.errors

    return loader


@pytest.fixture
def quality(db: Database, clock: FakeClock) -> QualityService:
    return QualityService(db, clock)


@pytest.fixture
def disputes(db: Database, work: WorkService, clock: FakeClock) -> DisputeService:
    return DisputeService(db, work.quality, clock)


@pytest.fixture
def gold_pack(db: Database, clock: FakeClock, tmp_path: Path) -> GoldPack:
    """A pack of `tasks` plain tasks and `gold` gold tasks; task text says what is right."""

    async def load(
        tasks: int = 30, gold: int = 12, wrong_key: int | None = None, **header: Any
    ) -> dict[str, str]:
        truth: dict[str, str] = {}
        rows = []
        for i in range(gold):
            right = OPTION_IDS[i % 3]
            text = f"gold {i}"
            truth[text] = right
            key = OPTION_IDS[(i + 1) % 3] if i == wrong_key else right
            rows.append({"id": f"g{i:02d}", "text": text, "gold": key, "explanation": "Because."})
        for i in range(tasks):
            text = f"task {i}"
            truth[text] = OPTION_IDS[i % 3]
            rows.append({"id": f"t{i:03d}", "text": text})
        pack = {
            "id": header.pop("id", "checked"),
            "title": "Checked <pack>",
            "instructions": "Pick the sentiment.",
            "type": "single_choice",
            "options": OPTIONS,
            "reward": "0.02",
            "overlap": 3,
            "quality": {"min_seconds": 0, **header.pop("quality", {})},
            "tasks": rows,
            **header,
        }
        path = tmp_path / f"{pack['id']}.json"
        path.write_text(json.dumps(pack), encoding="utf-8")
        report = await load_pack(db, path, clock=clock)
        assert report.ok, report.errors
        return truth

    return load


@pytest.fixture(autouse=True)
def _no_redacting_filter_left_behind() -> Iterator[None]:
    """`python -m bot` run in-process (cli.main) puts a RedactingFilter on the root logger's
    handlers, pytest's capture handler among them; taken off after each test, so a test that
    reads the log (tests/e2e/test_secrets.py) sees what the code logged, whatever ran before."""
    yield
    from bot.redact import RedactingFilter

    for handler in logging.getLogger().handlers:
        for found in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(found)
