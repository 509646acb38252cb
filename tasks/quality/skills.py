"""Workers' skills learned from all their answers, per pack, kept in the database (migration
017): refreshed in the background as a pack's answers grow, on demand (`python -m bot packs
reaggregate PACK`) and at each results export.

A refresh never holds the writer long: the pack's counted answers are read in one read
transaction, the EM (tasks/quality/em.py) runs in a worker thread, off the event loop and off the
database's thread, and the fit is written in one short transaction (a row per worker). An answer
press only reads its task's answerers' rows (db/answers.py `task_votes`).

Per answer type (docs/quality.md, "Labels from every answer"):
- single_choice: one-coin EM over the options; a worker's skill is P(right).
- rating: the same EM where "right" is within the pack's tolerance (what the gold counts as
  right); the result stays the trust-weighted median, the skills as its weights.
- multi_choice: each option of each task is a yes/no item; the skill is P(right) per option; the
  result stays the options kept by more than half the trust, the skills as the weights.
- text: no fit (no discrete labels to learn from); votes keep the gold accuracy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

import numpy as np

from db import Database, Tx, to_db_time
from db import packs as packs_db
from db import skills as skills_db
from db.skills import PackAnswers, SkillRun
from tasks.answer_types import multi_choice, rating
from tasks.clock import Clock
from tasks.packs import PackInfo
from tasks.quality.em import Fit, one_coin_em

log = logging.getLogger(__name__)

METHOD = "one_coin_em"
FITTED_TYPES = frozenset({"single_choice", "rating", "multi_choice"})
REFRESH_GROWTH = 0.1  # a pack's fit is refreshed once its answers grew by 10% ...
REFRESH_MIN_NEW = 50  # ... and by at least 50 answers (the first fit: at 50 answers)
REFRESH_CHECK_SECONDS = 30  # how often the bot's job looks for packs due (bot/jobs.py)


@dataclass(frozen=True)
class Encoded:
    """A pack's answers as the EM's arrays. Items are tasks (multi_choice: task x option)."""

    items: np.ndarray  # type: ignore[type-arg]
    workers: np.ndarray  # type: ignore[type-arg]
    labels: np.ndarray  # type: ignore[type-arg]
    gold: np.ndarray  # type: ignore[type-arg]
    worker_ids: list[int]
    task_pks: list[int]  # of each task index (multi_choice: item // options)
    classes: list[str]
    tolerance: int
    tasks: int
    gold_answers: int


def encode(pack: PackInfo, found: PackAnswers) -> Encoded:
    """The answers as item, worker and class indices; answers that name no option (a pack
    replaced since) are left out."""
    option_ids = [option.id for option in pack.options]
    position = {option: i for i, option in enumerate(option_ids)}
    worker_index: dict[int, int] = {}
    task_index: dict[int, int] = {}
    items: list[int] = []
    workers: list[int] = []
    labels: list[int] = []
    gold: list[int] = []
    gold_answers = 0
    multi = pack.type == "multi_choice"
    n = len(option_ids)
    for task_pk, worker_id, answer in zip(
        found.task_pks, found.worker_ids, found.answers, strict=True
    ):
        key = found.gold.get(task_pk)
        if multi:
            chosen = multi_choice.decode(answer)
            if not chosen or any(option not in position for option in chosen):
                continue
            bits = [0] * n
            for option in chosen:
                bits[position[option]] = 1
        elif answer not in position:
            continue
        task = task_index.get(task_pk)
        if task is None:
            task = task_index[task_pk] = len(task_index)
            if multi:
                wanted = set(multi_choice.decode(key)) if key is not None else None
                gold += [-1 if wanted is None else int(o in wanted) for o in option_ids]
            else:
                gold.append(position.get(key, -1) if key is not None else -1)
        worker = worker_index.setdefault(worker_id, len(worker_index))
        gold_answers += key is not None
        if multi:
            items += range(task * n, task * n + n)
            workers += [worker] * n
            labels += bits
        else:
            items.append(task)
            workers.append(worker)
            labels.append(position[answer])
    return Encoded(
        items=np.array(items, dtype=np.int64),
        workers=np.array(workers, dtype=np.int64),
        labels=np.array(labels, dtype=np.int64),
        gold=np.array(gold, dtype=np.int64),
        worker_ids=list(worker_index),
        task_pks=list(task_index),
        classes=["no", "yes"] if multi else option_ids,
        tolerance=rating.tolerance(pack) if pack.type == "rating" else 0,
        tasks=len(task_index),
        gold_answers=gold_answers,
    )


@dataclass(frozen=True)
class PackFit:
    run: SkillRun
    skills: list[tuple[int, float, int]]  # (worker, skill, answers)
    fit: Fit | None
    data: Encoded


def changed_labels(pack: PackInfo, fit: PackFit, press: dict[int, str]) -> tuple[int, int]:
    """single_choice: how many of the tasks with a label set at the presses (`press`, by task
    pk) the fit labels otherwise, and how many were compared ((0, 0) for other types)."""
    if pack.type != "single_choice" or fit.fit is None:
        return 0, 0
    best = fit.fit.posterior.argmax(axis=1)
    changed = compared = 0
    for index, task_pk in enumerate(fit.data.task_pks):
        label = press.get(task_pk)
        if label is not None:
            compared += 1
            changed += label != fit.data.classes[int(best[index])]
    return changed, compared


def fit_pack(pack: PackInfo, found: PackAnswers, computed_at: str) -> PackFit:
    """The EM over the pack's answers (pure: runs in a worker thread)."""
    started = time.perf_counter()
    data = encode(pack, found)
    n_classes = len(data.classes)
    fit = None
    if len(data.items) and n_classes >= 2:
        fit = one_coin_em(
            data.items,
            data.workers,
            data.labels,
            data.gold,
            len(data.worker_ids),
            n_classes,
            tolerance=data.tolerance,
        )
    seconds = time.perf_counter() - started
    skills: list[tuple[int, float, int]] = []
    priors: dict[str, float] = {}
    if fit is not None:
        count = fit.answers // (len(pack.options) if pack.type == "multi_choice" else 1)
        skills = [
            (worker_id, float(fit.skills[i]), int(count[i]))
            for i, worker_id in enumerate(data.worker_ids)
        ]
        shares = zip(data.classes, fit.priors, strict=True)
        priors = {name: round(float(share), 6) for name, share in shares}
    run = SkillRun(
        pack_pk=pack.pk,
        method=METHOD,
        computed_at=computed_at,
        answers=len(found.answers),
        last_answer_id=found.last_answer_id,
        workers=len(data.worker_ids),
        tasks=data.tasks,
        gold_answers=data.gold_answers,
        iterations=0 if fit is None else fit.iterations,
        seconds=round(seconds, 6),
        prior_mean=0.5 if fit is None else round(fit.prior_mean, 6),
        priors=json.dumps(priors),
    )
    return PackFit(run, skills, fit, data)


class SkillService:
    """Fits and stores each pack's skills; one refresh per pack at a time in this process."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or Clock()
        self._locks: dict[int, asyncio.Lock] = {}

    async def refresh(self, pack: PackInfo) -> PackFit | None:
        """Fits the pack's skills on its answers as they are now and stores them (None: a type
        without a fit). Read, fit and write are three steps: answers given meanwhile wait for
        the next refresh; a fit that finishes after a newer one is not stored."""
        if pack.type not in FITTED_TYPES:
            return None
        lock = self._locks.setdefault(pack.pk, asyncio.Lock())
        async with lock:
            found = await self.db.run_read(skills_db.pack_answers, pack.pk)
            now = to_db_time(self.clock.now())
            result = await asyncio.to_thread(fit_pack, pack, found, now)
            await self.db.run(skills_db.store_run, result.run, result.skills)
        return result

    async def refresh_if_changed(self, pack: PackInfo) -> PackFit | None:
        """`refresh`, unless the stored fit read exactly the pack's counted answers as they are
        now (the same count, the same newest answer): then it stands (an export twice in a row
        writes the same bytes). None: nothing refitted."""
        if pack.type not in FITTED_TYPES:
            return None
        run, now = await self.db.run_read(_run_and_counted, pack.pk)
        if run is not None and (run.answers, run.last_answer_id) == now:
            return None
        return await self.refresh(pack)

    async def due(self) -> list[PackInfo]:
        """Active packs whose answers grew by REFRESH_GROWTH (and REFRESH_MIN_NEW) since their
        last fit: two cheap reads per pack (the fit's row, an index range count)."""
        return await self.db.run_read(_due_packs)

    async def refresh_due(self) -> list[PackFit]:
        fits = []
        for pack in await self.due():
            result = await self.refresh(pack)
            if result is not None:
                fits.append(result)
        return fits


def _run_and_counted(tx: Tx, pack_pk: int) -> tuple[SkillRun | None, tuple[int, int]]:
    return skills_db.latest_run(tx, pack_pk), skills_db.counted(tx, pack_pk)


def _due_packs(tx: Tx) -> list[PackInfo]:
    runs = skills_db.all_runs(tx)
    due = []
    for pack in packs_db.active_packs(tx):
        if pack.type not in FITTED_TYPES:
            continue
        run = runs.get(pack.pk)
        after = 0 if run is None else run.last_answer_id
        new = skills_db.answers_after(tx, pack.pk, after)
        grown = 0.0 if run is None else REFRESH_GROWTH * run.answers
        wanted = max(REFRESH_MIN_NEW, grown)
        if new >= wanted:
            due.append(pack)
    return due
