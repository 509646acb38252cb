"""Exports an operator hands to a data team, and the disputes command, from the shell."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from db import Database, to_db_time
from tasks.clock import FakeClock
from tasks.export import export_pack
from tasks.packs import load_pack
from tasks.spreadsheet import neutralise
from tasks.work import WorkService
from tasks.work_results import TaskCard
from tests.helpers import OPTIONS


async def answered_pack(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    """Two workers answer every task of a small pack (one task id looks like a formula)."""
    tasks = [{"id": "=HYPERLINK(1)", "text": "evil id"}]
    tasks += [{"id": f"t{i}", "text": f"task {i}"} for i in range(3)]
    pack = {
        "id": "small",
        "title": "Small",
        "instructions": "Pick.",
        "type": "single_choice",
        "options": OPTIONS,
        "reward": "0.02",
        "overlap": 2,
        "quality": {"min_seconds": 0},
        "tasks": tasks,
    }
    path = tmp_path / "small.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    assert (await load_pack(db, path, clock=clock)).ok
    work = WorkService(db, clock, rng=random.Random(1))
    for worker in (1, 2):
        await work.meet(
            worker, first_name="W", username=None, language_code="en", default_language="en"
        )
        consented = await work.consent(worker)
        assert consented is not None
        card = consented[1]
        while isinstance(card, TaskCard):
            clock.advance(seconds=4)
            result = await work.answer(worker_id=worker, assignment_id=card.assignment_id, choice=0)
            card = result.next  # type: ignore[assignment]


def test_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert (
        neutralise("+33 6") == "'+33 6" and neutralise("-2") == "'-2" and neutralise("@x") == "'@x"
    )
    assert neutralise("plain") == "plain"


async def test_results_export_gives_a_label_confidence_and_votes_per_task(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await answered_pack(db, clock, tmp_path)
    out = io.StringIO()
    count = await export_pack(db, "small", out, fmt="csv", clock=clock)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count.rows == 4 and len(rows) == 4
    assert list(rows[0]) == [
        "task", "label", "confidence", "answers", "votes_pos", "votes_neg", "votes_neu",
        "gold", "ds_label", "ds_confidence", "method", "computed_at",
    ]  # fmt: skip
    assert rows[0]["task"] == "'=HYPERLINK(1)"
    # The export re-aggregated the pack: each worker's skill was learned from all their answers
    # (the EM), stored with its time, and the labels say which method and when.
    stamp = to_db_time(clock.now())
    assert (count.method, count.computed_at) == ("one_coin_em", stamp)
    assert all(r["method"] == "one_coin_em" and r["computed_at"] == stamp for r in rows)
    skills = await db.query("SELECT worker_id, skill, answers FROM worker_skills ORDER BY 1")
    # No gold: the prior's centre stays 0.5 (agreement alone never raises it), and four
    # answers each move it part of the way: (4 x 0.5 + 4 x ~0.99) / 8, about 0.74.
    assert [(row[0], row[2]) for row in skills] == [(1, 4), (2, 4)]
    assert all(0.72 < row[1] < 0.76 for row in skills)
    # The confidence is the label's posterior under those skills (and the learned class
    # shares: every task looks "pos"): far surer than the gold-only 4 / (4 + 1 + 1), below 1.
    assert all(r["label"] == "pos" and r["answers"] == "2" for r in rows)
    assert all(0.95 < float(r["confidence"]) < 0.995 for r in rows)
    assert all(
        r["votes_pos"] == "2" and r["votes_neg"] == "0" and r["gold"] == "false" for r in rows
    )
    assert all(r["ds_label"] == "pos" for r in rows)

    lines = io.StringIO()
    await export_pack(db, "small", lines, fmt="jsonl")
    first = json.loads(lines.getvalue().splitlines()[0])
    assert first["task"] == "=HYPERLINK(1)" and first["votes"] == {"pos": 2, "neg": 0, "neu": 0}


async def test_raw_export_has_the_columns_crowd_kit_reads(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await answered_pack(db, clock, tmp_path)
    out = io.StringIO()
    await export_pack(db, "small", out, fmt="csv", raw=True)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 8
    assert list(rows[0])[:3] == ["task", "worker", "label"]
    assert {r["worker"] for r in rows} == {"1", "2"} and rows[0]["seconds"] == "4.0"
    assert rows[0]["counted"] == "true" and rows[0]["gold"] == "false" and rows[0]["correct"] == ""


async def test_the_shell_exports_and_lists_disputes(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await answered_pack(db, clock, tmp_path)
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

    out_file = tmp_path / "results.jsonl"
    done = cli("export", "small", "--format", "jsonl", "--out", str(out_file))
    assert done.returncode == 0, done.stderr
    assert len(out_file.read_text(encoding="utf-8").splitlines()) == 4
    missing = cli("export", "nope")
    assert missing.returncode == 1 and "no pack 'nope'" in missing.stderr
    listed = cli("disputes")
    assert listed.returncode == 0 and "no open dispute" in listed.stdout
    refused = cli("disputes", "reject", "7", "--reason", "x")
    assert refused.returncode == 1 and "no dispute #7" in refused.stderr


async def test_an_export_refits_only_when_the_answers_changed(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    # The chat's /export and the CLI's must give the same bytes: a second export on the same
    # answers keeps the stored fit (and its time); a new answer makes the next one refit.
    await answered_pack(db, clock, tmp_path)
    first, second = io.StringIO(), io.StringIO()
    await export_pack(db, "small", first, fmt="csv", clock=clock)
    clock.advance(seconds=60)
    await export_pack(db, "small", second, fmt="csv", clock=clock)
    assert first.getvalue() == second.getvalue()
    await db.run(lambda tx: tx.execute("UPDATE assignments SET excluded = 1 WHERE id = 1"))
    third = io.StringIO()
    count = await export_pack(db, "small", third, fmt="csv", clock=clock)
    assert count.computed_at == to_db_time(clock.now()) and third.getvalue() != first.getvalue()
