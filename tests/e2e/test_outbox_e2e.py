"""The one outbox, end to end: the real bot against the simulator, and the CLI in another
process on the same database file. A bonus queued from the command line while the bot runs
reaches the worker within 5 seconds; a weekly statement and the messages about a suspension
(the operator's alert, the decision, the lifted pause) are rows of the same table, sent by the
same sender."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.jobs
from db import Database, to_db_time
from handlers.deps import KEY
from simulator import ChatEvent, SimMessage, SimulatorServer
from tasks.clock import Clock, OffsetClock
from tasks.packs import load_pack
from tests.helpers import OPTIONS, RunBot, is_task, join, press_and_wait, text_has

OPERATOR = 900
IDS = [option["id"] for option in OPTIONS]
KEYS = ["pos", "neg", "neu", "pos", "neg"]  # the expected answers of g00..g04


@pytest.fixture(autouse=True)
def quick_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.jobs, "STATEMENT_CHECK_SECONDS", 0.3)
    monkeypatch.setattr(bot.jobs, "SENDER_CHECK_SECONDS", 0.3)


async def cli(db_path: Path, *args: str) -> tuple[int, str]:
    """`python -m bot ARGS` in another process on the same database (the event loop, and so
    the bot, keeps running meanwhile)."""
    env = {**os.environ, "DATABASE_PATH": str(db_path), "PTB_TIMEDELTA": "1"}
    env.pop("BOT_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=db_path.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def outbox(db_path: Path) -> list[tuple[Any, ...]]:
    """The outbox once every row is settled (a message is recorded just after the simulated
    user has it: the test may look in between)."""
    async with Database(db_path) as db, asyncio.timeout(10):
        while True:
            rows = await db.query("SELECT kind, recipient, lane, status FROM outbox ORDER BY id")
            if not any(row[3] in ("due", "sending") for row in rows):
                return [tuple(row) for row in rows]
            await asyncio.sleep(0.05)


async def sender_started(app: Any) -> None:
    async with asyncio.timeout(10):
        while app.bot_data.get(bot.jobs.SENDER_KEY) is None:
            await asyncio.sleep(0.05)


async def test_a_bonus_queued_from_the_cli_while_the_bot_runs_arrives_within_5_seconds(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path
) -> None:
    app = await run_bot(Clock(), quiet_hours="off")  # any hour of the day: no quiet hours
    async with Database(db_path) as db:
        now = to_db_time(Clock().now())
        await db.query("SELECT 1")  # the schema is there (the bot migrated it)

        def add_worker(tx: Any) -> None:
            tx.execute(
                "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
                " VALUES (1, 'Ada', 'en', ?, ?)",
                (now, now),
            )

        await db.run(add_worker)
    sim.add_user(1, "Ada", language_code="en").started = True
    await sender_started(app)

    code, output = await cli(db_path, "bonus", "1", "2.50", "--reason", "Careful <work>")
    queued = time.monotonic()  # the process has exited: its transaction is committed
    assert code == 0, output
    event = await sim.wait_for(1, text_has("Bonus: 2.50 EUR"), timeout=10)
    waited = time.monotonic() - queued
    assert waited <= 5, f"the bonus took {waited:.1f} s"
    assert event.message is not None and "Reason: Careful <work>" in event.message.text
    assert await outbox(db_path) == [("bonus", 1, "interactive", "sent")]


async def test_a_bonus_overtakes_a_broadcast_of_statements_in_progress(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path
) -> None:
    """People's lane first: a bonus queued from the CLI in the middle of a weekly broadcast is
    not sent after it, but within seconds."""
    now = Clock().now()
    stamp, last_week = to_db_time(now), to_db_time(now - timedelta(days=7))
    async with Database(db_path) as db:

        def seed(tx: Any) -> None:
            for worker in range(1, 61):
                tx.execute(
                    "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
                    " VALUES (?, 'W', 'en', ?, ?)",
                    (worker, stamp, stamp),
                )
                tx.execute(
                    "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
                    " idempotency_key, created_at) VALUES (?, 'bonus', 500000, 'EUR', 'seed',"
                    " ?, ?)",
                    (worker, f"seed:{worker}", last_week),
                )

        await db.run(seed)
    for worker in range(1, 61):
        sim.add_user(worker, f"W{worker}", language_code="en").started = True
    # Statements of last week due at once (Monday 00:00), 4 a second in the bulk lane: 15 s.
    await run_bot(Clock(), quiet_hours="off", statement_time="00:00", send_rate=5)

    def statements() -> int:
        return sum(
            "Your statement for week" in m.text
            for worker in range(1, 61)
            for m in sim.chat(worker).bot_messages
        )

    async with asyncio.timeout(15):
        while statements() < 3:
            await asyncio.sleep(0.05)
    code, output = await cli(db_path, "bonus", "60", "1.00", "--reason", "Thanks")
    queued = time.monotonic()
    assert code == 0, output
    await sim.wait_for(60, text_has("Bonus: 1.00 EUR"), timeout=10)
    assert time.monotonic() - queued <= 5
    assert statements() < 60  # the broadcast was still going: the bonus did not wait for it
    assert not any("Your statement" in m.text for m in sim.chat(60).bot_messages)


def checked_pack(folder: Path) -> Path:
    """Five check questions (g00..g04) and a few plain tasks; no training, no minimum time."""
    tasks: list[dict[str, Any]] = [
        {"id": f"g{i:02d}", "text": f"Check g{i:02d}", "gold": key, "explanation": "So."}
        for i, key in enumerate(KEYS)
    ]
    tasks += [{"id": f"t{i:03d}", "text": f"Review {i}"} for i in range(4)]
    pack = {
        "id": "checked",
        "title": "Checked reviews",
        "instructions": "Pick the sentiment.",
        "type": "single_choice",
        "options": OPTIONS,
        "reward": "0.02",
        "overlap": 3,
        # A strict test: +5 per miss, -2 per right answer, paused at 8 (two misses in a row).
        "quality": {
            "qualification": 0,
            "min_seconds": 0,
            "good_accuracy": 0.95,
            "false_suspension": 0.02,
        },
        "tasks": tasks,
    }
    path = folder / "checked.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path


def gold_of(task: SimMessage) -> int:
    found = re.search(r"Check g(\d\d)", task.text)
    assert found is not None, task.text
    return int(found.group(1))


def newer(since: int, check: Callable[[ChatEvent], bool]) -> Callable[[ChatEvent], bool]:
    return lambda event: event.seq >= since and check(event)


async def test_a_statement_and_the_messages_of_a_suspension_go_through_the_same_outbox(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    async with Database(db_path) as db:
        assert (await load_pack(db, checked_pack(tmp_path), clock=Clock())).ok

    def always_check(app: Any) -> None:  # every task handed out is a check question
        app.bot_data[KEY].work.quality.picker.draw = lambda *_: 0.0

    clock = OffsetClock()  # real time (the CLI's stamps are real time too), then pushed on
    await run_bot(clock, before_start=always_check, operator_ids=str(OPERATOR), quiet_hours="off")
    sim.add_user(OPERATOR, "Olga", language_code="en").started = True

    # Two misses in a row (g00, g01: check questions come in order here) suspend the worker.
    task = await join(sim, 1)
    missed: dict[int, SimMessage] = {}
    answered = 2
    for count in range(1, answered + 1):
        number = gold_of(task)
        right = number >= 2
        index = IDS.index(KEYS[number]) if right else (IDS.index(KEYS[number]) + 1) % 3
        data = task.buttons_with_prefix("a:")[index].callback_data
        assert data is not None
        since = sim.chat(1).event_count
        await press_and_wait(sim, 1, task, data)
        if not right:
            missed[number] = task
        if count == answered:
            break
        found = await sim.wait_for(1, newer(since, is_task), timeout=10)
        assert found.message is not None
        task = found.message
    await sim.wait_for(1, text_has("Paused on"), timeout=10)

    # The worker disputes g00; the operators' alert is queued and sent by the outbox.
    feedback = sim.chat(1).messages[missed[0].message_id]
    dispute = feedback.buttons_with_prefix("d:")[0].callback_data
    assert dispute is not None
    await press_and_wait(sim, 1, feedback, dispute)
    await sim.wait_for(OPERATOR, text_has("Nouvelle contestation #1"), timeout=10)

    # The operator accepts it from the command line, in another process: the worker hears of
    # the decision and of the lifted pause from the bot.
    since = sim.chat(1).event_count
    code, output = await cli(db_path, "disputes", "accept", "1")
    assert code == 0, output
    await sim.wait_for(1, text_has("your pause is lifted"), timeout=10, since=since)
    await sim.wait_for(1, text_has("was accepted"), timeout=10, since=since)

    # A week later the week's statement goes out through the same table.
    clock.advance(days=8)
    statement = await sim.wait_for(1, text_has("Your statement for week"), timeout=15)
    assert statement.message is not None and "Earned: 0.04 EUR" in statement.message.text

    rows = await outbox(db_path)
    assert ("statement", 1, "bulk", "sent") in rows
    assert ("quality_lifted", 1, "interactive", "sent") in rows
    assert ("dispute_accepted", 1, "interactive", "sent") in rows
    assert ("op_new_dispute", None, "interactive", "sent") in rows  # copied to each operator
    assert ("op_new_dispute", OPERATOR, "interactive", "sent") in rows
    assert all(status == "sent" for *_, status in rows)
    worker_texts = [m.text for m in sim.chat(1).bot_messages]
    assert sum("Your statement for week" in text for text in worker_texts) == 1
    assert sum("your pause is lifted" in text for text in worker_texts) == 1
