"""Loading packs into a real (temporary) SQLite database: all or nothing, replaces, duplicates."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from db import Database
from db import packs as db_packs
from tasks.clock import FakeClock
from tasks.packs import errors, load_pack, reader
from tests.helpers import LOADED_AT, add_answer, json_task_line, make_tasks, table, write_pack_file

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "samples" / "demo-reviews.json"


# -- a new pack --------------------------------------------------------------------------------


async def test_load_creates_pack_and_tasks(db: Database, tmp_path: Path, clock: FakeClock) -> None:
    tasks = [*make_tasks(4), {"id": "g", "text": "gold", "gold": "pos", "explanation": "Happy."}]
    seen: list[tuple[int, int, int]] = []
    report = await load_pack(
        db,
        write_pack_file(
            tmp_path / "p.json",
            tasks,
            description="Short reviews.",
            lease_seconds=120,
            quality={"qualification": 1, "gold_ratio": 0},  # one gold task: one to train on
        ),
        clock=clock,
        on_progress=lambda *args: seen.append(args),
    )
    assert report.ok and report.created and not report.replaced
    assert (report.tasks_added, report.tasks_updated, report.tasks_retired) == (5, 0, 0)
    assert report.tasks_total == 5
    assert report.budget_micros == 5 * 3 * 20_000 and report.currency == "EUR"
    assert seen and seen[-1][0] == seen[-1][1] and seen[-1][2] == 5

    info = await db.run_read(db_packs.pack_by_id, "reviews")
    assert info is not None
    assert [(pack.id, pack.status) for pack in await db.run_read(db_packs.all_packs)] == [
        ("reviews", "active")
    ]
    assert info.title == "Reviews" and info.type == "single_choice" and info.status == "active"
    assert [option.id for option in info.options] == ["pos", "neg", "neu"]
    assert info.option_label("neg") == "Negative"
    assert (info.reward_micros, info.currency, info.overlap, info.lease_seconds) == (
        20_000,
        "EUR",
        3,
        120,
    )
    assert info.description == "Short reviews."
    assert info.header["reward"] == "0.02" and info.header["top_up"] is False
    assert await table(db, "SELECT created_at, updated_at FROM packs") == [(LOADED_AT, LOADED_AT)]

    rows = await table(
        db,
        "SELECT task_id, content, gold, explanation, answers, remaining, retired FROM tasks"
        " ORDER BY pk",
    )
    assert [r[0] for r in rows] == ["t0", "t1", "t2", "t3", "g"]
    assert json.loads(rows[0][1]) == {"text": "review 0 <b>&amp;</b> «ok»"}
    assert "«ok»" in rows[0][1]  # stored as UTF-8, not \u escapes
    # A gold task takes no overlap slots: it is served by the gold pick, once to each worker.
    assert rows[4][2:] == ("pos", "Happy.", 0, 0, 0)
    assert all(r[4:] == (0, 3, 0) for r in rows[:4])


async def test_sample_pack_loads(db: Database, clock: FakeClock) -> None:
    report = await load_pack(db, SAMPLE, clock=clock)
    assert report.ok and report.pack_id == "demo-reviews"
    assert report.budget_micros == report.tasks_total * 3 * 20_000


# -- refused: nothing imported, every error listed ---------------------------------------------


async def test_reload_without_replace_is_refused(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    path = write_pack_file(tmp_path / "p.jsonl", make_tasks(3))
    assert (await load_pack(db, path, clock=clock)).ok
    report = await load_pack(db, path, clock=clock)
    assert not report.ok
    (error,) = report.errors
    assert error.message == (
        'pack "reviews" already exists; use --replace to update it (answers already given are kept)'
    )
    assert await table(db, "SELECT COUNT(*) FROM packs") == [(1,)]
    assert await table(db, "SELECT COUNT(*) FROM tasks") == [(3,)]


async def test_bad_pack_imports_nothing(db: Database, tmp_path: Path, clock: FakeClock) -> None:
    tasks = [*make_tasks(3), {"id": "t1", "text": "dup"}, {"id": "x", "text": "x", "gold": "?"}]
    report = await load_pack(db, write_pack_file(tmp_path / "p.jsonl", tasks), clock=clock)
    assert not report.ok and report.tasks_total == 0
    assert [(e.line, e.task_id, e.field) for e in report.errors] == [
        (5, "t1", "id"),
        (6, "x", "gold"),
    ]
    assert "first on line 3" in report.errors[0].message
    assert await table(db, "SELECT COUNT(*) FROM packs") == [(0,)]
    assert await table(db, "SELECT COUNT(*) FROM tasks") == [(0,)]


async def test_duplicate_ids_name_both_lines(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    pack = [{"id": "x", "text": "one"}, {"id": "y", "text": "two"}, {"id": "x", "text": "three"}]
    report = await load_pack(db, write_pack_file(tmp_path / "pack.json", pack), clock=clock)
    (error,) = report.errors
    assert (error.line, error.task_id, error.field) == (json_task_line(2), "x", "id")
    assert f"first on line {json_task_line(0)}" in error.message

    report = await load_pack(db, write_pack_file(tmp_path / "pack.jsonl", pack), clock=clock)
    (error,) = report.errors
    assert (error.line, error.task_id) == (4, "x")
    assert "first on line 2" in error.message


async def test_duplicates_across_batches_and_error_cap(
    db: Database, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "BATCH_SIZE", 3)
    # 7 kept: the 8th error is a duplicate found as the last batch is written, after the last
    # line was read (reading stops only at a line read with more errors than kept).
    monkeypatch.setattr(errors, "MAX_ERRORS", 7)
    tasks = [*make_tasks(7), {"id": "t1", "text": "again"}, {"id": "t8", "text": "x"}]
    tasks += [{"id": "t8", "text": "again"}, {"id": "t5", "text": "again"}]
    tasks += [{"id": f"e{n}", "text": ""} for n in range(5)]
    report = await load_pack(db, write_pack_file(tmp_path / "p.jsonl", tasks), clock=clock)
    assert not report.ok
    assert report.error_count == 8
    kept = report.errors[:-1]
    assert [(e.line, e.task_id) for e in kept[:3]] == [(9, "t1"), (11, "t8"), (12, "t5")]
    assert [e.message for e in kept[:3]] == [
        "duplicate task id (first on line 3)",
        "duplicate task id (first on line 10)",
        "duplicate task id (first on line 7)",
    ]
    assert str(report.errors[-1]) == "... and 1 more errors"
    assert await table(db, "SELECT COUNT(*) FROM tasks") == [(0,)]


async def test_invalid_header_still_reports_task_errors(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    tasks = [*make_tasks(2), {"id": "t0", "text": "dup"}]
    report = await load_pack(
        db, write_pack_file(tmp_path / "p.json", tasks, reward=0.02), clock=clock
    )
    assert [(e.task_id, e.field) for e in report.errors] == [(None, "reward"), ("t0", "id")]
    assert report.pack_id == "reviews"
    assert await table(db, "SELECT COUNT(*) FROM packs") == [(0,)]


async def test_a_cancelled_load_imports_nothing(
    db: Database, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during a load: it stops after the batch it was writing (each batch is its own
    transaction) and throws away what it wrote; the database is free for the next load."""
    monkeypatch.setattr(reader, "BATCH_SIZE", 2)
    path = write_pack_file(tmp_path / "p.jsonl", make_tasks(10))
    batches: list[int] = []

    def cancel_the_load(done: int, total: int, tasks: int) -> None:
        batches.append(tasks)
        if len(batches) == 1:  # on the event loop, after the first batch was written
            load.cancel()

    load = asyncio.create_task(load_pack(db, path, clock=clock, on_progress=cancel_the_load))
    with pytest.raises(asyncio.CancelledError):
        await load
    assert await table(db, "SELECT COUNT(*) FROM packs") == [(0,)]
    assert await table(db, "SELECT COUNT(*) FROM tasks") == [(0,)]
    assert await table(db, "SELECT COUNT(*) FROM pack_loads") == [(0,)]
    assert batches == [2]
    assert (await load_pack(db, path, clock=clock)).tasks_total == 10


# -- replace: answers kept, missing tasks retired ----------------------------------------------


async def test_replace_keeps_answers_and_retires_missing_tasks(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    first = write_pack_file(tmp_path / "v1.jsonl", make_tasks(4))
    assert (await load_pack(db, first, clock=clock)).ok
    await add_answer(db, "t0", worker=1, answer="pos")
    await add_answer(db, "t0", worker=2, answer="neg")
    await add_answer(db, "t1", worker=1, answer="neu")
    await add_answer(db, "t2", worker=2, answer=None, status="open")
    await add_answer(db, "t3", worker=3, answer="pos")

    clock.advance(hours=1)
    # v2: t3 dropped, t0 reworded with a gold, t4 new, overlap up to 4.
    tasks = [{"id": "t0", "text": "new text", "gold": "pos", "explanation": "Yes."}]
    tasks += [{"id": "t1", "text": "review 1"}, {"id": "t2", "text": "review 2"}]
    tasks += [{"id": "t4", "text": "review 4"}]
    one_gold = {"qualification": 1, "gold_ratio": 0}  # one gold task: one to train on
    second = write_pack_file(
        tmp_path / "v2.jsonl", tasks, overlap=4, title="Reviews v2", quality=one_gold
    )

    refused = await load_pack(db, second, clock=clock)
    assert not refused.ok and "already exists" in refused.errors[0].message

    report = await load_pack(db, second, replace=True, clock=clock)
    assert report.ok, report.errors
    assert report.replaced and not report.created
    assert (report.tasks_added, report.tasks_updated, report.tasks_retired) == (1, 3, 1)
    assert report.tasks_total == 4 and report.budget_micros == 4 * 4 * 20_000

    rows = await table(
        db,
        "SELECT task_id, content, gold, explanation, answers, remaining, retired FROM tasks"
        " ORDER BY pk",
    )
    assert rows == [
        ("t0", '{"text": "new text"}', "pos", "Yes.", 2, 0, 0),  # now gold: no overlap slots
        ("t1", '{"text": "review 1"}', None, None, 1, 3, 0),
        ("t2", '{"text": "review 2"}', None, None, 0, 3, 0),  # one open lease
        ("t3", '{"text": "review 3 <b>&amp;</b> «ok»"}', None, None, 1, 0, 1),
        ("t4", '{"text": "review 4"}', None, None, 0, 4, 0),
    ]
    assert await table(db, "SELECT COUNT(*) FROM assignments") == [(5,)]
    assert await table(db, "SELECT title, overlap, updated_at, created_at FROM packs") == [
        ("Reviews v2", 4, "2026-11-23T09:00:00.000000Z", LOADED_AT)
    ]

    # Bringing t3 back un-retires it; its answer still counts.
    tasks.append({"id": "t3", "text": "back"})
    third = write_pack_file(tmp_path / "v3.jsonl", tasks, overlap=4, quality=one_gold)
    report = await load_pack(db, third, replace=True, clock=clock)
    assert (report.tasks_added, report.tasks_updated, report.tasks_retired) == (0, 5, 0)
    assert await table(
        db, "SELECT answers, remaining, retired FROM tasks WHERE task_id = 't3'"
    ) == [(1, 3, 0)]


async def test_replace_cannot_remove_used_options(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    assert (
        await load_pack(db, write_pack_file(tmp_path / "v1.json", make_tasks(2)), clock=clock)
    ).ok
    await add_answer(db, "t0", worker=1, answer="neu")
    await add_answer(db, "t1", worker=1, answer="neu")
    await add_answer(db, "t1", worker=2, answer="pos")
    options = [{"id": "pos", "label": "Positive"}, {"id": "neg", "label": "Negative"}]
    path = write_pack_file(tmp_path / "v2.json", make_tasks(3), options=options)
    report = await load_pack(db, path, replace=True, clock=clock)
    assert not report.ok
    (error,) = report.errors
    assert error.field == "options" and '"neu" (2 answers)' in error.message
    assert await table(db, "SELECT COUNT(*) FROM tasks") == [(2,)]
    assert await table(db, "SELECT remaining FROM tasks ORDER BY pk") == [(2,), (1,)]


async def test_replace_with_a_duplicate_is_refused_and_changes_nothing(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    assert (
        await load_pack(db, write_pack_file(tmp_path / "v1.jsonl", make_tasks(2)), clock=clock)
    ).ok
    tasks = [{"id": "t0", "text": "a"}, {"id": "t0", "text": "b"}]
    report = await load_pack(
        db, write_pack_file(tmp_path / "v2.jsonl", tasks), replace=True, clock=clock
    )
    assert [(e.line, e.task_id) for e in report.errors] == [(3, "t0")]
    assert "first on line 2" in report.errors[0].message
    assert await table(db, "SELECT task_id, remaining, retired FROM tasks ORDER BY pk") == [
        ("t0", 3, 0),
        ("t1", 3, 0),
    ]
