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

from bot.simulator import CAREFUL, Crowd, SimulatorServer
from db import Database
from tasks.clock import Clock
from tasks.packs import load_pack

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
