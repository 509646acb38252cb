"""Re-aggregating a big pack (issue 19): a single-choice pack with 100,000 counted answers (500
workers, 30,000 tasks + 3,000 gold, three answers per task, 20 gold answers per worker),
written straight into SQLite, then re-aggregated as `python -m bot packs reaggregate` does it
(tasks/quality/skills.py: one read transaction, the EM in a worker thread, one short write
transaction), step by step, best of three.

Floors, measured in the same run on the same answers: reading them (the read step alone is the
floor of any method) and Dawid-Skene (tasks/quality/dawid_skene.py, what the export already ran
over every answer). The write transaction is what the bot's single writer waits for.

    python -m bench.bench_reaggregate
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from db import Database, Tx
from db import packs as packs_db
from db import skills as skills_db
from tasks.clock import Clock
from tasks.packs import load_pack
from tasks.quality.dawid_skene import dawid_skene
from tasks.quality.skills import SkillService, encode, fit_pack

WORKERS = 500
TASKS = 30_000
GOLD = 3_000
PER_TASK = 3
GOLD_EACH = 20
OPTIONS = ["pos", "neg", "neu"]
STAMP = "2026-12-01T00:00:00.000000Z"


def write_pack(folder: Path) -> Path:
    path = folder / "big.jsonl"
    header = {
        "id": "big",
        "title": "Big",
        "instructions": "Pick.",
        "type": "single_choice",
        "options": [{"id": o, "label": o} for o in OPTIONS],
        "reward": "0.01",
        "overlap": PER_TASK,
        "quality": {"min_seconds": 0},
    }
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n")
        for i in range(GOLD):
            out.write(json.dumps({"id": f"g{i}", "text": f"g{i}", "gold": OPTIONS[i % 3]}) + "\n")
        for i in range(TASKS):
            out.write(json.dumps({"id": f"t{i}", "text": f"t{i}"}) + "\n")
    return path


async def fill(db: Database, pack_pk: int) -> int:
    """The answers, as the bot stores them (status answered, counted); returns how many."""
    rng = random.Random(19)
    accuracy = [0.9 if w % 2 else 0.7 for w in range(WORKERS)]
    pks = {
        row[0]: row[1]
        for row in await db.query("SELECT task_id, pk FROM tasks WHERE pack_pk = ?", (pack_pk,))
    }
    truth = {f"g{i}": i % 3 for i in range(GOLD)}
    truth.update({f"t{i}": rng.randrange(3) for i in range(TASKS)})
    rows = []

    def answer(worker: int, task_id: str, gold: bool) -> None:
        right = truth[task_id]
        label = right if rng.random() < accuracy[worker] else (right + rng.randrange(1, 3)) % 3
        rows.append(
            (
                worker + 1,
                pks[task_id],
                pack_pk,
                "answered",
                OPTIONS[label],
                STAMP,
                STAMP,
                STAMP,
                int(gold),
                5.0,
            )
        )

    for i in range(TASKS):
        for worker in rng.sample(range(WORKERS), PER_TASK):
            answer(worker, f"t{i}", False)
    for worker in range(WORKERS):
        for i in rng.sample(range(GOLD), GOLD_EACH):
            answer(worker, f"g{i}", True)

    def insert(tx: Tx) -> None:
        conn = tx.conn
        conn.executemany(
            "INSERT INTO workers (id, language, created_at, last_seen_at) VALUES (?, 'en', ?, ?)",
            [(w + 1, STAMP, STAMP) for w in range(WORKERS)],
        )
        conn.executemany(
            "INSERT INTO assignments (worker_id, task_pk, pack_pk, status, answer, delivered_at,"
            " expires_at, closed_at, is_gold, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    await db.run(insert)
    return len(rows)


def best(times: list[float]) -> float:
    return min(times)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with Database(folder / "big.sqlite3") as db:
            report = await load_pack(db, write_pack(folder), clock=Clock())
            assert report.ok, report.errors
            pack = await db.run_read(packs_db.pack_by_id, "big")
            assert pack is not None
            count = await fill(db, pack.pk)
            reads, fits, writes, totals, floors, ds_times = [], [], [], [], [], []
            iterations = 0
            for _ in range(3):
                started = time.perf_counter()
                await db.run_read(
                    lambda tx: tx.all(
                        "SELECT a.id, a.task_pk, a.worker_id, a.answer FROM assignments AS a"
                        " WHERE a.pack_pk = ? AND a.status = 'answered' AND a.excluded = 0",
                        (pack.pk,),
                    )
                )
                floors.append(time.perf_counter() - started)

                started = time.perf_counter()
                found = await db.run_read(skills_db.pack_answers, pack.pk)
                read = time.perf_counter()
                result = await asyncio.to_thread(fit_pack, pack, found, STAMP)
                fitted = time.perf_counter()
                await db.run(skills_db.store_run, result.run, result.skills)
                written = time.perf_counter()
                reads.append(read - started)
                fits.append(fitted - read)
                writes.append(written - fitted)
                iterations = result.run.iterations

                data = encode(pack, found)
                started = time.perf_counter()
                dawid_skene(
                    data.items,
                    data.workers,
                    data.labels,
                    data.tasks,
                    len(data.worker_ids),
                    len(OPTIONS),
                )
                ds_times.append(time.perf_counter() - started)

                started = time.perf_counter()
                await SkillService(db).refresh(pack)
                totals.append(time.perf_counter() - started)
            skills = await db.run_read(skills_db.worker_skills, pack.pk)
            careful = np.mean([skills[w + 1] for w in range(WORKERS) if w % 2])
            careless = np.mean([skills[w + 1] for w in range(WORKERS) if not w % 2])
    print(
        f"re-aggregating a pack of {count:,} answers ({WORKERS} workers, {TASKS:,} tasks +"
        f" {GOLD:,} gold), best of 3:"
    )
    print(
        f"  packs reaggregate (SkillService.refresh): {best(totals):.2f} s = read"
        f" {best(reads):.2f} s + EM {best(fits):.2f} s (arrays and {iterations} iterations,"
        " in a thread)"
        f" + write {best(writes) * 1000:.0f} ms (the writer's only wait)"
    )
    print(
        f"  floors: reading the answers alone {best(floors):.2f} s"
        f" (refresh / read: {best(totals) / best(floors):.1f}x);"
        f" Dawid-Skene on the same arrays {best(ds_times):.2f} s"
        f" (EM / Dawid-Skene: {best(fits) / best(ds_times):.2f}x)"
    )
    print(f"  skills learned: careful (90%) {careful:.3f}, careless (70%) {careless:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
