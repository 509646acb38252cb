"""Fixtures: a temporary database, packs on disk, the local Bot API simulator, the real bot."""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")

import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application, start_polling, stop_polling
from bot.settings import load_settings
from bot.simulator import SimulatorServer
from db import Database, Tx
from tasks.clock import Clock, FakeClock
from tasks.packs import PackError, PackHeader, PackReader, load_pack
from tasks.quality.disputes import DisputeService
from tasks.quality.service import QualityService
from tasks.work import AnswerResult, NoTask, Outcome, TaskCard, WorkService

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
    """A seeded gold draw: a quality story is the same on every run."""
    return WorkService(db, clock, rng=random.Random(7))


@pytest.fixture
def load(db: Database, clock: FakeClock, write_pack: Callable[..., Path]) -> Callable[..., Any]:
    async def loader(pack_id: str = "reviews", tasks: int = 5, **header: Any) -> None:
        report = await load_pack(db, write_pack(pack_id, tasks, **header), clock=clock)
        assert report.ok, report.errors

    return loader


# -- pack files, checked without a database or loaded into one ------------------------------

PACK_HEADER: dict[str, Any] = {
    "id": "reviews",
    "title": "Reviews",
    "instructions": "Pick the sentiment.",
    "type": "single_choice",
    "options": OPTIONS,
    "reward": "0.02",
}
LOADED_AT = "2026-11-23T08:00:00.000000Z"  # FakeClock's start, as the database stores it


def make_tasks(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"id": f"t{n}", "text": f"review {n} <b>&amp;</b> «ok»"} for n in range(start, count)]


def write_pack_file(
    path: Path, tasks: list[Any], *, jsonl: bool | None = None, **header: Any
) -> Path:
    """PACK_HEADER with `header` changes and `tasks`, as JSONL when the suffix says so (or
    `jsonl`): the header line then one line per task (a str is written as the line itself).
    As JSON: one header field per line, then one task per line (see json_task_line)."""
    fields = {**PACK_HEADER, **header}
    if jsonl is None:
        jsonl = path.suffix == ".jsonl"
    if jsonl:
        lines = [json.dumps(fields)]
        lines += [task if isinstance(task, str) else json.dumps(task) for task in tasks]
    else:
        lines = ["{"]
        lines += [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in fields.items()]
        lines.append('  "tasks": [')
        lines += [f"    {json.dumps(task)}," for task in tasks[:-1]]
        lines += [f"    {json.dumps(task)}" for task in tasks[-1:]]
        lines += ["  ]", "}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def json_task_line(tasks_before: int, header_fields: int = len(PACK_HEADER)) -> int:
    """The line of a task in a JSON pack written by write_pack_file."""
    return 1 + header_fields + 1 + tasks_before + 1


@dataclass(frozen=True)
class PackCheck:
    """What the reader makes of a pack file (duplicate ids are the database's to find)."""

    header: PackHeader | None
    tasks: int  # valid tasks
    errors: list[PackError]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_pack(path: Path) -> PackCheck:
    """Reads and validates a pack file as load_pack does, without a database."""
    with PackReader(path) as reader:
        reader.read_header()
        tasks = sum(len(batch.rows) for batch in reader.batches())
        return PackCheck(reader.header, tasks, reader.errors.as_list())


async def table(db: Database, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await db.query(sql, params)]


async def add_answer(
    db: Database, task_id: str, worker: int, answer: str | None, status: str = "answered"
) -> None:
    """A worker, an assignment of the task (answered or open) and, when answered, its reward."""

    def add(tx: Tx) -> None:
        tx.execute(
            "INSERT OR IGNORE INTO workers (id, first_name, language, created_at, last_seen_at)"
            " VALUES (?, 'w', 'en', ?, ?)",
            (worker, LOADED_AT, LOADED_AT),
        )
        task = tx.one("SELECT pk, pack_pk FROM tasks WHERE task_id = ?", (task_id,))
        assert task is not None
        assignment = tx.insert(
            "INSERT INTO assignments (worker_id, task_pk, pack_pk, status, answer, delivered_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (worker, task["pk"], task["pack_pk"], status, answer, LOADED_AT, LOADED_AT),
        )
        if status == "answered":
            tx.execute(
                "UPDATE tasks SET answers = answers + 1, remaining = MAX(0, remaining - 1)"
                " WHERE pk = ?",
                (task["pk"],),
            )
            tx.execute(
                "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
                " idempotency_key, assignment_id, pack_pk, created_at)"
                " VALUES (?, 'reward', 20000, 'EUR', 'answer', ?, ?, ?, ?)",
                (worker, f"reward:{assignment}", assignment, task["pack_pk"], LOADED_AT),
            )
        else:
            tx.execute(
                "UPDATE tasks SET remaining = MAX(0, remaining - 1) WHERE pk = ?", (task["pk"],)
            )

    await db.run(add)


# -- quality stories: a pack with gold, workers who answer it honestly or not ---------------

OPTION_IDS = [option["id"] for option in OPTIONS]
GoldPack = Callable[..., Awaitable[dict[str, str]]]


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


async def newcomer(work: WorkService, worker_id: int) -> TaskCard | NoTask:
    """A new worker meets the bot and agrees to the rules: their first card."""
    await work.meet(
        worker_id, first_name="W", username=None, language_code="en", default_language="en"
    )
    consented = await work.consent(worker_id)
    assert consented is not None and consented[1] is not None
    return consented[1]


def honest(truth: dict[str, str]) -> Callable[[TaskCard], int]:
    return lambda card: OPTION_IDS.index(truth[card.text])


def wrong(truth: dict[str, str]) -> Callable[[TaskCard], int]:
    return lambda card: (OPTION_IDS.index(truth[card.text]) + 1) % 3


async def work_on(
    work: WorkService,
    clock: FakeClock,
    worker_id: int,
    card: TaskCard | NoTask,
    choose: Callable[[TaskCard], int],
    answers: int,
) -> list[AnswerResult]:
    """Up to `answers` answers, 5 seconds each, choosing with `choose`; every one recorded."""
    results = []
    for _ in range(answers):
        if not isinstance(card, TaskCard):
            break
        clock.advance(seconds=5)
        result = await work.answer(
            worker_id=worker_id, assignment_id=card.assignment_id, choice=choose(card)
        )
        assert result.outcome is Outcome.RECORDED
        results.append(result)
        assert result.next is not None
        card = result.next
    return results


async def value(db: Database, sql: str, *params: Any) -> Any:
    """The first column of the first row of a query."""
    rows = await db.query(sql, params)
    return rows[0][0] if rows else None
