"""Exports of each answer type read back as crowd-kit reads them (`task`, `worker`, `label`
columns; a text pack's `text` column), with the csv module only; and dynamic overlap per type
(a text task wants more answers while they disagree)."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

from db import Database
from tasks.answer_types import Reply, Selection
from tasks.clock import FakeClock
from tasks.export import export_pack
from tasks.packs import load_pack
from tasks.work import WorkService
from tasks.work_results import AnswerResult, TaskCard

EMOTIONS = [{"id": "joy", "label": "Joy"}, {"id": "anger", "label": "Anger"}]
SCALE = [{"id": str(n), "label": str(n)} for n in range(1, 6)]
QUALITY = {"qualification": 0, "gold_ratio": 0, "min_seconds": 0, "min_overlap": 3}


async def _pack(db: Database, clock: FakeClock, tmp_path: Path, **header: Any) -> None:
    pack = {
        "id": "p",
        "title": "P",
        "instructions": "Answer.",
        "reward": "0.01",
        "overlap": 3,
        "quality": QUALITY,
        **header,
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    assert (await load_pack(db, path, clock=clock)).ok


async def _answer_all(work: WorkService, clock: FakeClock, answers: dict[int, list[Any]]) -> None:
    """Each worker answers their tasks in order with the given answers (int: a button)."""
    for worker, given in answers.items():
        await work.meet(
            worker, first_name="W", username=None, language_code="en", default_language="en"
        )
        consented = await work.consent(worker)
        assert consented is not None
        card = consented[1]
        for value in given:
            assert isinstance(card, TaskCard)
            clock.advance(seconds=5)
            if isinstance(value, Selection):
                for index in range(4):
                    if value.mask & (1 << index):
                        await work.toggle(
                            worker_id=worker, assignment_id=card.assignment_id, index=index
                        )
            result: AnswerResult = await work.answer(
                worker_id=worker, assignment_id=card.assignment_id, choice=value
            )
            card = result.next  # type: ignore[assignment]


async def _csv(db: Database, raw: bool) -> list[dict[str, str]]:
    out = io.StringIO()
    await export_pack(db, "p", out, raw=raw)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


async def test_multi_choice_export(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    tasks = [{"id": "a", "text": "x"}, {"id": "g", "text": "y", "gold": ["joy"]}]
    await _pack(db, clock, tmp_path, type="multi_choice", options=EMOTIONS, tasks=tasks)
    work = WorkService(db, clock, rng=random.Random(1))
    await _answer_all(
        work, clock, {1: [Selection(0b11)], 2: [Selection(0b01)], 3: [Selection(0b01)]}
    )
    raw = await _csv(db, raw=True)
    assert {"task", "worker", "label", "jaccard"} <= set(raw[0])
    assert sorted(json.loads(row["label"]) == ["joy"] for row in raw) == [False, True, True]
    results = {row["task"]: row for row in await _csv(db, raw=False)}
    assert json.loads(results["a"]["label"]) == ["joy"]  # anger: 1 of 3, not kept
    assert float(results["a"]["share_joy"]) == 1.0
    assert abs(float(results["a"]["share_anger"]) - 1 / 3) < 1e-3
    assert abs(float(results["a"]["confidence_anger"]) - 2 / 3) < 1e-3  # left out, 2/3 sure
    assert float(results["a"]["confidence"]) == float(results["a"]["confidence_anger"])
    gold_rows = [row for row in raw if row["gold"] == "true"]
    for row in gold_rows:  # Jaccard against the gold, on gold answers
        assert row["jaccard"] in ("1.0", "0.5")


async def test_rating_export(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    tasks = [{"id": "a", "text": "x"}]
    await _pack(db, clock, tmp_path, type="rating", options=SCALE, tasks=tasks)
    work = WorkService(db, clock, rng=random.Random(1))
    await _answer_all(work, clock, {1: [1], 2: [3], 3: [4]})
    raw = await _csv(db, raw=True)
    assert [(row["task"], row["label"]) for row in raw] == [("a", "2"), ("a", "4"), ("a", "5")]
    (result,) = await _csv(db, raw=False)
    # weighted quantiles (the lowest position reaching the share): Q1 = 2, Q3 = 5
    assert result["label"] == "4" and result["median"] == "4" and result["iqr"] == "3"
    assert {"votes_1", "votes_5", "ds_label"} <= set(result)


async def test_text_export_and_dynamic_overlap(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    tasks = [{"id": "a", "text": "le chat dor"}, {"id": "b", "text": "il pleu"}]
    await _pack(db, clock, tmp_path, type="text", options=[], max_cer=0.1, overlap=5, tasks=tasks)
    work = WorkService(db, clock, rng=random.Random(1))
    given = {
        1: [Reply("Le chat dort."), Reply("Il pleut.")],
        2: [Reply("le chat dort"), Reply("Il neige.")],
        3: [Reply("Le chat dors."), Reply("Il fait beau.")],
    }
    await _answer_all(work, clock, given)
    raw = await _csv(db, raw=True)
    assert {"task", "worker", "label", "text"} <= set(raw[0])
    assert all(row["text"] == row["label"] for row in raw)
    results = {row["task"]: row for row in await _csv(db, raw=False)}
    assert results["a"]["label"] == "Le chat dort."  # the medoid
    assert float(results["a"]["confidence"]) == 1.0  # within max_cer of it: all three
    assert float(results["b"]["confidence"]) < 0.5
    # Dynamic overlap: the agreeing task is closed, the disagreeing one wants more answers.
    state = {
        row[0]: (row[1], row[2])
        for row in await db.query("SELECT task_id, done, remaining FROM tasks ORDER BY task_id")
    }
    assert state["a"] == (1, 0)
    assert state["b"] == (0, 1)  # one more answer at a time, up to the overlap (5)
