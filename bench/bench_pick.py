"""Next-task pick with 1,000,000 tasks and 300,000 answers stored (target: median < 1 ms), in
both orders: nearest to completion first (the usual pick, and tie-breaks for trusted workers)
and fresh first (workers the quality rules route to unstarted tasks, tasks/quality/rules.py).

The store is seeded with plain SQL (a benchmark fixture, not product code): 1,000,000 tasks in one
pack, 300,000 answers from 100,000 workers spread so that many tasks sit at one or two slots
left, the case where the pick must skip tasks the worker has already seen. Then the real pick
(db.assignments.pick) runs for workers who have answered and for new ones.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from db import Database, Tx
from db.assignments import PICK_FRESH_SQL, PICK_SQL, pick
from db.gold import GOLD_PICK_SQL

TASKS = 1_000_000
ANSWERS = 300_000
WORKERS = 100_000
SAMPLES = 2_000


def seed(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    now = "2026-11-26T00:00:00.000000Z"
    options = json.dumps([{"id": "a", "label": "A"}, {"id": "b", "label": "B"}])
    with conn:
        conn.execute(
            "INSERT INTO packs (pk, id, title, instructions, type, options, reward_micros,"
            " currency, overlap, lease_seconds, header, created_at, updated_at)"
            " VALUES (1, 'big', 'Big', 'Pick one', 'single_choice', ?, 20000, 'EUR', 3, 300,"
            " '{}', ?, ?)",
            (options, now, now),
        )
        conn.executemany(
            "INSERT INTO tasks (pk, pack_pk, task_id, content, answers, remaining)"
            " VALUES (?, 1, ?, ?, 0, 3)",
            ((i, f"t{i}", json.dumps({"text": f"task {i}"})) for i in range(1, TASKS + 1)),
        )
        conn.executemany(
            "INSERT INTO workers (id, language, consented_at, created_at, last_seen_at)"
            " VALUES (?, 'fr', ?, ?, ?)",
            ((w, now, now, now) for w in range(1, WORKERS + 2_001)),
        )
        # 300,000 answers over the first 150,000 tasks: each worker answers 3 of them, so most
        # tasks are left at 1 or 2 slots and the head of the pick order is crowded.
        rng = random.Random(1)
        per_task: dict[int, int] = {}
        rows: list[tuple[int, int, int, str, str, str]] = []
        for worker in range(1, WORKERS + 1):
            chosen: set[int] = set()
            while len(chosen) < 3:
                task = rng.randint(1, 150_000)
                if task in chosen or per_task.get(task, 0) >= 3:
                    continue
                chosen.add(task)
                per_task[task] = per_task.get(task, 0) + 1
                rows.append((len(rows) + 1, worker, task, now, now, now))
        conn.executemany(
            "INSERT INTO assignments (id, worker_id, task_pk, pack_pk, status, answer,"
            " delivered_at, expires_at, closed_at) VALUES (?, ?, ?, 1, 'answered', 'a', ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "UPDATE tasks SET answers = ?, remaining = 3 - ? WHERE pk = ?",
            ((n, n, t) for t, n in per_task.items()),
        )
    conn.execute("ANALYZE")
    conn.close()
    print(f"seeded {TASKS:,} tasks, {len(rows):,} answers from {WORKERS:,} workers")


def timed_pick(tx: Tx, worker: int, fresh_first: bool) -> tuple[sqlite3.Row | None, float]:
    """The pick as the answer path runs it, timed on the database thread."""
    started = time.perf_counter()
    row = pick(tx, 1, worker, fresh_first)
    return row, time.perf_counter() - started


async def measure(path: Path) -> None:
    async with Database(path) as db:
        for name, sql, params in (
            ("", PICK_SQL, (1, 1)),
            (" (fresh first)", PICK_FRESH_SQL, (1, 1)),
            (" (gold)", GOLD_PICK_SQL, (1, 0, 1)),
        ):
            plan = await db.query("EXPLAIN QUERY PLAN " + sql, params)
            print(f"query plan{name}:", " | ".join(row["detail"] for row in plan))
        rng = random.Random(2)
        for label, workers, fresh in (
            ("workers with answers", [rng.randint(1, WORKERS) for _ in range(SAMPLES)], False),
            ("new workers", [WORKERS + 1 + rng.randint(0, 1_999) for _ in range(SAMPLES)], False),
            (
                "workers with answers, fresh first",
                [rng.randint(1, WORKERS) for _ in range(SAMPLES)],
                True,
            ),
        ):
            timings = []
            for worker in workers:
                row, seconds = await db.run_read(timed_pick, worker, fresh)
                timings.append(seconds)
                assert row is not None
            timings.sort()
            median = statistics.median(timings) * 1000
            p99 = timings[int(len(timings) * 0.99)] * 1000
            verdict = "ok" if median < 1 else "MISSED"
            print(
                f"next-task pick, {label}: median {median:.3f} ms, p99 {p99:.3f} ms"
                f" (target median < 1 ms: {verdict})"
            )


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pick.sqlite3"
        async with Database(path):
            pass  # creates the schema through the migrations
        started = time.perf_counter()
        seed(path)
        print(f"seeding took {time.perf_counter() - started:.1f} s")
        await measure(path)


if __name__ == "__main__":
    asyncio.run(main())
