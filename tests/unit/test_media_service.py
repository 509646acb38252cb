"""A task whose media cannot be shown leaves service (held: its file changed; out: Telegram
refused it MEDIA_FAILURES times in a row), in the domain: neither pick hands it out, whoever
gives a slot back it keeps none, the figures say so, and a reload puts it back."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.samples.make_media import shape_png
from db import Database
from db.gold import GOLD_PICK_SQL
from handlers.operator.packs import pack_line_text
from handlers.outbox import render_text
from tasks.clock import FakeClock
from tasks.media import MEDIA_FAILURES, MediaChecker, TaskMedia, read_verified
from tasks.operator.packs import PackLine
from tasks.outbox import TextMessage
from tasks.packs import load_pack, pack_progress
from tasks.work import WorkService
from tasks.work_results import MediaProblem, NoTask, TaskCard
from tests.helpers import OPTIONS, cli, newcomer, value

CHANGED = MediaProblem(held=True, reason="changed since the pack was loaded")
REFUSED = MediaProblem(held=False, reason="Failed to get http url content")


def picture_pack(folder: Path, tasks: list[dict[str, Any]], **header: Any) -> Path:
    pack = {
        "id": "pictures",
        "title": "Pictures",
        "instructions": "Which shape?",
        "type": "single_choice",
        "options": OPTIONS,
        "reward": "0.02",
        "overlap": 3,
        **header,
        "tasks": tasks,
    }
    path = folder / "pictures.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path


async def load(db: Database, clock: FakeClock, path: Path, replace: bool = False) -> None:
    report = await load_pack(db, path, clock=clock, replace=replace)
    assert report.ok, report.errors


def card(next_: TaskCard | NoTask | None) -> TaskCard:
    assert isinstance(next_, TaskCard), next_
    return next_


async def test_a_changed_file_is_told_apart_at_send_time(tmp_path: Path) -> None:
    """What read_verified returns: the bytes hashed at load, or why they cannot be sent."""
    picture = shape_png("circle", (200, 30, 30))
    (tmp_path / "a.png").write_bytes(picture)
    media = MediaChecker(tmp_path).check("image", "a.png")
    assert isinstance(media, TaskMedia)
    assert read_verified(media) == picture
    (tmp_path / "a.png").write_bytes(shape_png("square", (200, 30, 30)))
    assert read_verified(media) == "changed since the pack was loaded"
    (tmp_path / "a.png").unlink()
    assert read_verified(media) == "is gone since the pack was loaded"
    (tmp_path / "elsewhere.png").write_bytes(picture)  # the very bytes, behind a link
    (tmp_path / "a.png").symlink_to(tmp_path / "elsewhere.png")
    assert read_verified(media) == "is now a symbolic link"


async def test_a_held_check_question_is_never_served(
    db: Database, clock: FakeClock, work: WorkService, tmp_path: Path
) -> None:
    """A check question whose picture changed would judge careful workers wrong: once held,
    the gold pick passes it by for every worker (its plan still reads the gold index)."""
    tasks: list[dict[str, Any]] = []
    for n in range(4):
        (tmp_path / f"g{n}.png").write_bytes(shape_png("circle", (40 * n, 30, 30)))
        tasks.append({"id": f"g{n}", "image": f"g{n}.png", "gold": OPTIONS[0]["id"]})
    tasks += [{"id": f"t{n}", "text": f"task {n}"} for n in range(4)]
    await load(
        db, clock, picture_pack(tmp_path, tasks, quality={"min_seconds": 0, "qualification": 3})
    )
    first = card(await newcomer(work, 1))
    assert first.media is not None  # training: a check question first
    held_task = await value(db, "SELECT task_pk FROM assignments WHERE id = ?", first.assignment_id)
    following = card(
        await work.media_failed(worker_id=1, assignment_id=first.assignment_id, problem=CHANGED)
    )
    assert following.media is not None and following.assignment_id != first.assignment_id
    for worker in range(2, 30):
        shown = card(await newcomer(work, worker))
        assert (
            await value(db, "SELECT task_pk FROM assignments WHERE id = ?", shown.assignment_id)
            != held_task
        )
    plan = " | ".join(
        row["detail"] for row in await db.query("EXPLAIN QUERY PLAN " + GOLD_PICK_SQL, (1, 0, 1))
    )
    assert "USING INDEX tasks_gold" in plan and "SCAN t " not in plan + " "
    (progress,) = await pack_progress(db)
    assert (progress.gold_tasks, progress.media_held) == (3, 1)


async def test_a_task_out_of_service_keeps_no_slot_whoever_gives_one_back(
    db: Database, clock: FakeClock, work: WorkService, tmp_path: Path
) -> None:
    """Three workers hold the same task; Telegram refuses its media to each in turn. The first
    two refusals give the slot back (the task stays in service); the third takes it out, and
    the lease still open on it then expiring does not put it back in the pick."""
    url = "https://example.org/a.png"
    tasks = [{"id": "u", "text": "by URL", "image": url}, {"id": "t", "text": "plain"}]
    await load(db, clock, picture_pack(tmp_path, tasks, overlap=4))
    cards = [card(await newcomer(work, worker)) for worker in (1, 2, 3, 4)]
    assert all(c.media is not None for c in cards)  # the URL task, nearest the start
    for n, (worker, held) in enumerate(zip((1, 2, 3), cards, strict=False), start=1):
        following = card(
            await work.media_failed(
                worker_id=worker, assignment_id=held.assignment_id, problem=REFUSED
            )
        )
        assert following.text == "plain"
        status = await value(db, "SELECT status FROM task_media")
        assert status == ("out" if n >= MEDIA_FAILURES else "ok")
    remaining = "SELECT remaining FROM tasks WHERE task_id = 'u'"
    assert await value(db, remaining) == 0
    clock.advance(seconds=3600)  # worker 4's lease on it runs out: its slot would come back
    assert await work.expire_leases() >= 1
    assert await value(db, remaining) == 0
    assert await value(db, "SELECT media_off FROM tasks WHERE task_id = 'u'") == 1
    newest = card(await newcomer(work, 5))
    assert newest.media is None and newest.text == "plain"
    (progress,) = await pack_progress(db)
    assert (progress.media_out, progress.tasks, progress.answers_wanted) == (1, 1, 4)

    # A reload (the same file) writes the task's media anew: back in service, with its slots.
    await load(db, clock, tmp_path / "pictures.json", replace=True)
    assert await value(db, "SELECT status || failures FROM task_media") == "ok0"
    assert await value(db, remaining) == 4  # no answer and no open lease on it: all its slots
    (progress,) = await pack_progress(db)
    assert (progress.media_out, progress.tasks) == (0, 2)


async def test_the_last_try_releases_the_lease_and_hands_out_nothing(
    db: Database, clock: FakeClock, work: WorkService, tmp_path: Path
) -> None:
    """After the last of a worker's tries the refusal is counted and their lease ends (a task
    they cannot see is never theirs to answer), and nothing new is leased to them unseen."""
    tasks = [
        {"id": "u", "text": "by URL", "image": "https://example.org/a.png"},
        {"id": "t", "text": "plain"},
    ]
    await load(db, clock, picture_pack(tmp_path, tasks))
    first = card(await newcomer(work, 1))
    following = await work.media_failed(
        worker_id=1, assignment_id=first.assignment_id, problem=REFUSED, hand_out=False
    )
    assert following == NoTask("media")
    assert await value(db, "SELECT failures FROM task_media") == 1
    assert await value(db, "SELECT group_concat(status) FROM assignments") == "released"
    # Another worker's assignment is not theirs to report on.
    assert (
        await work.media_failed(worker_id=2, assignment_id=first.assignment_id, problem=REFUSED)
        is None
    )
    assert await value(db, "SELECT failures FROM task_media") == 1


async def test_packs_in_telegram_say_which_tasks_are_out_of_service(
    db: Database, clock: FakeClock, work: WorkService, tmp_path: Path
) -> None:
    (tmp_path / "a.png").write_bytes(shape_png("circle", (200, 30, 30)))
    tasks = [{"id": "a", "image": "a.png"}, {"id": "t", "text": "plain"}]
    await load(db, clock, picture_pack(tmp_path, tasks))
    first = card(await newcomer(work, 1))
    await work.media_failed(worker_id=1, assignment_id=first.assignment_id, problem=CHANGED)
    (progress,) = await pack_progress(db)
    line = PackLine(progress, 0, Decimal("1.0"), None, False, False)
    assert "1 task(s) held (file changed since the load), 0 refused 3 times" in pack_line_text(
        line, "en"
    )
    assert "1 tâche(s) retenue(s)" in pack_line_text(line, "fr")
    clean = PackLine(
        type(progress)(**{**progress.__dict__, "media_held": 0}), 0, None, None, False, False
    )
    assert "⚠️" not in pack_line_text(clean, "en")


async def test_handing_out_a_media_task_costs_one_read_whatever_its_state(
    db: Database, clock: FakeClock, work: WorkService, tmp_path: Path
) -> None:
    """The media's state and refusal count ride in the task_media read a media task already
    had: an answer that hands out a media task runs exactly one statement more than one that
    hands out a text task, and a media task that was refused before costs no more."""
    tasks = [
        {"id": "t0", "text": "text"},
        {"id": "m1", "text": "by URL", "image": "https://example.org/1.png"},
        {"id": "t2", "text": "text"},
        {"id": "m3", "text": "by URL", "image": "https://example.org/3.png"},
    ]
    await load(db, clock, picture_pack(tmp_path, tasks, overlap=1))
    await db.run(lambda tx: tx.execute("UPDATE task_media SET failures = 2"))
    statements: list[str] = []
    await db.run(lambda tx: tx.conn.set_trace_callback(statements.append))
    shown = card(await newcomer(work, 1))
    costs = []
    for _ in range(3):
        statements.clear()
        result = await work.answer(worker_id=1, assignment_id=shown.assignment_id, choice=0)
        costs.append((len(statements), card(result.next).media is not None))
        shown = card(result.next)
    await db.run(lambda tx: tx.conn.set_trace_callback(None))
    assert [media for _, media in costs] == [True, False, True]
    assert costs[0][0] == costs[1][0] + 1 == costs[2][0]


async def test_the_packs_command_shows_held_and_out_of_service_tasks(
    db: Database, clock: FakeClock, work: WorkService, tmp_path: Path
) -> None:
    (tmp_path / "a.png").write_bytes(shape_png("circle", (200, 30, 30)))
    tasks = [{"id": "a", "image": "a.png"}, {"id": "t", "text": "plain"}]
    await load(db, clock, picture_pack(tmp_path, tasks, overlap=1))
    first = card(await newcomer(work, 1))
    await work.media_failed(worker_id=1, assignment_id=first.assignment_id, problem=CHANGED)
    result = cli("packs", db=tmp_path / "test.sqlite3")
    assert result.returncode == 0, result.stderr
    header, _, row, *notes = result.stdout.splitlines()
    columns = dict(zip(re.split(r"\s{2,}", header), re.split(r"\s{2,}", row), strict=False))
    assert (columns["tasks"], columns["held"], columns["out of service"]) == ("1", "1", "0")
    assert notes[0].startswith("warning: pack pictures: 1 task held (a media file changed")


async def test_operators_hear_once_per_pack_and_load_that_tasks_are_held(
    db: Database, clock: FakeClock, work: WorkService, tmp_path: Path
) -> None:
    """The first held task of a pack is told to the operators' chat (through the outbox,
    escaped); more held tasks of the same load are counted by /packs, not each announced; a
    reload arms the alert again."""
    tasks = []
    for n in range(3):
        (tmp_path / f"a{n}.png").write_bytes(shape_png("circle", (60 * n, 30, 30)))
        tasks.append({"id": f"a<{n}>", "image": f"a{n}.png"})
    path = picture_pack(tmp_path, tasks, overlap=1)
    await load(db, clock, path)

    async def hold_next(worker: int) -> None:
        shown = card(await newcomer(work, worker))
        await work.media_failed(
            worker_id=worker, assignment_id=shown.assignment_id, problem=CHANGED
        )

    await hold_next(1)
    await hold_next(2)
    rows = await db.query("SELECT recipient, kind, params FROM outbox")
    assert [(row[0], row[1]) for row in rows] == [(None, "op_media_held")]
    text, _ = render_text(TextMessage("op_media_held", json.loads(rows[0][2])), "en")
    assert text == (
        "⚠️ Pack <b>pictures</b>, task a&lt;0&gt;: a0.png changed since the pack was loaded."
        " The task is held: no longer handed out, nor are others like it (/packs counts them)."
        " Reload the pack (load-pack --replace) to put them back."
    )
    clock.advance(seconds=60)
    await load(db, clock, path, replace=True)
    await hold_next(3)
    assert await value(db, "SELECT COUNT(*) FROM outbox WHERE kind = 'op_media_held'") == 2
