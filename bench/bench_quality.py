"""Quality against crowds with 0%, 20% and 40% spammers (half random, half first-button).

The real WorkService (gold serving, qualification, trust, suspensions, dynamic overlap) on a
temporary SQLite, driven by simulated workers in simulated time (an event queue and a still
clock: each worker thinks a few seconds per task; spammers take as long as careless workers,
so speed gives them away). Printed for each crowd: accuracy on the non-gold tasks against the
hidden truth of our results (trust-weighted, counted answers), of plain majority vote and of
Dawid-Skene on all the answers collected; answers spent per task; spammer detection precision
and recall; careful workers wrongly suspended (and, apart, careful workers who failed training).
"""

from __future__ import annotations

import asyncio
import heapq
import io
import json
import random
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from db import Database
from tasks.clock import FakeClock
from tasks.export import export_pack
from tasks.packs import load_pack
from tasks.quality.dawid_skene import dawid_skene, majority_vote
from tasks.work import TaskCard, WorkService

OPTIONS = ["pos", "neg", "neu"]
TASKS = 600
GOLD = 60
WORKERS = 40
SEEDS = (1, 2)
THINK = {  # seconds per task
    "careful": (4.0, 12.0),
    "careless": (3.0, 8.0),
    "spammer_random": (3.0, 8.0),
    "spammer_first": (3.0, 8.0),
}
ACCURACY = {"careful": 0.9, "careless": 0.7}


@dataclass
class Row:
    spam_share: float
    ours: float
    majority: float
    ds: float
    coverage: float
    answers_per_task: float
    with_gold_per_task: float
    precision: float
    recall: float
    careful_suspended: int
    careful_failed: int
    careful: int


def write_pack(
    folder: Path, rng: random.Random, quality: Mapping[str, object]
) -> tuple[Path, dict[str, str]]:
    truth: dict[str, str] = {}
    tasks = []
    for i in range(GOLD):
        label = OPTIONS[i % 3]
        truth[f"g{i}"] = label
        tasks.append({"id": f"g{i}", "text": f"g{i}", "gold": label, "explanation": "Because."})
    for i in range(TASKS):
        label = rng.choice(OPTIONS)
        truth[f"t{i}"] = label
        tasks.append({"id": f"t{i}", "text": f"t{i}"})
    pack = {
        "id": "bench",
        "title": "Bench",
        "instructions": "Pick.",
        "type": "single_choice",
        "options": [{"id": o, "label": o} for o in OPTIONS],
        "reward": "0.01",
        "overlap": 3,
        "lease_seconds": 600,
        "quality": quality,
        "tasks": tasks,
    }
    path = folder / "bench.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path, truth


def choose(kind: str, truth: str, rng: random.Random) -> int:
    if kind == "spammer_first":
        return 0
    if kind == "spammer_random":
        return rng.randrange(3)
    right = OPTIONS.index(truth)
    if rng.random() < ACCURACY[kind]:
        return right
    return rng.choice([i for i in range(3) if i != right])


def crowd(spam_share: float) -> list[str]:
    spammers = round(WORKERS * spam_share)
    honest = WORKERS - spammers
    kinds = ["careful"] * (honest - honest // 2) + ["careless"] * (honest // 2)
    kinds += ["spammer_random"] * (spammers - spammers // 2) + ["spammer_first"] * (spammers // 2)
    return kinds


async def simulate(spam_share: float, seed: int, quality: Mapping[str, object]) -> Row:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pack, truth = write_pack(folder, rng, quality)
        clock = FakeClock()
        async with Database(folder / "q.sqlite3") as db:
            assert (await load_pack(db, pack, clock=clock)).ok
            work = WorkService(db, clock, rng=random.Random(seed))
            kinds = dict(enumerate(crowd(spam_share), start=1))
            events: list[tuple[float, int, TaskCard]] = []
            start = clock.now()
            for worker, kind in kinds.items():
                await work.meet(
                    worker, first_name="w", username=None, language_code="en", default_language="en"
                )
                consented = await work.consent(worker)
                assert consented is not None
                card = consented[1]
                if isinstance(card, TaskCard):
                    heapq.heappush(events, (rng.uniform(*THINK[kind]), worker, card))
            while events:
                at, worker, card = heapq.heappop(events)
                clock.advance(seconds=at - (clock.now() - start).total_seconds())
                kind = kinds[worker]
                result = await work.answer(
                    worker_id=worker,
                    assignment_id=card.assignment_id,
                    choice=choose(kind, truth[card.text], rng),
                )
                if isinstance(result.next, TaskCard):
                    heapq.heappush(events, (at + rng.uniform(*THINK[kind]), worker, result.next))
            return await measure(db, kinds, truth, spam_share)


async def measure(
    db: Database, kinds: dict[int, str], truth: dict[str, str], spam_share: float
) -> Row:
    results = io.StringIO()
    await export_pack(db, "bench", results, fmt="jsonl")
    raw = io.StringIO()
    await export_pack(db, "bench", raw, fmt="jsonl", raw=True)
    ours = {r["task"]: r["label"] for r in map(json.loads, results.getvalue().splitlines())}
    task_ids = [f"t{i}" for i in range(TASKS)]
    index = {task: i for i, task in enumerate(task_ids)}
    answers = [a for a in map(json.loads, raw.getvalue().splitlines())]
    plain = [a for a in answers if a["task"] in index]
    workers = {w: i for i, w in enumerate(sorted({a["worker"] for a in plain}))}
    t = np.array([index[a["task"]] for a in plain], dtype=np.int64)
    w = np.array([workers[a["worker"]] for a in plain], dtype=np.int64)
    lab = np.array([OPTIONS.index(a["label"]) for a in plain], dtype=np.int64)
    mv = majority_vote(t, lab, TASKS, 3)
    ds = dawid_skene(t, w, lab, TASKS, len(workers), 3).argmax(axis=1)
    labelled = [task for task in task_ids if ours.get(task)]
    right = np.array([OPTIONS.index(truth[task]) for task in labelled])
    picked = np.array([index[task] for task in labelled])
    ours_ok = np.mean([ours[task] == truth[task] for task in labelled])
    states = {
        row[0]: row[1] for row in await db.query("SELECT worker_id, state FROM worker_quality")
    }
    stopped = {wk for wk, state in states.items() if state in ("failed", "suspended")}
    spammers = {wk for wk, kind in kinds.items() if kind.startswith("spammer")}
    careful = [wk for wk, kind in kinds.items() if kind == "careful"]
    return Row(
        spam_share=spam_share,
        ours=float(ours_ok),
        majority=float(np.mean(mv[picked] == right)),
        ds=float(np.mean(ds[picked] == right)),
        coverage=len(labelled) / TASKS,
        answers_per_task=len(plain) / TASKS,
        with_gold_per_task=len(answers) / TASKS,
        precision=len(stopped & spammers) / len(stopped) if spammers and stopped else -1.0,
        recall=len(stopped & spammers) / len(spammers) if spammers else 1.0,
        careful_suspended=sum(states.get(wk) == "suspended" for wk in careful),
        careful_failed=sum(states.get(wk) == "failed" for wk in careful),
        careful=len(careful),
    )


def average(rows: list[Row]) -> Row:
    def mean(name: str) -> float:
        return float(sum(getattr(r, name) for r in rows)) / len(rows)

    return Row(
        spam_share=rows[0].spam_share,
        ours=mean("ours"),
        majority=mean("majority"),
        ds=mean("ds"),
        coverage=mean("coverage"),
        answers_per_task=mean("answers_per_task"),
        with_gold_per_task=mean("with_gold_per_task"),
        precision=mean("precision") if rows[0].precision >= 0 else -1.0,
        recall=mean("recall"),
        careful_suspended=sum(r.careful_suspended for r in rows),
        careful_failed=sum(r.careful_failed for r in rows),
        careful=sum(r.careful for r in rows),
    )


async def main() -> None:
    started = time.perf_counter()
    print(
        f"{WORKERS} workers (the non-spammers half careful 90%, half careless 70%), {TASKS} tasks"
        f" + {GOLD} gold, overlap 3, default quality settings; mean of seeds {SEEDS}"
    )
    header = (
        "| settings | spammers | ours | majority | Dawid-Skene | labelled | answers/task (+gold) |"
        " spammer precision | recall | careful suspended | careful failed training |"
    )
    print(header)
    print("|" + "---|" * 11)
    for name, quality in (("defaults", {}), ("window 20", {"window": 20})):
        for share in (0.0, 0.2, 0.4):
            row = average([await simulate(share, seed, quality) for seed in SEEDS])
            precision = f"{row.precision:.0%}" if row.precision >= 0 else "n/a"
            recall = f"{row.recall:.0%}" if share else "n/a"
            print(
                f"| {name} | {share:.0%} | {row.ours:.1%} | {row.majority:.1%} | {row.ds:.1%} |"
                f" {row.coverage:.0%} | {row.answers_per_task:.2f} ({row.with_gold_per_task:.2f}) |"
                f" {precision} | {recall} |"
                f" {row.careful_suspended}/{row.careful} | {row.careful_failed}/{row.careful} |"
            )
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
