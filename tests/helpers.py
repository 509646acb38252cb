"""Helpers shared by the test modules (fixtures live in conftest.py): driving the bot through
the simulator as a worker would, the CLI as an operator runs it, packs and workers in the
domain, and reading the outbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiohttp import ClientSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from db import Database, Tx
from simulator import ChatEvent, SimMessage, SimulatorServer
from tasks.clock import FakeClock
from tasks.packs import PackError, PackHeader, PackReader
from tasks.work import WorkService
from tasks.work_results import AnswerResult, NoTask, Outcome, TaskCard


def cli(
    *args: str, db: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` as an operator runs it, on the database `db`, from db's folder."""
    environment = {**os.environ, "DATABASE_PATH": str(db), "PTB_TIMEDELTA": "1", **env}
    if "BOT_TOKEN" not in env:
        environment.pop("BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=db.parent if db.parent.is_dir() else None,
        input=stdin,
    )


def cli_into_a_closed_pipe(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS | head` where the reader has already gone: stdout is a pipe whose
    reading end is closed before the command starts, so its first write meets a broken pipe."""
    reading, writing = os.pipe()
    os.close(reading)
    environment = {**os.environ, "DATABASE_PATH": str(db), "PTB_TIMEDELTA": "1"}
    environment.pop("BOT_TOKEN", None)
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=environment,
            stdout=writing,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=db.parent,
        )
    finally:
        os.close(writing)


async def queued(db: Database) -> list[SimpleNamespace]:
    """The messages queued in the outbox and not sent yet (worker_id None: the operators)."""
    rows = await db.query("SELECT recipient, kind, params FROM outbox WHERE status = 'due'")
    return [
        SimpleNamespace(worker_id=row[0], text_key=row[1], params=json.loads(row[2]))
        for row in rows
    ]


USER = 42  # the user who has started the bot in the simulator tests' `sim` fixture


def is_task(event: ChatEvent) -> bool:
    return event.message is not None and bool(event.message.buttons_with_prefix("a:"))


def has_button(prefix: str):  # type: ignore[no-untyped-def]
    def check(event: ChatEvent) -> bool:
        return event.message is not None and bool(event.message.buttons_with_prefix(prefix))

    return check


def text_has(fragment: str):  # type: ignore[no-untyped-def]
    def check(event: ChatEvent) -> bool:
        return event.message is not None and fragment in event.message.text

    return check


async def join(
    sim: SimulatorServer,
    user_id: int,
    language: str = "en",
    first_task: Callable[[ChatEvent], bool] | None = None,
) -> SimMessage:
    """A new worker sends /start, agrees to the rules and receives their first task (a
    single-choice task, unless `first_task` says what the first task looks like)."""
    sim.add_user(user_id, f"Worker{user_id}", language_code=language)
    sim.send_text(user_id, "/start")
    welcome = await sim.wait_for(user_id, has_button("consent"), timeout=10)
    assert welcome.message is not None
    sim.press(user_id, welcome.message.message_id, "consent")
    task = await sim.wait_for(user_id, first_task or is_task, timeout=10)
    assert task.message is not None
    return task.message


def answer_data(message: SimMessage, index: int = 0) -> str:
    data = message.buttons_with_prefix("a:")[index].callback_data
    assert data is not None
    return data


async def press_and_wait(
    sim: SimulatorServer, user_id: int, message: SimMessage, data: str, *, check: bool = True
) -> tuple[dict[str, object], SimMessage | None]:
    """Presses a button; returns the toast's parameters and the next screen, if any."""
    query_id = sim.press(user_id, message.message_id, data, check=check)
    answer = await sim.wait_callback_answer(query_id, timeout=10)
    params = answer["params"]
    assert isinstance(params, dict)
    return params, sim.chat(user_id).messages.get(message.message_id)


async def press_and_redraw(
    sim: SimulatorServer, user_id: int, message: SimMessage, data: str
) -> SimMessage:
    """Presses a button that redraws its own message (a multi_choice toggle) and returns the
    message once redrawn: the toast and the edit go out together, so the toast alone does not
    say the edit has landed."""
    since = sim.chat(user_id).event_count
    await press_and_wait(sim, user_id, message, data)

    def redrawn(event: ChatEvent) -> bool:
        return (
            event.kind == "edit"
            and event.message is not None
            and event.message.message_id == message.message_id
        )

    edited = await sim.wait_for(user_id, redrawn, timeout=10, since=since)
    assert edited.message is not None
    return sim.chat(user_id).messages[message.message_id]


async def call(
    http: ClientSession, sim: SimulatorServer, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    """A raw form-urlencoded call, complex values JSON-encoded like PTB does."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    url = f"{sim.base_url}/bot{sim.token}/{method}"
    async with http.post(url, data=form) as resp:
        return resp.status, await resp.json()


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


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


RunBot = Callable[..., Awaitable[Any]]


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


OPTION_IDS = [option["id"] for option in OPTIONS]


GoldPack = Callable[..., Awaitable[dict[str, str]]]


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


async def enrol(
    work: WorkService, worker_id: int, consent: bool = True
) -> TaskCard | NoTask | None:
    await work.meet(
        worker_id,
        first_name=f"W{worker_id}",
        username=None,
        language_code="en",
        default_language="fr",
    )
    if not consent:
        return None
    result = await work.consent(worker_id)
    assert result is not None
    return result[1]


async def press_card(
    work: WorkService, worker_id: int, card: TaskCard, choice: int | None = 0
) -> Any:
    """Presses an option (or Skip, for None) on the task card."""
    if choice is None:
        return await work.skip(worker_id=worker_id, assignment_id=card.assignment_id)
    return await work.answer(worker_id=worker_id, assignment_id=card.assignment_id, choice=choice)


async def workers_paid(
    path: Path, names: list[str], *, micros: int = 20_000, at: str = "2026-11-18T10:00:00.000000Z"
) -> None:
    """Workers 1, 2, ... with these names, each paid one reward of `micros` at `at`."""

    def seed(tx: Tx) -> None:
        for worker, name in enumerate(names, start=1):
            tx.execute(
                "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
                " VALUES (?, ?, 'en', 'x', 'x')",
                (worker, name),
            )
            tx.execute(
                "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
                " idempotency_key, created_at) VALUES (?, 'reward', ?, 'EUR', 'r', ?, ?)",
                (worker, micros, f"seed:{worker}", at),
            )

    async with Database(path) as db:
        await db.run(seed)
