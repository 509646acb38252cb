"""A pack load in short steps (tasks/packs/loading.py, migration 016): the file is parsed in a
worker thread, each batch is its own transaction, and still a pack is loaded whole or not at
all: invisible until its last step, a replace never half visible, what a crash leaves finished
or thrown away."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from db import Database, Tx
from db import packs as db_packs
from tasks.clock import FakeClock
from tasks.pack_cache import ACTIVE_PACKS_TTL
from tasks.packs import load_pack, loading, reader
from tasks.packs import replacing as replace_steps
from tasks.packs.loading import WITHHOLD_SECONDS
from tasks.packs.replacing import recover_loads
from tasks.work import NoTask, WorkService
from tests.helpers import RunBot, add_answer, make_tasks, newcomer, table, write_pack_file

GOLD = {"qualification": 2, "gold_ratio": 0}


async def test_other_units_of_work_get_the_writer_between_the_batches_of_a_load(
    db: Database, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer waits for one batch of a load, not for the whole load."""
    monkeypatch.setattr(reader, "BATCH_SIZE", 10)
    monkeypatch.setattr(loading, "STEP_ROWS", 10)
    path = write_pack_file(tmp_path / "p.jsonl", make_tasks(200))
    batches: list[int] = []
    between: list[int] = []  # how many batches were written when each probe ran
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            await db.run(lambda tx: between.append(len(batches)))
            await asyncio.sleep(0)

    prober = asyncio.create_task(probe())
    report = await load_pack(
        db, path, clock=clock, on_progress=lambda *_: batches.append(1), step_rows=10
    )
    done.set()
    await prober
    assert report.ok and len(batches) == 20
    assert len({count for count in between if 0 < count < 20}) >= 10, between


async def test_a_pack_is_invisible_to_everyone_until_the_last_step_of_its_load(
    db: Database, tmp_path: Path, clock: FakeClock, work: WorkService
) -> None:
    assert isinstance(await newcomer(work, 1), NoTask)  # a worker waiting for work
    seen: list[tuple[Any, ...]] = []

    def look(tx: Tx) -> tuple[Any, ...]:
        return (
            [p.id for p in db_packs.all_packs(tx)],
            [p.id for p in db_packs.active_packs(tx)],
            db_packs.pack_by_id(tx, "reviews"),
        )

    async def look_and_ask() -> None:
        work.forget_packs()  # no cached list of packs: the database's answer
        resumed = await work.resume(1)
        assert resumed is not None
        seen.append((*(await db.run_read(look)), type(resumed[1]).__name__))

    looking: list[asyncio.Task[None]] = []
    path = write_pack_file(tmp_path / "p.jsonl", make_tasks(50))
    report = await load_pack(
        db,
        path,
        clock=clock,
        step_rows=10,
        on_progress=lambda *_: looking.append(asyncio.create_task(look_and_ask())),
    )
    await asyncio.gather(*looking)
    assert report.ok and len(seen) == 5
    assert seen == [([], [], None, "NoTask")] * 5
    work.forget_packs()
    resumed = await work.resume(1)
    assert resumed is not None and type(resumed[1]).__name__ == "TaskCard"


async def test_a_replace_hands_out_nothing_from_its_pack_while_it_applies(
    db: Database, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From its commit point (the new header) to its last step, the pack is not among the
    active packs; before it, nothing of the file is visible."""
    first = write_pack_file(tmp_path / "v1.jsonl", make_tasks(30))
    assert (await load_pack(db, first, clock=clock)).ok
    during: list[tuple[str, list[str], str]] = []

    def watching(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
        def watched(tx: Tx, *args: Any) -> Any:
            title = tx.value("SELECT title FROM packs WHERE id = 'reviews'")
            during.append((name, [p.id for p in db_packs.active_packs(tx)], title))
            return step(tx, *args)

        return watched

    for name in ("retire_step", "apply_step", "recompute_step", "write_tasks"):
        monkeypatch.setattr(db_packs, name, watching(name, getattr(db_packs, name)))
    monkeypatch.setattr(db_packs, "LOAD_STEP", 7)
    monkeypatch.setattr(replace_steps, "LOAD_STEP", 7)
    tasks = [*make_tasks(20), *make_tasks(40, start=30)]  # t20..t29 go, t30..t39 come
    second = write_pack_file(tmp_path / "v2.jsonl", tasks, title="Version 2")
    report = await load_pack(db, second, replace=True, clock=clock, step_rows=10)
    assert report.ok, report.errors
    assert (report.tasks_added, report.tasks_updated, report.tasks_retired) == (10, 20, 10)
    names = [name for name, _, _ in during]
    assert names.count("write_tasks") == 3
    assert {"retire_step", "apply_step", "recompute_step"} <= set(names)
    for name, active, title in during:
        if name == "write_tasks":  # reading the file: the pack as it was
            assert (active, title) == (["reviews"], "Reviews")
        else:  # applying: withheld, with its new header
            assert (active, title) == ([], "Version 2")
    assert [p.id for p in await db.run_read(db_packs.active_packs)] == ["reviews"]
    assert WITHHOLD_SECONDS > ACTIVE_PACKS_TTL  # a process's cached list of active packs


async def _scenario(db: Database, tmp_path: Path, clock: FakeClock) -> Path:
    """A pack with answers, gold and an open lease, and the file of its replace: tasks
    dropped, reworded, made gold, added."""
    v1 = [*make_tasks(40)]
    v1 += [{"id": f"g{n}", "text": f"gold {n}", "gold": "pos"} for n in range(3)]
    path = write_pack_file(tmp_path / "v1.jsonl", v1, quality=GOLD)
    assert (await load_pack(db, path, clock=clock)).ok
    for n in range(0, 40, 3):
        await add_answer(db, f"t{n}", worker=1, answer="pos")
    await add_answer(db, "t5", worker=2, answer=None, status="open")
    await add_answer(db, "g1", worker=2, answer="neg")
    v2: list[dict[str, Any]] = [*make_tasks(30, start=10)]  # t0..t9 and t30..t39 retired
    v2[3] = {"id": "t13", "text": "reworded"}
    v2[4] = {"id": "t14", "text": "now gold", "gold": "neg", "explanation": "Sad."}
    v2 += [{"id": f"g{n}", "text": f"gold {n}", "gold": "neg"} for n in range(3)]
    v2 += [{"id": f"n{n}", "text": f"new {n}"} for n in range(25)]
    return write_pack_file(tmp_path / "v2.jsonl", v2, quality=GOLD, overlap=4)


STATE = (
    "SELECT t.task_id, t.content, t.gold, t.explanation, t.answers, t.remaining, t.retired,"
    " t.completed FROM tasks AS t JOIN packs AS p ON p.pk = t.pack_pk WHERE p.id = 'reviews'"
    " ORDER BY t.task_id"
)
VERDICTS = "SELECT a.answer, a.correct FROM assignments AS a ORDER BY a.id"


async def test_a_replace_applied_in_many_steps_ends_as_one_applied_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = []
    for step in (10_000, 4):
        monkeypatch.setattr(db_packs, "LOAD_STEP", step)
        monkeypatch.setattr(replace_steps, "LOAD_STEP", step)
        folder = tmp_path / str(step)
        folder.mkdir()
        clock = FakeClock()
        async with Database(folder / "db.sqlite3") as db:
            v2 = await _scenario(db, folder, clock)
            report = await load_pack(db, v2, replace=True, clock=clock, step_rows=step)
            assert report.ok, report.errors
            results.append(
                (
                    (report.tasks_added, report.tasks_updated, report.tasks_retired),
                    report.gold_tasks,
                    await table(db, STATE),
                    await table(db, VERDICTS),
                    await table(db, "SELECT COUNT(*) FROM packs"),
                    await table(db, "SELECT COUNT(*) FROM pack_loads"),
                )
            )
    assert results[0] == results[1]
    counts, gold, state, verdicts, packs, loads = results[0]
    assert counts == (25, 23, 20) and gold == 4 and packs == [(1,)] and loads == [(0,)]
    by_id = {row[0]: row[1:] for row in state}
    assert by_id["t13"][0] == '{"text": "reworded"}'
    assert by_id["t14"][1:3] == ("neg", "Sad.") and by_id["t14"][4] == 0  # gold: no slots
    assert by_id["t5"][5] == 1 and by_id["t15"][3:5] == (1, 3)  # retired / 4 - 1 answer
    assert by_id["n0"][3:6] == (0, 4, 0)
    assert ("neg", 1) in verdicts  # g1's answer is right against the new key


async def test_a_replace_a_crash_interrupted_after_its_commit_point_is_finished_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pack stays withheld (nothing of it half replaced is handed out) until
    recover_loads, in the next load or the bot's job, finishes the replace."""
    monkeypatch.setattr(db_packs, "LOAD_STEP", 5)
    monkeypatch.setattr(replace_steps, "LOAD_STEP", 5)
    clean = tmp_path / "clean"
    clean.mkdir()
    clock = FakeClock()
    async with Database(clean / "db.sqlite3") as db:
        v2 = await _scenario(db, clean, clock)
        assert (await load_pack(db, v2, replace=True, clock=clock)).ok
        expected = await table(db, STATE)

    apply_step = db_packs.apply_step
    calls: list[int] = []

    def crashing(*args: Any) -> Any:
        calls.append(1)
        if len(calls) >= 3:
            raise RuntimeError("the process died")
        return apply_step(*args)

    monkeypatch.setattr(db_packs, "apply_step", crashing)
    clock = FakeClock()
    async with Database(tmp_path / "db.sqlite3") as db:
        v2 = await _scenario(db, tmp_path, clock)
        with pytest.raises(RuntimeError):
            await load_pack(db, v2, replace=True, clock=clock)
        assert await db.run_read(db_packs.active_packs) == []  # withheld, half applied
        assert await table(db, "SELECT phase FROM pack_loads") == [("applying",)]
        monkeypatch.setattr(db_packs, "apply_step", apply_step)
        assert await recover_loads(db, clock) == 0  # not abandoned yet: touched just now
        clock.advance(minutes=3)
        assert await recover_loads(db, clock) == 1
        assert await table(db, STATE) == expected
        assert [p.id for p in await db.run_read(db_packs.active_packs)] == ["reviews"]
        assert await table(db, "SELECT COUNT(*) FROM pack_loads") == [(0,)]
        assert await table(db, "SELECT COUNT(*) FROM packs") == [(1,)]


async def test_a_load_a_crash_interrupted_while_reading_is_never_seen_and_thrown_away(
    db: Database, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_pack_file(tmp_path / "v1.jsonl", make_tasks(5))
    assert (await load_pack(db, first, clock=clock)).ok
    write_tasks = db_packs.write_tasks

    def dying(tx: Tx, pack_pk: int, remaining: int, rows: Any) -> list[int]:
        if tx.value("SELECT COUNT(*) FROM tasks WHERE pack_pk = ?", (pack_pk,)) >= 10:
            raise RuntimeError("the process died")
        return write_tasks(tx, pack_pk, remaining, rows)

    monkeypatch.setattr(db_packs, "write_tasks", dying)
    monkeypatch.setattr(loading, "discard_staged", _never)
    monkeypatch.setattr(replace_steps, "discard_staged", _never)
    replacing = write_pack_file(tmp_path / "v2.jsonl", make_tasks(130, start=100), title="New")
    with pytest.raises(RuntimeError):
        await load_pack(db, replacing, replace=True, clock=clock, step_rows=5)
    assert await table(db, "SELECT COUNT(*) FROM tasks") == [(15,)]  # 5 + 10 staged
    assert [(p.id, p.title) for p in await db.run_read(db_packs.all_packs)] == [
        ("reviews", "Reviews")
    ]
    monkeypatch.undo()
    clock.advance(minutes=3)
    assert await recover_loads(db, clock) == 1
    assert await table(db, "SELECT COUNT(*) FROM tasks") == [(5,)]
    assert await table(db, "SELECT COUNT(*) FROM packs") == [(1,)]


async def _never(db: Database, staged: int) -> None:
    """A process killed mid-load throws nothing away."""


async def test_the_check_before_a_replace_is_confirmed_changes_nothing(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    v2 = await _scenario(db, tmp_path, clock)
    before = await table(db, STATE), await table(db, "SELECT * FROM packs")
    report = await load_pack(db, v2, replace=True, confirm_replace=True, clock=clock)
    assert report.ok and report.dry_run and report.replaced
    assert (report.tasks_added, report.tasks_updated, report.tasks_retired) == (25, 23, 20)
    assert report.gold_tasks == 4
    assert (await table(db, STATE), await table(db, "SELECT * FROM packs")) == before
    assert await table(db, "SELECT COUNT(*) FROM pack_loads") == [(0,)]
    assert await table(db, "SELECT COUNT(*) FROM tasks") == [(43,)]
    new = write_pack_file(tmp_path / "new.jsonl", make_tasks(3), id="other")
    created = await load_pack(db, new, replace=True, confirm_replace=True, clock=clock)
    assert created.ok and created.created and not created.dry_run  # a new pack just loads


async def test_the_file_is_parsed_in_a_worker_thread_never_on_the_event_loop(
    db: Database, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """And, in the bot, the reader pauses as it reads (its thread sleeps, the GIL released,
    so that answers get it); the CLI's reads without pausing. While a load runs, the GIL is
    handed over every millisecond."""
    threads: set[str] = set()
    intervals: list[float] = []
    pauses: list[str] = []
    for name in ("read_header", "_json_batches", "_jsonl_batches"):
        method = getattr(reader.PackReader, name)

        def recorded(self: Any, *args: Any, _method: Any = method) -> Any:
            threads.add(threading.current_thread().name)
            return _method(self, *args)

        monkeypatch.setattr(reader.PackReader, name, recorded)
    monkeypatch.setattr(
        loading._Pace, "__call__", lambda self: pauses.append(threading.current_thread().name)
    )
    loop_thread = threading.current_thread().name
    before = sys.getswitchinterval()
    for name, paced in (("p.json", True), ("p.jsonl", True), ("q.jsonl", False)):
        path = write_pack_file(tmp_path / name, make_tasks(100), id=name.replace(".", "-"))
        report = await load_pack(
            db,
            path,
            clock=clock,
            on_progress=lambda *_: intervals.append(sys.getswitchinterval()),
            paced=paced,
        )
        assert report.ok, report.errors
    assert threads and loop_thread not in threads
    assert len(pauses) == 3 + 3 + 3 and loop_thread not in pauses  # JSON: 3 as it scans too
    assert intervals == [loading.SWITCH_INTERVAL] * 3
    assert sys.getswitchinterval() == before


async def test_the_bot_finishes_a_replace_a_crash_interrupted_within_a_minute(
    tmp_path: Path, db_path: Path, run_bot: RunBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot's "pack-loads" job (bot/jobs.py) takes up what a crash left: the pack, withheld
    since the crash, is handed out again, replaced whole."""
    monkeypatch.setattr(db_packs, "LOAD_STEP", 5)
    monkeypatch.setattr(replace_steps, "LOAD_STEP", 5)
    apply_step = db_packs.apply_step

    def crashing(*args: Any) -> Any:
        raise RuntimeError("the process died")

    earlier = FakeClock(datetime.now(UTC) - timedelta(minutes=10))
    async with Database(db_path) as db:
        v2 = await _scenario(db, tmp_path, earlier)
        monkeypatch.setattr(db_packs, "apply_step", crashing)
        with pytest.raises(RuntimeError):
            await load_pack(db, v2, replace=True, clock=earlier)
        monkeypatch.setattr(db_packs, "apply_step", apply_step)
        assert await db.run_read(db_packs.active_packs) == []
    await run_bot(quiet_hours="off")
    async with Database(db_path) as db:
        for _ in range(100):
            if await table(db, "SELECT COUNT(*) FROM pack_loads") == [(0,)]:
                break
            await asyncio.sleep(0.1)
        assert [p.title for p in await db.run_read(db_packs.active_packs)] == ["Reviews"]
        assert await table(db, "SELECT COUNT(*) FROM tasks WHERE task_id LIKE 'n%'") == [(25,)]
        assert await table(db, "SELECT COUNT(*) FROM packs") == [(1,)]
