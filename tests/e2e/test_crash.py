"""kill -9 in the middle of a run: no acknowledged answer is lost, nothing is paid twice, and the
restarted bot carries on where it was. The bot runs as `python -m bot run`, a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from db import Database
from simulator import CAREFUL, Crowd, SimulatorServer
from tasks.clock import Clock
from tasks.packs import load_pack
from tests.helpers import answer_data, is_task, join, text_has

WORKERS = 8


def start_bot_process(sim: SimulatorServer, db_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BOT_TOKEN": sim.token,
        "TELEGRAM_API_URL": sim.base_url,
        "DATABASE_PATH": str(db_path),
        "PTB_TIMEDELTA": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def query(db_path: Path, sql: str) -> Any:
    async with Database(db_path) as db:
        return await db.value(sql)


def acknowledged_assignments(sim: SimulatorServer) -> set[int]:
    """Assignments whose press the worker saw acknowledged as recorded."""
    data_by_query = {
        update["callback_query"]["id"]: update["callback_query"]["data"]
        for update in sim.all_updates
        if "callback_query" in update
    }
    acked = set()
    for query_id, answer in sim.callback_answers.items():
        text = str(answer["params"].get("text") or "")
        data = data_by_query.get(query_id, "")
        if text.startswith("Enregistré") and data.startswith("a:"):
            acked.add(int(data.split(":")[1]))
    return acked


async def test_kill_9_loses_no_acknowledged_answer_and_pays_nothing_twice(
    sim: SimulatorServer, tmp_path: Path, write_pack: Any
) -> None:
    db_path = tmp_path / "crash.sqlite3"
    async with Database(db_path) as db:
        report = await load_pack(db, write_pack(tasks=60, overlap=3), clock=Clock())
        assert report.ok
    crowd = Crowd(sim, lambda text, labels: None, seed=3, repress_after=2.0)
    crowd.add(CAREFUL, WORKERS, "W")
    bot = start_bot_process(sim, db_path)
    try:
        await crowd.start()
        await crowd.wait_presses(60, timeout=30)
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=10)
        acked = acknowledged_assignments(sim)
        assert acked, "the crowd saw no acknowledgement before the kill"
        async with Database(db_path) as db:
            rows = await db.query("SELECT id FROM assignments WHERE status = 'answered'")
        assert acked <= {row[0] for row in rows}, "an acknowledged answer was lost"

        bot = start_bot_process(sim, db_path)
        for _ in range(300):
            if await query(db_path, "SELECT COUNT(*) FROM tasks WHERE answers < 3") == 0:
                break
            await asyncio.sleep(0.1)
        assert await query(db_path, "SELECT COUNT(*) FROM tasks WHERE answers < 3") == 0
    finally:
        await crowd.stop()
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(timeout=15)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
    assert await query(db_path, "SELECT MAX(answers) FROM tasks") == 3  # never past overlap
    answered = await query(db_path, "SELECT COUNT(*) FROM assignments WHERE status = 'answered'")
    assert answered == 180
    assert await query(db_path, "SELECT COUNT(*) FROM ledger") == answered  # paid once each
    assert await query(db_path, "SELECT SUM(amount_micros) FROM ledger") == answered * 20_000


async def wait_until(condition: Any, timeout: float, what: str) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


async def test_kill_9_right_after_a_batch_is_fetched_loses_no_press_and_no_command(
    sim: SimulatorServer, tmp_path: Path, write_pack: Any
) -> None:
    """Each worker presses an answer and sends /help and /task. The bot fetches the batch and
    confirms it to Telegram, its replies hang (every reply call fails after 1.5 s), and it is
    killed: the presses' answers are committed but unanswered, the commands not even started.
    The restarted bot answers every press, replies to every command, and stores and pays each
    answer once."""
    workers = 6
    db_path = tmp_path / "inbox.sqlite3"
    async with Database(db_path) as db:
        assert (await load_pack(db, write_pack(tasks=20, overlap=1), clock=Clock())).ok
    bot = start_bot_process(sim, db_path)
    try:
        tasks = await asyncio.gather(*(join(sim, user) for user in range(1, workers + 1)))
        for method in ("answerCallbackQuery", "editMessageText", "sendMessage"):
            sim.inject_fault(method, status=502, count=10_000, delay=1.5)
        calls_before = sim.calls["answerCallbackQuery"]
        presses, commands = {}, {}
        for user, task in enumerate(tasks, 1):
            presses[user] = sim.press(user, task.message_id, answer_data(task))
            commands[user] = (sim.send_text(user, "/help"), sim.send_text(user, "/task"))
        # Fetched and confirmed to Telegram, and every press's transaction committed (its
        # acknowledgement is on its way): now the process dies.
        await wait_until(lambda: sim.pending_updates() == 0, 10, "the batch confirmed")
        await wait_until(
            lambda: sim.calls["answerCallbackQuery"] - calls_before >= workers,
            10,
            "every press's acknowledgement sent",
        )
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=10)
        assert not any(query in sim.callback_answers for query in presses.values())
        async with Database(db_path) as db:
            rows = await db.query("SELECT update_id, processed_at, done_at FROM inbox")
        stored = {row[0]: (row[1] is not None, row[2] is not None) for row in rows}
        for user in presses:
            help_id, task_id = commands[user]
            assert help_id in stored and task_id in stored, "a command was not in the inbox"
            assert not stored[help_id][1] and not stored[task_id][1], "a command was done"
        assert sum(processed for processed, _ in stored.values()) >= workers  # the answers
        assert await query(db_path, "SELECT COUNT(*) FROM ledger") == workers

        sim.clear_faults()
        bot = start_bot_process(sim, db_path)
        for user, query_id in presses.items():
            answer = await sim.wait_callback_answer(query_id, timeout=20)
            assert answer["user_id"] == user
            # The replayed press finds its answer stored, says so, and shows the next task.
            await sim.wait_for(user, is_task, timeout=10)
            await sim.wait_for(user, text_has("how it works"), timeout=10)
            await sim.wait_for(user, is_task, timeout=10)  # the reply to /task
        await wait_until(lambda: sim.pending_updates() == 0, 10, "everything confirmed")
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(timeout=15)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
    answered = await query(db_path, "SELECT COUNT(*) FROM assignments WHERE status = 'answered'")
    assert answered == workers  # stored once each
    assert await query(db_path, "SELECT COUNT(*) FROM ledger") == workers  # paid once each
    assert await query(db_path, "SELECT SUM(amount_micros) FROM ledger") == workers * 20_000
    assert await query(db_path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0
    for user in presses:  # each command replied to once, as the worker sees it
        chat = sim.chat(user)
        helps = [m for m in chat.messages.values() if m.from_bot and "how it works" in m.text]
        assert len(helps) == 1
