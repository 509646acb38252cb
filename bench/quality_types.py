"""Quality per answer type (issue 10): the real WorkService (training, gold, the sequential
test, dynamic overlap) on a temporary SQLite, driven by simulated workers in simulated time, one
pack per type, with 0% and 20% spammers: accuracy of our aggregated result against the hidden
truth, and answers per task (non-gold; and every paid answer, training and gold included).

Workers: half careful, half careless among the non-spammers; spammers half random, half lazy
(the first button, the same set, the text sent back as it came). What "right" means per type:
- single_choice: the label; rating (5 points, tolerance 1): the median is the true point (and,
  in brackets, within one point); multi_choice (4 emotions + "none of these"): the exact set
  (and, in brackets, the mean Jaccard index); text (a sentence to correct, max_cer 0.1): the
  medoid matches the truth after normalisation or within max_cer.

`python -m bench.quality_types` runs it alone; bench/bench_quality.py prints it after part 3.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db import Database
from db.packs import PackInfo
from tasks.answer_types import Reply, Selection, text
from tasks.answer_types.multi_choice import jaccard
from tasks.clock import FakeClock
from tasks.export import export_pack
from tasks.packs import load_pack
from tasks.work import WorkService
from tasks.work_results import TaskCard

TASKS = 150
GOLD = 30
WORKERS = 24
SEEDS = (1, 2, 3)
THINK = (3.0, 10.0)  # seconds per task, alike for every kind: speed never gives anyone away
ACCURACY = {"careful": 0.9, "careless": 0.7}
EMOTIONS = ["joy", "anger", "fear", "surprise", "none"]
WORDS = (
    "le chat dort sur un canapé rouge pendant que la pluie tombe doucement sur la ville et les"
    " enfants jouent dans le jardin avec un ballon bleu avant le dîner du soir"
).split()

Answer = int | Selection | Reply


@dataclass(frozen=True)
class TypeSpec:
    name: str
    header: dict[str, Any]
    truth: Callable[[random.Random], Any]  # a task's hidden truth
    gold: Callable[[Any], Any]  # the truth as a pack's gold
    prompt: Callable[[Any, random.Random], str]  # what the task shows (besides its id)
    answer: Callable[[str, Any, str, random.Random], Answer]  # kind, truth, prompt -> answer
    right: Callable[[str | None, Any], float]  # our label against the truth: 1 right, 0 not
    near: Callable[[str | None, Any], float]  # a softer measure (shown in brackets)


def _typos(rng: random.Random, sentence: str, count: int) -> str:
    chars = list(sentence)
    for _ in range(count):
        i = rng.randrange(len(chars))
        chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return "".join(chars)


def _choice_answer(options: int) -> Callable[[str, Any, str, random.Random], Answer]:
    def answer(kind: str, truth: Any, prompt: str, rng: random.Random) -> Answer:
        if kind == "spammer_first":
            return 0
        if kind == "spammer_random" or rng.random() < 1 - ACCURACY[kind]:
            others = [i for i in range(options) if i != truth]
            return rng.randrange(options) if kind == "spammer_random" else rng.choice(others)
        return int(truth)

    return answer


def _rating_answer(kind: str, truth: Any, prompt: str, rng: random.Random) -> Answer:
    if kind == "spammer_first":
        return 0
    if kind == "spammer_random":
        return rng.randrange(5)
    if rng.random() < ACCURACY[kind]:
        return int(truth)
    off = [i for i in range(5) if 1 <= abs(i - truth) <= (1 if kind == "careful" else 2)]
    return rng.choice(off)


def _mask(labels: Sequence[str]) -> int:
    return sum(1 << EMOTIONS.index(label) for label in labels)


def _multi_truth(rng: random.Random) -> list[str]:
    if rng.random() < 0.2:
        return ["none"]
    return sorted(rng.sample(EMOTIONS[:4], rng.choice((1, 1, 2))), key=EMOTIONS.index)


def _multi_answer(kind: str, truth: Any, prompt: str, rng: random.Random) -> Answer:
    if kind == "spammer_first":
        return Selection(1)  # always "joy"
    if kind == "spammer_random":
        return Selection(_mask(rng.sample(EMOTIONS[:4], rng.randint(1, 2))))
    chosen = set(truth)
    if rng.random() >= ACCURACY[kind]:
        chosen ^= {rng.choice(EMOTIONS[:4])}
        if len(chosen) > 1:
            chosen.discard("none")
        chosen = chosen or {"none"}
    return Selection(_mask(sorted(chosen, key=EMOTIONS.index)))


def _text_truth(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, 6)).capitalize() + "."


def _text_answer(kind: str, truth: Any, prompt: str, rng: random.Random) -> Answer:
    if kind == "spammer_first":
        return Reply(prompt)  # the text to correct, sent back as it came
    if kind == "spammer_random":
        return Reply(_text_truth(rng))
    if rng.random() < ACCURACY[kind]:
        return Reply(truth)
    return Reply(_typos(rng, truth, 1 if kind == "careful" else 4))


TEXT_PACK = PackInfo(
    1, "b", "b", "b", "text", (), 1, "EUR", 3, 600, "active", None, {"max_cer": 0.1}
)


def _text_right(label: str | None, truth: Any) -> float:
    return float(label is not None and text.matches(TEXT_PACK, label, truth))


def _multi_right(label: str | None, truth: Any) -> float:
    return float(label is not None and json.loads(label) == truth)


def _multi_near(label: str | None, truth: Any) -> float:
    return 0.0 if label is None else jaccard(label, json.dumps(truth))


SPECS = [
    TypeSpec(
        "single_choice",
        {"type": "single_choice", "options": [{"id": o, "label": o} for o in "abc"]},
        lambda rng: rng.randrange(3),
        lambda truth: "abc"[truth],
        lambda truth, rng: "",
        _choice_answer(3),
        lambda label, truth: float(label == "abc"[truth]),
        lambda label, truth: float(label == "abc"[truth]),
    ),
    TypeSpec(
        "rating",
        {
            "type": "rating",
            "options": [{"id": str(n), "label": str(n)} for n in range(1, 6)],
            "tolerance": 1,
        },
        lambda rng: rng.randrange(5),
        lambda truth: str(truth + 1),
        lambda truth, rng: "",
        _rating_answer,
        lambda label, truth: float(label == str(truth + 1)),
        lambda label, truth: float(label is not None and abs(int(label) - 1 - truth) <= 1),
    ),
    TypeSpec(
        "multi_choice",
        {
            "type": "multi_choice",
            "options": [{"id": e, "label": e} for e in EMOTIONS],
            "none_of_these": "none",
        },
        _multi_truth,
        lambda truth: truth,
        lambda truth, rng: "",
        _multi_answer,
        _multi_right,
        _multi_near,
    ),
    TypeSpec(
        "text",
        {"type": "text", "options": [], "max_cer": 0.1},
        _text_truth,
        lambda truth: [truth],
        lambda truth, rng: _typos(rng, truth, 3),
        _text_answer,
        _text_right,
        _text_right,
    ),
]


@dataclass(frozen=True)
class Row:
    right: float
    near: float
    answers_per_task: float
    paid_per_task: float


def _crowd(spam_share: float) -> list[str]:
    spammers = round(WORKERS * spam_share)
    honest = WORKERS - spammers
    kinds = ["careful"] * (honest - honest // 2) + ["careless"] * (honest // 2)
    kinds += ["spammer_random"] * (spammers - spammers // 2) + ["spammer_first"] * (spammers // 2)
    return kinds


async def simulate(spec: TypeSpec, spam_share: float, seed: int) -> Row:
    rng = random.Random(seed)
    truth: dict[str, Any] = {}  # task text -> truth
    ids: dict[str, str] = {}
    tasks = []
    for i in range(GOLD + TASKS):
        value = spec.truth(rng)
        task_id = f"g{i}" if i < GOLD else f"t{i}"
        prompt = spec.prompt(value, rng)
        shown = f"{task_id} {prompt}".strip()
        truth[shown], ids[shown] = value, task_id
        task: dict[str, Any] = {"id": task_id, "text": shown}
        if i < GOLD:
            task["gold"] = spec.gold(value)
        tasks.append(task)
    pack = {
        "id": "bench",
        "title": "Bench",
        "instructions": "Answer.",
        "reward": "0.01",
        "overlap": 3,
        "lease_seconds": 600,
        "quality": {"qualification": 3},
        **spec.header,
        "tasks": tasks,
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.json"
        path.write_text(json.dumps(pack), encoding="utf-8")
        clock = FakeClock()
        async with Database(Path(tmp) / "q.sqlite3") as db:
            report = await load_pack(db, path, clock=clock)
            assert report.ok, report.errors
            work = WorkService(db, clock, rng=random.Random(seed))
            kinds = dict(enumerate(_crowd(spam_share), start=1))
            events: list[tuple[float, int, TaskCard]] = []
            start = clock.now()
            for worker in kinds:
                await work.meet(
                    worker, first_name="w", username=None, language_code="en", default_language="en"
                )
                consented = await work.consent(worker)
                assert consented is not None
                if isinstance(consented[1], TaskCard):
                    heapq.heappush(events, (rng.uniform(*THINK), worker, consented[1]))
            while events:
                at, worker, card = heapq.heappop(events)
                clock.advance(seconds=at - (clock.now() - start).total_seconds())
                prompt = card.text.split(" ", 1)[1] if " " in card.text else ""
                given = spec.answer(kinds[worker], truth[card.text], prompt, rng)
                if isinstance(given, Selection):
                    for index in range(len(EMOTIONS)):
                        if given.mask & (1 << index):
                            await work.toggle(
                                worker_id=worker, assignment_id=card.assignment_id, index=index
                            )
                result = await work.answer(
                    worker_id=worker, assignment_id=card.assignment_id, choice=given
                )
                if isinstance(result.next, TaskCard):
                    heapq.heappush(events, (at + rng.uniform(*THINK), worker, result.next))
            out = io.StringIO()
            await export_pack(db, "bench", out, fmt="jsonl")
            labels = {r["task"]: r["label"] for r in map(json.loads, out.getvalue().splitlines())}
            regular = {ids[shown]: value for shown, value in truth.items() if ids[shown][0] == "t"}
            answers = await db.value(
                "SELECT COUNT(*) FROM assignments WHERE status = 'answered' AND is_gold = 0"
            )
            paid = await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'answered'")
    return Row(
        right=statistics.fmean(spec.right(labels.get(t), v) for t, v in regular.items()),
        near=statistics.fmean(spec.near(labels.get(t), v) for t, v in regular.items()),
        answers_per_task=int(answers) / TASKS,
        paid_per_task=int(paid) / TASKS,
    )


def _mean_se(values: Sequence[float]) -> str:
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{mean:.3f} ± {se:.3f}"


async def print_type_table(seeds: Sequence[int] = SEEDS) -> None:
    print(
        f"\n## Answer types: {WORKERS} workers (non-spammers half careful 90%, half careless 70%;"
        f" spammers half random, half lazy), {TASKS} tasks + {GOLD} gold per pack, overlap 3,"
        f" qualification 3; mean ± standard error over {len(seeds)} seeds\n"
    )
    print(
        "| type | spammers | result right | (softer: rating ±1, multi Jaccard) |"
        " non-gold answers/task | paid answers/task (all) |"
    )
    print("|---|---|---|---|---|---|")
    for spec in SPECS:
        for share in (0.0, 0.2):
            rows = [await simulate(spec, share, seed) for seed in seeds]
            print(
                f"| {spec.name} | {share:.0%} | {_mean_se([r.right for r in rows])} |"
                f" {_mean_se([r.near for r in rows])} |"
                f" {_mean_se([r.answers_per_task for r in rows])} |"
                f" {_mean_se([r.paid_per_task for r in rows])} |",
                flush=True,
            )


async def main(argv: Sequence[str]) -> None:
    logging.getLogger("tasks.quality").setLevel(logging.ERROR)  # gold items flagged: expected
    started = time.perf_counter()
    await print_type_table()
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
