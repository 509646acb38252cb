"""A crowd on the real bot through the simulator: careful and careless workers, spammers, and a
check question whose answer key is wrong."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

import bot.jobs
from bot.app import build_application, start_polling, stop_polling
from bot.settings import load_settings
from db import Database
from handlers.deps import KEY
from simulator import CAREFUL, CARELESS, SPAMMER_FIRST, SPAMMER_RANDOM, Crowd, SimulatorServer
from simulator.profiles import truth_oracle
from tasks.clock import Clock
from tasks.packs import load_pack
from tests.helpers import OPTIONS

BAD_GOLD = "g00"
BOT_SEED = 1
SPAMMERS = ("spammer_random", "spammer_first")


def write_pack(folder: Path) -> tuple[Path, dict[str, str]]:
    """400 reviews and 12 check questions; g00's key is wrong. Returns the truth by text."""
    labels = [option["label"] for option in OPTIONS]
    ids = [option["id"] for option in OPTIONS]
    truth: dict[str, str] = {}
    tasks = []
    for i in range(12):
        text = f"Check review {i}: the answer is {labels[i % 3]}"
        truth[text] = labels[i % 3]
        key = ids[(i + 1) % 3] if f"g{i:02d}" == BAD_GOLD else ids[i % 3]
        tasks.append({"id": f"g{i:02d}", "text": text, "gold": key, "explanation": "Read it."})
    for i in range(400):  # more than the crowd can finish: work never runs out
        text = f"Review {i}: the answer is {labels[i % 3]}"
        truth[text] = labels[i % 3]
        tasks.append({"id": f"t{i:03d}", "text": text})
    pack = {
        "id": "checked",
        "title": "Checked reviews",
        "instructions": "Pick the sentiment the text names.",
        "type": "single_choice",
        "options": OPTIONS,
        "reward": "0.02",
        "overlap": 3,
        # The simulated crowd answers in milliseconds: speed says nothing here.
        "quality": {"min_seconds": 0},
        "tasks": tasks,
    }
    path = folder / "checked.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path, truth


async def standings(db_path: Path) -> dict[int, Any]:
    async with Database(db_path) as db:
        rows = await db.query("SELECT * FROM worker_quality")
    return {row["worker_id"]: dict(row) for row in rows}


async def gold_record(db_path: Path, worker_id: int) -> list[tuple[str, bool, int]]:
    """(task, right, review flag) of each gold answer of a worker: to explain a failure."""
    async with Database(db_path) as db:
        rows = await db.query(
            "SELECT t.task_id, a.answer = t.gold, t.review FROM assignments AS a"
            " JOIN tasks AS t ON t.pk = a.task_pk WHERE a.worker_id = ? AND a.is_gold = 1"
            " AND a.status = 'answered' ORDER BY a.id",
            (worker_id,),
        )
    return [(row[0], bool(row[1]), row[2]) for row in rows]


async def value(db_path: Path, sql: str) -> Any:
    async with Database(db_path) as db:
        rows = await db.query(sql)
    return rows[0][0] if rows else None


async def test_spammers_are_stopped_careful_workers_are_not_and_a_bad_check_is_flagged(
    sim: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.jobs, "LEASE_CHECK_SECONDS", 0.2)
    db_path = tmp_path / "bot.sqlite3"
    pack, truth = write_pack(tmp_path)
    async with Database(db_path) as db:
        assert (await load_pack(db, pack, clock=Clock())).ok
    settings = load_settings(
        bot_token=sim.token, telegram_api_url=sim.base_url, database_path=db_path, _env_file=None
    )
    app = build_application(settings)
    # Fixed seeds: each worker's gold draws depend only on the seed and their own answers, so
    # the run is reproducible. The sequential test stops a 90% worker by bad luck in 0.07% of
    # cases over 200 check questions (bench/bench_quality.py measures it).
    app.bot_data[KEY].work.quality.picker.seed = BOT_SEED
    await start_polling(app)
    crowd = Crowd(sim, truth_oracle(truth), seed=11, max_answers=30)  # spammers: 80
    kinds: dict[int, str] = {}
    for profile, count in ((CAREFUL, 8), (CARELESS, 4), (SPAMMER_RANDOM, 3), (SPAMMER_FIRST, 3)):
        limit = 80 if profile.kind in SPAMMERS else None  # a spammer goes on until stopped
        for uid in crowd.add(profile, count, max_answers=limit):
            kinds[uid] = profile.kind
    try:
        await crowd.start()
        for _ in range(120):
            await asyncio.sleep(0.5)
            found = await standings(db_path)
            spammers_in = [
                uid
                for uid, kind in kinds.items()
                if kind in SPAMMERS
                and found.get(uid, {}).get("state") not in ("failed", "suspended")
            ]
            flagged = await value(db_path, f"SELECT review FROM tasks WHERE task_id = '{BAD_GOLD}'")
            if not spammers_in and flagged:
                break
        else:
            seen = {
                uid: (kinds[uid], row["state"], row["gold_total"]) for uid, row in found.items()
            }
            pytest.fail(f"after 60 s: spammers in {spammers_in}, flagged={flagged}: {seen}")
        await asyncio.sleep(1.0)  # let the careful workers go on a little
    finally:
        await crowd.stop()
        await stop_polling(app)

    found = await standings(db_path)
    for uid, kind in kinds.items():
        standing = found[uid]
        if kind in SPAMMERS:
            assert standing["state"] in ("failed", "suspended"), (uid, kind, standing)
            assert standing["decided_gold"] <= 10, (uid, kind, standing)
        if kind == "careful":
            record = await gold_record(db_path, uid)
            assert standing["state"] != "suspended", f"{uid} {standing} {record}"

    disputed_by = await value(
        db_path,
        "SELECT COUNT(*) FROM disputes AS d JOIN tasks AS t ON t.pk = d.task_pk"
        f" WHERE t.task_id = '{BAD_GOLD}'",
    )
    assert disputed_by >= 1
    assert await value(db_path, f"SELECT review FROM tasks WHERE task_id = '{BAD_GOLD}'") == 1
    assert sum(crowd.stats[uid].disputes for uid in kinds if kinds[uid] == "careful") >= 1

    # Nothing told a check question apart before the answer: every task button had one shape.
    shapes = {
        re.sub(r"\d+", "N", button.callback_data or "")
        for uid in kinds
        for event in sim.chat(uid).events
        if event.message is not None and event.message.buttons_with_prefix("a:")
        for button in event.message.buttons
    }
    assert shapes == {"a:N:N", "s:N"}

    # Spammers' answers no longer count in the results.
    counted_spam = await value(
        db_path,
        "SELECT COUNT(*) FROM assignments AS a JOIN worker_quality AS q"
        " ON q.worker_id = a.worker_id AND q.pack_pk = a.pack_pk"
        " WHERE q.state = 'suspended' AND a.is_gold = 0 AND a.excluded = 0"
        " AND a.id > q.good_until_id AND a.status = 'answered'",
    )
    assert counted_spam == 0
