"""Migration 009: every standing is re-judged by the sequential test when the bot starts;
workers the old window rule stopped but the test would not have are reinstated and told."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import db.core
from db import Database
from tasks.clock import FakeClock
from tasks.packs import load_pack
from tasks.quality.service import QualityService
from tests.helpers import queued, value

KEYS = ["pos", "neg", "neu"]
R, W = True, False


def pack_file(folder: Path) -> Path:
    tasks = [
        {"id": f"g{i:02}", "text": f"Check {i}", "gold": KEYS[i % 3], "explanation": "Why."}
        for i in range(20)
    ] + [{"id": f"t{i}", "text": f"Task {i}"} for i in range(10)]
    pack = {
        "id": "checked",
        "title": "Checked",
        "instructions": "Pick.",
        "type": "single_choice",
        "options": [{"id": key, "label": key.title()} for key in KEYS],
        "reward": "0.01",
        "quality": {"min_seconds": 0},
        "tasks": tasks,
    }
    path = folder / "checked.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path


# Gold records as the old window rule left them (training: the first five).
RECORDS = {
    # 5/5 in training, then 3 misses in the window of 10: q = 7.5 / 11 < 0.7, suspended.
    1: ("suspended", "accuracy", [R] * 5 + [R, W, R, R, W, W, R, R, R, R]),
    # 3/5 in training: below the pass mark 0.8, failed.
    2: ("failed", "qualification", [R, W, R, W, R]),
    # A random clicker's training, all wrong: failed.
    3: ("failed", "qualification", [W] * 5),
    # A careful worker in good standing.
    4: ("qualified", None, [R] * 5 + [R, R, W, R]),
    # In training, four misses: the old rule had not decided yet; the test would have failed
    # them, but a replay never stops anyone.
    5: ("training", None, [W] * 4),
}


async def at_version_8(path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database as the window rule left it: migrations up to 008, four standings (and 016,
    a table of its own, which today's load_pack writes its steps to)."""
    every = db.core.available_migrations
    monkeypatch.setattr(
        db.core, "available_migrations", lambda: [m for m in every() if m[0] <= 8 or m[0] == 16]
    )
    stamp = "2026-11-30T10:00:00.000000Z"
    async with Database(path) as old:
        assert (await load_pack(old, pack_file(folder), clock=FakeClock())).ok
        gold = await old.query("SELECT pk, gold FROM tasks WHERE gold IS NOT NULL ORDER BY pk")
        plain = await old.query("SELECT pk FROM tasks WHERE gold IS NULL ORDER BY pk")

        def write(tx: db.core.Tx) -> None:
            for worker, (state, reason, record) in RECORDS.items():
                tx.execute(
                    "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
                    " VALUES (?, 'W', 'en', ?, ?)",
                    (worker, stamp, stamp),
                )
                for (pk, key), right in zip(gold, record, strict=False):
                    answer = key if right else KEYS[(KEYS.index(key) + 1) % 3]
                    tx.execute(
                        "INSERT INTO assignments (worker_id, task_pk, pack_pk, status, answer,"
                        " delivered_at, expires_at, closed_at, is_gold)"
                        " VALUES (?, ?, 1, 'answered', ?, ?, ?, ?, 1)",
                        (worker, pk, answer, stamp, stamp, stamp),
                    )
                excluded = int(state == "suspended")  # the old suspension's answers
                for row in plain[:3]:
                    tx.execute(
                        "INSERT INTO assignments (worker_id, task_pk, pack_pk, status, answer,"
                        " delivered_at, expires_at, closed_at, excluded)"
                        " VALUES (?, ?, 1, 'answered', 'pos', ?, ?, ?, ?)",
                        (worker, row[0], stamp, stamp, stamp, excluded),
                    )
                training = record[:5]
                tx.execute(
                    "INSERT INTO worker_quality (worker_id, pack_pk, state, reason, gold_total,"
                    " train_total, train_correct, window_total, window_correct, retry_at,"
                    " updated_at) VALUES (?, 1, ?, ?, ?, 5, ?, 10, 7, ?, ?)",
                    (
                        worker,
                        state,
                        reason,
                        len(record),
                        sum(training),
                        None if state == "qualified" else "2026-12-01T10:00:00.000000Z",
                        stamp,
                    ),
                )

        await old.run(write)

        def correct_g10(tx: db.core.Tx) -> None:
            """Worker 1 disputed g10 and an operator corrected the key to their answer."""
            pk, key = gold[10]
            row = tx.one(
                "SELECT id, answer FROM assignments WHERE worker_id = 1 AND task_pk = ?", (pk,)
            )
            assert row is not None and row[1] != key
            tx.execute(
                "INSERT INTO disputes (assignment_id, worker_id, task_pk, pack_pk, answer,"
                " expected, status, resolution, created_at, resolved_at)"
                " VALUES (?, 1, ?, 1, ?, ?, 'accepted', 'corrected', ?, ?)",
                (row[0], pk, row[1], key, stamp, stamp),
            )
            tx.execute("UPDATE tasks SET gold = ? WHERE pk = ?", (row[1], pk))

        await old.run(correct_g10)
    monkeypatch.setattr(db.core, "available_migrations", every)


async def test_migration_009_rejudges_everyone_and_reinstates_whom_the_test_spares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    await at_version_8(path, tmp_path, monkeypatch)
    async with Database(path) as database:
        assert (
            await value(database, "SELECT COUNT(*) FROM schema_migrations WHERE version = 9") == 1
        )
        assert await value(database, "SELECT SUM(rejudge) FROM worker_quality") == 5
        quality = QualityService(database, FakeClock())
        assert await quality.rejudge_marked() == 2
        rows = await database.query(
            "SELECT worker_id, state, reason, points, retry_at, rejudge FROM worker_quality"
            " ORDER BY worker_id"
        )
        found = {row[0]: tuple(row)[1:] for row in rows}
        # 1: -16 after a clean training, then the window's misses never reach 31: reinstated.
        assert found[1][:2] == ("qualified", None) and found[1][3] is None
        assert found[1][2] < 31
        # 2: -5 +8 -5 +8 -5 = 1 point after training: qualified by the test.
        assert found[2] == ("qualified", None, 1, None, 0)
        # 3: four misses in a row reach 32: the test fails them too; they stay as they were.
        assert found[3][:3] == ("failed", "qualification", 32) and found[3][3] is not None
        # 4: in good standing, rescored (3 misses of 9 around the floor), never suspended.
        assert found[4][:2] == ("qualified", None) and found[4][2] == -13
        # 5: kept in training, one point below the line: their next miss decides.
        assert found[5][:3] == ("training", None, 30)
        assert await value(database, "SELECT SUM(rejudge) FROM worker_quality") == 0
        # The reinstated worker's answers count again.
        assert await value(database, "SELECT SUM(excluded) FROM assignments") == 0
        told = [m for m in await queued(database) if m.text_key == "quality_reinstated"]
        assert sorted(m.worker_id for m in told) == [1, 2]
        two = next(m for m in told if m.worker_id == 2)
        assert two.params == {
            "pack": "Checked",
            "points": 1,
            "limit": 31,
            "miss": 8,
            "right": 5,
            "floor": -16,
            "careful_stopped": pytest.approx(0.00075),
            "golds": 5,
            "rights": 3,
        }
        assert await quality.rejudge_marked() == 0  # once
        # The correction made before the migration is kept for later replaces.
        decided = await database.query(
            "SELECT t.task_id, d.action, d.gold = t.gold FROM"
            " gold_decisions AS d JOIN tasks AS t ON t.pk = d.task_pk"
        )
        assert [tuple(row) for row in decided] == [("g10", "correct", 1)]
