"""Labels from every answer (issue 19): each worker's skill learned by an EM over all the pack's
answers, anchored by the gold (tasks/quality/em.py), stored per pack (tasks/quality/skills.py),
read by the presses, refreshed in the background and on demand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from db import Database
from db import answers as answers_db
from db import skills as skills_db
from db.skills import SkillRun
from tasks.clock import FakeClock
from tasks.quality import results
from tasks.quality.em import PRIOR_ANSWERS, one_coin_em
from tasks.quality.rules import trust_weight
from tasks.quality.skills import REFRESH_MIN_NEW, SkillService
from tasks.work import WorkService
from tests.helpers import GoldPack, honest, newcomer, work_on

IntArray = NDArray[np.int64]
Arrays = tuple[IntArray, IntArray, IntArray, IntArray, IntArray]


def crowd(seed: int, tasks: int = 300, gold_items: int = 20) -> Arrays:
    """8 careful (90%) and 8 careless (65%) workers, 3 answers per task, 3 options; each worker
    answered only 4 gold items (few) and about 56 ordinary tasks (many). Returns items,
    workers, labels, gold (per item, -1 when not gold), truth (per item)."""
    rng = np.random.default_rng(seed)
    accuracy = np.array([0.9] * 8 + [0.65] * 8)
    truth = rng.integers(0, 3, tasks + gold_items)
    items: list[int] = []
    workers: list[int] = []
    for task in range(tasks):
        for worker in rng.choice(16, 3, replace=False):
            items.append(task)
            workers.append(int(worker))
    for worker in range(16):
        for item in rng.choice(gold_items, 4, replace=False):
            items.append(tasks + int(item))
            workers.append(worker)
    item_array, worker_array = np.array(items), np.array(workers)
    right = rng.random(len(items)) < accuracy[worker_array]
    shift = rng.integers(1, 3, len(items))
    labels = np.where(right, truth[item_array], (truth[item_array] + shift) % 3)
    gold = np.full(tasks + gold_items, -1)
    gold[tasks:] = truth[tasks:]
    return item_array, worker_array, labels, gold, truth


def gold_only_labels(
    items: IntArray, workers: IntArray, labels: IntArray, gold: IntArray, tasks: int
) -> IntArray:
    """The labels of the per-press rule: each vote weighs by the worker's smoothed gold
    accuracy, (0.5 + right) / (1 + answered), as trust_weight."""
    on_gold = gold[items] >= 0
    right = np.bincount(
        workers[on_gold], weights=labels[on_gold] == gold[items[on_gold]], minlength=16
    )
    answered = np.bincount(workers[on_gold], minlength=16)
    accuracy = (0.5 + right) / (1 + answered)
    weights = np.array([trust_weight(q, 3) for q in accuracy])[workers]
    plain = items < tasks
    scores = np.zeros((tasks, 3))
    np.add.at(scores, (items[plain], labels[plain]), weights[plain])
    best: IntArray = scores.argmax(axis=1)
    return best


def test_the_em_beats_the_gold_only_weights_when_workers_have_few_gold_answers() -> None:
    tasks = 300
    em_scores, gold_scores = [], []
    for seed in range(6):
        items, workers, labels, gold, truth = crowd(seed, tasks)
        fit = one_coin_em(items, workers, labels, gold, 16, 3)
        em_scores.append(float((fit.posterior[:tasks].argmax(axis=1) == truth[:tasks]).mean()))
        by_gold = gold_only_labels(items, workers, labels, gold, tasks)
        gold_scores.append(float((by_gold == truth[:tasks]).mean()))
        # The skills learned tell the careful from the careless.
        assert fit.skills[:8].mean() > 0.83 and fit.skills[8:].mean() < 0.72
        assert (fit.posterior[tasks:].argmax(axis=1) == truth[tasks:]).all()  # the anchors
    # Four gold answers cannot tell 90% from 65%; sixty answers can: 2.5 points better on
    # average over these seeds (measured: 91.1% against 87.3%), and better on each.
    assert np.mean(em_scores) > np.mean(gold_scores) + 0.025
    assert all(em > by_gold for em, by_gold in zip(em_scores, gold_scores, strict=True))


def lucky_spammer(seed: int) -> tuple[float, float, float, float]:
    """Ten honest workers (five 90%, five 70%), five gold answers each; a random clicker who
    got all five of theirs right (luck) then answers 40 of the 120 tasks at random, beside two
    honest workers (the others get three). Returns the spammer's skill by the fit and by the
    gold alone, and the share of the spammer's tasks labelled right by each."""
    rng = np.random.default_rng(seed)
    tasks, gold_items, honest_workers = 120, 20, 10
    accuracy = np.array([0.9] * 5 + [0.7] * 5)
    truth = rng.integers(0, 3, tasks + gold_items)
    items: list[int] = []
    workers: list[int] = []
    labels: list[int] = []

    def answer(item: int, worker: int, right: float) -> None:
        shift = 0 if rng.random() < right else int(rng.integers(1, 3))
        items.append(item)
        workers.append(worker)
        labels.append((int(truth[item]) + shift) % 3)

    spammed = sorted(int(task) for task in rng.choice(tasks, 40, replace=False))
    for task in range(tasks):
        picked = rng.choice(honest_workers, 2 if task in spammed else 3, replace=False)
        for worker in picked:
            answer(task, int(worker) + 1, float(accuracy[worker]))
        if task in spammed:
            answer(task, 0, 1 / 3)
    for worker in range(honest_workers):
        for item in rng.choice(gold_items, 5, replace=False):
            answer(tasks + int(item), worker + 1, float(accuracy[worker]))
    for item in rng.choice(gold_items, 5, replace=False):
        answer(tasks + int(item), 0, 1.0)  # lucky
    item_array, worker_array, label_array = np.array(items), np.array(workers), np.array(labels)
    gold = np.full(tasks + gold_items, -1)
    gold[tasks:] = truth[tasks:]
    fit = one_coin_em(item_array, worker_array, label_array, gold, honest_workers + 1, 3)
    on_gold = gold[item_array] >= 0
    right = np.bincount(
        worker_array[on_gold],
        weights=label_array[on_gold] == gold[item_array[on_gold]],
        minlength=honest_workers + 1,
    )
    answered = np.bincount(worker_array[on_gold], minlength=honest_workers + 1)
    by_gold = (0.5 + right) / (1 + answered)
    weights = np.array([trust_weight(q, 3) for q in by_gold])[worker_array]
    scores = np.zeros((tasks, 3))
    plain = item_array < tasks
    np.add.at(scores, (item_array[plain], label_array[plain]), weights[plain])
    em_right = float((fit.posterior[spammed].argmax(axis=1) == truth[spammed]).mean())
    gold_right = float((scores[spammed].argmax(axis=1) == truth[spammed]).mean())
    return float(fit.skills[0]), float(by_gold[0]), em_right, gold_right


def test_a_spammer_with_lucky_gold_does_not_fool_it() -> None:
    skills, em_right, gold_right = [], [], []
    for seed in range(4):
        skill, by_gold, on_em, on_gold = lucky_spammer(seed)
        # The gold alone says 5.5 / 6 = 0.92, above every careful worker; the 40 random answers
        # bring the fit towards chance (the five lucky answers still count).
        assert by_gold == pytest.approx(5.5 / 6)
        assert skill < 0.6
        assert on_em > on_gold
        skills.append(skill)
        em_right.append(on_em)
        gold_right.append(on_gold)
    assert np.mean(skills) < 0.5
    # On the tasks the spammer answered, the gold-only weights follow them (measured: 72.5% of
    # labels right), the fit the honest workers (87.5%).
    assert np.mean(em_right) > 0.85 and np.mean(gold_right) < 0.75


def test_a_new_worker_with_three_answers_is_not_trusted_blindly() -> None:
    items, workers, labels, gold, _ = crowd(1)
    # Worker 16 answers three tasks, each with the crowd's leading answer.
    fit0 = one_coin_em(items, workers, labels, gold, 16, 3)
    picks = [0, 1, 2]
    leading = [int(fit0.posterior[task].argmax()) for task in picks]
    fit = one_coin_em(
        np.concatenate([items, picks]),
        np.concatenate([workers, [16, 16, 16]]),
        np.concatenate([labels, leading]),
        gold,
        17,
        3,
    )
    newcomer_skill = fit.skills[16]
    assert fit.answers[16] == 3
    # Three right answers of three: the prior (PRIOR_ANSWERS answers at the crowd's pooled gold
    # accuracy) holds the skill well below the careful workers' and far from 1.
    expected = (PRIOR_ANSWERS * fit.prior_mean + 3 * 0.95) / (PRIOR_ANSWERS + 3)
    assert newcomer_skill == pytest.approx(expected, abs=0.03)
    assert newcomer_skill < fit.skills[:8].mean() and newcomer_skill < 0.9


def test_a_rating_is_right_within_the_tolerance() -> None:
    # Five points, tolerance 1: a worker one point off is right, as on the gold.
    items = np.array([0, 0, 1, 1, 2])
    workers = np.array([0, 1, 0, 1, 0])
    labels = np.array([2, 3, 4, 4, 0])
    gold = np.array([2, 4, 0])
    fit = one_coin_em(items, workers, labels, gold, 2, 5, tolerance=1)
    assert fit.skills[1] > 0.6  # 3 for a gold 2 and 4 for 4: both right within one point
    strict = one_coin_em(items, workers, labels, gold, 2, 5, tolerance=0)
    assert strict.skills[1] < fit.skills[1]


async def test_refresh_stores_the_fit_and_presses_read_it(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack, db: Database
) -> None:
    truth = await gold_pack(tasks=30, gold=12, quality={"gold_ratio": 0.2})
    for worker in (1, 2, 3):
        card = await newcomer(work, worker)
        await work_on(work, clock, worker, card, honest(truth), 20)
    service = SkillService(db, clock)
    due = [pack.id for pack in await service.due()]
    answered = await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'answered'")
    assert (due == ["checked"]) == (answered >= REFRESH_MIN_NEW)
    fit = await service.refresh((await work.active_packs())[0])
    assert fit is not None and fit.run.answers == answered and fit.run.method == "one_coin_em"
    rows = await db.query("SELECT worker_id, skill, answers, computed_at FROM worker_skills")
    assert sorted(row[0] for row in rows) == [1, 2, 3]
    assert all(row[1] > 0.8 and row[3] == fit.run.computed_at for row in rows)
    assert await service.due() == []  # nothing new since
    # Presses weigh votes by the gold accuracy (closing on the learned skills saved nothing
    # measurable); with `learned` they read each answerer's skill, one lookup more.
    task_pk = await db.value("SELECT pk FROM tasks WHERE gold IS NULL AND answers > 0 LIMIT 1")
    plain = await db.run_read(answers_db.task_votes, task_pk)
    learned = await db.run_read(answers_db.task_votes, task_pk, True)
    assert plain.answers and all(skill is None for _, _, skill in plain.answers)
    assert learned.answers and all(skill is not None for _, _, skill in learned.answers)
    assert not results.PRESS_USES_LEARNED_SKILLS
    assert results.vote_accuracy(0.6, None) == 0.6 and results.vote_accuracy(None, None) == 0.5


async def test_an_older_fit_never_replaces_a_newer_one(db: Database, gold_pack: GoldPack) -> None:
    await gold_pack(tasks=3, gold=6)
    pack_pk = await db.value("SELECT pk FROM packs")
    await db.run(
        lambda tx: tx.execute(
            "INSERT INTO workers (id, language, created_at, last_seen_at)"
            " VALUES (7, 'en', 'x', 'x')"
        )
    )

    def run(last: int, stamp: str) -> SkillRun:
        return SkillRun(pack_pk, "one_coin_em", stamp, 10, last, 1, 2, 1, 3, 0.01, 0.8, "{}")

    assert await db.run(skills_db.store_run, run(20, "new"), [(7, 0.9, 10)])
    assert not await db.run(skills_db.store_run, run(10, "old"), [(7, 0.1, 5)])
    assert await db.run_read(skills_db.worker_skills, pack_pk) == {7: 0.9}
    latest = await db.run_read(skills_db.latest_run, pack_pk)
    assert latest is not None and latest.computed_at == "new"


async def test_packs_reaggregate_from_the_shell(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack, db: Database, tmp_path: Path
) -> None:
    truth = await gold_pack(tasks=20, gold=10)
    for worker in (1, 2):
        card = await newcomer(work, worker)
        await work_on(work, clock, worker, card, honest(truth), 15)
    env = {**os.environ, "DATABASE_PATH": str(db.path), "PTB_TIMEDELTA": "1"}
    env.pop("BOT_TOKEN", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )

    done = cli("packs", "reaggregate", "checked")
    assert done.returncode == 0, done.stderr
    answered = await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'answered'")
    assert f"pack checked re-aggregated (one_coin_em): {answered} answers" in done.stdout
    assert "labels that differ from the ones set at each press: 0 of" in done.stdout
    stored = await db.query("SELECT answers, priors FROM skill_runs")
    assert stored[0][0] == answered and set(json.loads(stored[0][1])) == {"pos", "neg", "neu"}
    missing = cli("packs", "reaggregate", "nope")
    assert missing.returncode == 1 and "no pack 'nope'" in missing.stderr
    assert "Traceback" not in missing.stderr
