"""Quality control measured: how often the rules stop people by bad luck, and what the results
cost and are worth against crowds with 0%, 20% and 40% spammers.

1. The sequential test alone (tasks/quality/rules.py, the code the bot runs), 10,000 simulated
   workers per kind, 200 gold answers each, training included, three options: the share
   stopped of workers 95/90/80/70% accurate, random clickers (golds until stopped: median,
   p95) and a worker who turns into a random clicker at gold 50 (golds after the switch).
   The same for two, four, five and ten options (the test's p1 follows the option count).
2. The fast-answer and same-button rules, their false positives measured the same way.
3. The real WorkService (gold serving, training, the test, dynamic overlap) on a temporary
   SQLite, driven by simulated workers in simulated time (an event queue and a still clock:
   each worker thinks a few seconds per task; spammers take as long as careless workers, so
   speed never gives them away), over SEEDS seeds: accuracy on the non-gold tasks against the
   hidden truth of our results (the export: skills learned from every counted answer), and, on
   all the answers collected, of majority vote, Dawid-Skene, GLAD, Wawa (bench/aggregators.py)
   and the oracle vote (true accuracies), ties drawn fairly, for the defaults and max_overlap 5;
   every paid answer per task (training and gold included); spammer precision and recall;
   careful workers stopped. Mean and standard error.

4. The frontier: the same crowds for the settings an operator can choose (max_overlap,
   qualification, target_confidence): accuracy against every paid answer per task; and the
   ceiling (each worker's accuracy known exactly, nothing paid for training or gold) that
   says which accuracy the crowd can give at which cost at all.

`python -m bench.bench_quality --crowd-only` runs part 3 alone (it uses only the services'
public API, so the same file measures an older checkout: the "before" of docs/quality.md);
`--press-learned` closes tasks on the skills learned from every answer (issue 19's measurement).
"""

from __future__ import annotations

import asyncio
import heapq
import io
import json
import logging
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import aggregators, quality_types
from bench.quality_rules import print_other_rules, print_suspension_tables
from db import Database
from tasks.clock import FakeClock
from tasks.export import export_pack
from tasks.packs import load_pack
from tasks.quality.dawid_skene import dawid_skene
from tasks.work import WorkService
from tasks.work_results import TaskCard

OPTIONS = ["pos", "neg", "neu"]
TASKS = 600
GOLD = 60
WORKERS = 40
SEEDS = tuple(range(1, 11))
THINK = {  # seconds per task
    "careful": (4.0, 12.0),
    "careless": (3.0, 8.0),
    "spammer_random": (3.0, 8.0),
    "spammer_first": (3.0, 8.0),
}
ACCURACY = {"careful": 0.9, "careless": 0.7}
TRUE_ACCURACY = {**ACCURACY, "spammer_random": 1 / 3, "spammer_first": 1 / 3}


# -- 1 and 2: the rules alone, bench/quality_rules.py --------------------------------------


# -- 3. the crowd through the real services -------------------------------------------------


@dataclass
class Row:
    spam_share: float
    ours: float
    majority: float
    ds: float
    glad: float
    wawa: float
    oracle: float
    careful_share: float  # of the non-gold answers of careful and careless workers
    coverage: float
    answers_per_task: float  # non-gold answers
    paid_per_task: float  # every paid answer: non-gold, gold and training
    precision: float
    recall: float
    careful_stopped: int
    careless_stopped: int
    careful: int
    careless: int


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
            refresh = _skill_refresh(db, clock)
            next_refresh = REFRESH_SECONDS
            while events:
                at, worker, card = heapq.heappop(events)
                clock.advance(seconds=at - (clock.now() - start).total_seconds())
                if refresh is not None and at >= next_refresh:
                    # The bot's background job, every REFRESH_SECONDS (of simulated time).
                    await refresh()
                    next_refresh += REFRESH_SECONDS
                kind = kinds[worker]
                result = await work.answer(
                    worker_id=worker,
                    assignment_id=card.assignment_id,
                    choice=choose(kind, truth[card.text], rng),
                )
                if isinstance(result.next, TaskCard):
                    heapq.heappush(events, (at + rng.uniform(*THINK[kind]), worker, result.next))
            return await measure(db, kinds, truth, spam_share, seed)


REFRESH_SECONDS = 30.0


def _skill_refresh(db: Database, clock: FakeClock) -> Callable[[], Awaitable[object]] | None:
    """The skills' background refresh as the bot's job runs it (None on a checkout without
    it: `--crowd-only` measures older code too)."""
    try:
        from tasks.quality.skills import REFRESH_CHECK_SECONDS, SkillService
    except ImportError:
        return None
    global REFRESH_SECONDS
    REFRESH_SECONDS = float(REFRESH_CHECK_SECONDS)
    return SkillService(db, clock).refresh_due


async def measure(
    db: Database, kinds: dict[int, str], truth: dict[str, str], spam_share: float, seed: int
) -> Row:
    """Our results (the export, as an operator gets them) and, on the same stored answers (every
    non-gold answer collected, counted or not), majority vote, Dawid-Skene, GLAD, Wawa and the
    oracle vote (each worker's true accuracy); every tie broken by a fair draw."""
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
    draw = np.random.default_rng(seed)
    n_workers = len(workers)
    mv = aggregators.majority(t, lab, TASKS, 3, draw)
    ds = aggregators.fair_argmax(dawid_skene(t, w, lab, TASKS, n_workers, 3), draw)
    glad = aggregators.fair_argmax(aggregators.glad(t, w, lab, TASKS, n_workers, 3), draw)
    wawa = aggregators.wawa(t, w, lab, TASKS, n_workers, 3, draw)
    true_q = np.array([TRUE_ACCURACY[kinds[a["worker"]]] for a in plain])
    oracle = aggregators.oracle(t, lab, true_q, TASKS, 3, draw)
    honest = [kinds[a["worker"]] for a in plain if kinds[a["worker"]] in ACCURACY]
    labelled = [task for task in task_ids if ours.get(task)]
    right = np.array([OPTIONS.index(truth[task]) for task in labelled])
    picked = np.array([index[task] for task in labelled])
    ours_ok = np.mean([ours[task] == truth[task] for task in labelled])
    paid = await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'answered'")
    states = {
        row[0]: row[1] for row in await db.query("SELECT worker_id, state FROM worker_quality")
    }
    stopped = {wk for wk, state in states.items() if state in ("failed", "suspended")}
    spammers = {wk for wk, kind in kinds.items() if kind.startswith("spammer")}
    careful = [wk for wk, kind in kinds.items() if kind == "careful"]
    careless = [wk for wk, kind in kinds.items() if kind == "careless"]
    return Row(
        spam_share=spam_share,
        ours=float(ours_ok),
        majority=float(np.mean(mv[picked] == right)),
        ds=float(np.mean(ds[picked] == right)),
        glad=float(np.mean(glad[picked] == right)),
        wawa=float(np.mean(wawa[picked] == right)),
        oracle=float(np.mean(oracle[picked] == right)),
        careful_share=honest.count("careful") / max(len(honest), 1),
        coverage=len(labelled) / TASKS,
        answers_per_task=len(plain) / TASKS,
        paid_per_task=int(paid) / TASKS,
        precision=len(stopped & spammers) / len(stopped) if spammers and stopped else math.nan,
        recall=len(stopped & spammers) / len(spammers) if spammers else math.nan,
        careful_stopped=sum(wk in stopped for wk in careful),
        careless_stopped=sum(wk in stopped for wk in careless),
        careful=len(careful),
        careless=len(careless),
    )


def mean_se(values: Sequence[float]) -> str:
    """mean ± standard error (NaN values left out: a seed where nobody was stopped)."""
    found = [v for v in values if not math.isnan(v)]
    if not found:
        return "n/a"
    mean = statistics.fmean(found)
    se = statistics.stdev(found) / math.sqrt(len(found)) if len(found) > 1 else 0.0
    return f"{mean:.3f} ± {se:.3f}"


MODELS = (("majority", "majority"), ("ds", "Dawid-Skene"), ("glad", "GLAD"), ("wawa", "Wawa"))


def paired(rows: Sequence[Row], name: str) -> str:
    """ours minus a model, per seed on the same answers: mean ± standard error."""
    return mean_se([r.ours - float(getattr(r, name)) for r in rows])


async def print_crowd_table(
    seeds: Sequence[int] = SEEDS,
    quality: Mapping[str, object] | None = None,
    name: str = "default quality settings",
) -> None:
    print(
        f"\n## Crowds: {WORKERS} workers (the non-spammers half careful 90%, half careless 70%;"
        f" spammers half random, half first-button), {TASKS} tasks + {GOLD} gold, overlap 3,"
        f" {name}; mean ± standard error over {len(seeds)} seeds\n"
    )
    print(
        "Ours: the results export (labels from the skills learned on every counted answer);"
        " the models: on the same stored answers, every non-gold answer collected; oracle: each"
        " answer weighed by its worker's true accuracy. Ties: a fair draw.\n"
    )
    print(
        "| spammers | ours | majority | Dawid-Skene | GLAD | Wawa | oracle | labelled |"
        " non-gold answers/task | paid answers/task (all) | spammer precision | recall |"
        " careful stopped | careless stopped | careful share of answers |"
    )
    print("|" + "---|" * 15)
    tables: list[tuple[float, list[Row]]] = []
    for share in (0.0, 0.2, 0.4):
        rows = [await simulate(share, seed, quality or {}) for seed in seeds]
        tables.append((share, rows))

        def cell(name: str, rows: list[Row] = rows) -> str:
            return mean_se([float(getattr(r, name)) for r in rows])

        careful = sum(r.careful_stopped for r in rows), sum(r.careful for r in rows)
        careless = sum(r.careless_stopped for r in rows), sum(r.careless for r in rows)
        print(
            f"| {share:.0%} | {cell('ours')} | {cell('majority')} | {cell('ds')} |"
            f" {cell('glad')} | {cell('wawa')} | {cell('oracle')} |"
            f" {cell('coverage')} | {cell('answers_per_task')} | {cell('paid_per_task')} |"
            f" {cell('precision')} | {cell('recall')} |"
            f" {careful[0]}/{careful[1]} | {careless[0]}/{careless[1]} |"
            f" {cell('careful_share')} |",
            flush=True,
        )
    print(
        "\nOurs minus each model, per seed on the same answers (mean ± standard error of the"
        " difference), and the ceiling for the answer mix collected:\n"
    )
    print(
        "| spammers | − majority | − Dawid-Skene | − GLAD | − Wawa | − oracle |"
        " seeds ours ≥ best model | ceiling (fair ties) at this mix, as many answers at most |"
    )
    print("|" + "---|" * 8)
    most = int(str((quality or {}).get("max_overlap", 3)))
    for share, rows in tables:
        best = sum(r.ours >= max(float(getattr(r, m)) for m, _ in MODELS) for r in rows)
        mix = statistics.fmean(r.careful_share for r in rows)
        ceiling, cost = accuracy_ceiling(mix, max_answers=most)
        print(
            f"| {share:.0%} | "
            + " | ".join(paired(rows, m) for m in ("majority", "ds", "glad", "wawa", "oracle"))
            + f" | {best}/{len(rows)} | {ceiling:.3f} at {cost:.2f} answers/task"
            f" ({mix:.1%} careful) |",
            flush=True,
        )


def careful_answer_share(careful_workers: float = 0.5) -> float:
    """The share of answers careful workers give when every worker answers as fast as they
    think (the bench's THINK times): careless workers are quicker, so they give more."""
    careful = careful_workers / statistics.fmean(THINK["careful"])
    careless = (1 - careful_workers) / statistics.fmean(THINK["careless"])
    return careful / (careful + careless)


def accuracy_ceiling(
    careful_share: float,
    tasks: int = 200_000,
    seed: int = 5,
    max_answers: int = 3,
    target: float = 0.9,
) -> tuple[float, float]:
    """The best a crowd of careful (90%) and careless (70%) workers can do if every worker's
    accuracy were known exactly and no one were stopped: two answers, then one more at a time
    until the one-coin posterior of the leading label reaches `target` or `max_answers` are in,
    the label of highest posterior, ties split fairly (a tie of two counts half right: the
    expected accuracy of a fair draw; the simulated truth is always label 0, so `argmax`, which
    takes the lowest index, would hand every tie to the truth). `careful_share`: the share of
    answers from careful workers, each answer's worker drawn independently. Returns
    (accuracy, answers/task)."""
    rng = np.random.default_rng(seed)
    q = np.where(rng.random((tasks, max_answers)) < careful_share, 0.9, 0.7)
    right = rng.random((tasks, max_answers)) < q
    votes = np.where(right, 0, rng.integers(1, 3, (tasks, max_answers)))
    weight = np.log(2 * q / (1 - q))
    rows = np.arange(tasks)
    score = np.zeros((tasks, 3))
    open_ = np.ones(tasks, dtype=bool)
    used = np.zeros(tasks)
    for k in range(max_answers):
        np.add.at(score, (rows[open_], votes[open_, k]), weight[open_, k])
        used += open_
        top = score.max(axis=1, keepdims=True)
        posterior = 1 / np.exp(score - top).sum(axis=1)
        if k >= 1:
            open_ &= posterior < target
    top = score.max(axis=1, keepdims=True)
    tied = score >= top - 1e-9
    return float((tied[:, 0] / tied.sum(axis=1)).mean()), float(used.mean())


def print_ceiling() -> None:
    share = careful_answer_share()
    print(
        "\n## Ceiling: careful and careless workers, all kept, each one's accuracy known"
        " exactly, no training, no gold: answers per task against accuracy (one-coin posterior"
        " closing)\n"
    )
    print(
        f"Careful workers give {share:.0%} of the answers in part 3's crowd (half the workers,"
        " but slower).\n"
    )
    print("| careful share of answers | max answers | target | accuracy | answers/task |")
    print("|---|---|---|---|---|")
    for careful in (share, 0.5, 0.75, 1.0):
        for most, target in ((3, 0.9), (4, 0.9), (5, 0.9), (5, 0.95), (6, 0.98)):
            if careful != share and (most, target) != (3, 0.9):
                continue
            accuracy, answers = accuracy_ceiling(careful, max_answers=most, target=target)
            print(f"| {careful:.0%} | {most} | {target:g} | {accuracy:.3f} | {answers:.2f} |")


FRONTIER: tuple[tuple[str, dict[str, object]], ...] = (
    ("defaults", {}),
    ("qualification 3", {"qualification": 3}),
    (
        "qualification 3, gold_ratio 0.05, gold_floor 0.01",
        {"qualification": 3, "gold_ratio": 0.05, "gold_floor": 0.01},
    ),
    ("max_overlap 4", {"max_overlap": 4}),
    ("max_overlap 5", {"max_overlap": 5}),
    ("max_overlap 5, qualification 3", {"max_overlap": 5, "qualification": 3}),
    ("max_overlap 5, target_confidence 0.95", {"max_overlap": 5, "target_confidence": 0.95}),
    (
        "max_overlap 4, qualification 3, gold_ratio 0.05, gold_floor 0.01",
        {"max_overlap": 4, "qualification": 3, "gold_ratio": 0.05, "gold_floor": 0.01},
    ),
    (
        "max_overlap 5, qualification 3, gold_ratio 0.05, gold_floor 0.01",
        {"max_overlap": 5, "qualification": 3, "gold_ratio": 0.05, "gold_floor": 0.01},
    ),
)


async def print_frontier(seeds: Sequence[int] = SEEDS) -> None:
    """Cost against accuracy for the settings an operator can choose (quality block)."""
    print(
        f"\n## Frontier: accuracy (ours) and every paid answer per task, per pack setting;"
        f" mean over {len(seeds)} seeds (± standard error)\n"
    )
    print(
        "| settings | 0%: accuracy | paid/task | 20%: accuracy | paid/task | 40%: accuracy |"
        " paid/task |"
    )
    print("|" + "---|" * 7)
    for name, quality in FRONTIER:
        cells = []
        for share in (0.0, 0.2, 0.4):
            rows = [await simulate(share, seed, quality) for seed in seeds]
            cells.append(mean_se([r.ours for r in rows]))
            cells.append(mean_se([r.paid_per_task for r in rows]))
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


async def main(argv: Sequence[str]) -> None:
    started = time.perf_counter()
    # Gold items most workers miss are flagged for review (a warning the bot logs for the
    # operator): expected here, where careless workers and spammers miss them.
    logging.getLogger("tasks.quality").setLevel(logging.ERROR)
    if "--crowd-only" not in argv:
        print_suspension_tables()
        print_other_rules()
        print_ceiling()
        print(f"\n(tables 1-2: {time.perf_counter() - started:.1f} s)")
    if "--press-learned" in argv:
        # Closing on the skills learned from every answer (the background refresh) instead of
        # the gold accuracy: measured, not kept (docs/quality.md, "Labels from every answer").
        from tasks.quality import results

        results.PRESS_USES_LEARNED_SKILLS = True
        print("\n(presses weigh votes by the learned skills: --press-learned)")
    await print_crowd_table()
    await print_crowd_table(quality={"max_overlap": 5}, name="max_overlap 5")
    if "--crowd-only" not in argv:
        await print_frontier()
        await quality_types.print_type_table()  # issue 10: one row per answer type
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
