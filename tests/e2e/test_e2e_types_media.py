"""Issue 10, the two halves together: the new answer types on tasks that carry media. A
multi_choice picture task toggles its check marks on the photo message itself (its keyboard is
redrawn under the caption), and a text task about a picture takes a reply to the photo message
as the answer to that task; each local file goes up once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import bot.jobs
from bot.samples.make_media import shape_png
from db import Database
from simulator import SimulatorServer
from simulator.state import ChatEvent, SimMessage
from tasks.clock import Clock
from tasks.packs import load_pack
from tests.helpers import RunBot, join, press_and_redraw, press_and_wait, text_has

COLOURS = [
    {"id": "red", "label": "Red"},
    {"id": "blue", "label": "Blue"},
    {"id": "green", "label": "Green"},
]
RED, BLUE, GREEN = (220, 40, 40), (40, 80, 220), (40, 160, 60)


@pytest.fixture
def start_bot(run_bot: RunBot, monkeypatch: pytest.MonkeyPatch) -> RunBot:
    monkeypatch.setattr(bot.jobs, "LEASE_CHECK_SECONDS", 0.2)
    monkeypatch.setattr(bot.jobs, "NEW_WORK_CHECK_SECONDS", 0.3)
    return run_bot


async def load(db_path: Path, folder: Path, tasks: list[dict[str, Any]], **header: Any) -> None:
    pack = {
        "id": "pictures",
        "title": "Pictures",
        "instructions": "Look at the picture.",
        "reward": "0.05",
        "overlap": 2,
        "quality": {"qualification": 1, "gold_ratio": 0, "min_seconds": 0},
        **header,
        "tasks": tasks,
    }
    path = folder / "pictures.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    async with Database(db_path) as db:
        report = await load_pack(db, path, clock=Clock())
    assert report.ok, report.errors


def draw(folder: Path, name: str, shape: str, colour: tuple[int, int, int]) -> str:
    (folder / "img").mkdir(exist_ok=True)
    (folder / "img" / name).write_bytes(shape_png(shape, colour))
    return f"img/{name}"


def is_photo_task(event: ChatEvent) -> bool:
    message = event.message
    return (
        message is not None
        and message.media_kind == "photo"
        and bool(message.buttons_with_prefix("s:"))
    )


async def join_photo(sim: SimulatorServer, user_id: int) -> SimMessage:
    return await join(sim, user_id, first_task=is_photo_task)


def toggle(message: SimMessage, label: str) -> str:
    for button in message.buttons_with_prefix("t:"):
        if button.text.endswith(label) and button.callback_data is not None:
            return button.callback_data
    raise AssertionError(f"no toggle {label!r} in {[b.text for b in message.buttons]}")


async def rows(db_path: Path, sql: str) -> list[tuple[Any, ...]]:
    async with Database(db_path) as db:
        return [tuple(row) for row in await db.query(sql)]


async def test_multi_choice_toggles_on_a_photo_message(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    gold_image = draw(tmp_path, "gold.png", "circle", RED)
    tasks = [
        {"id": "g0", "image": gold_image, "text": "Which colours?", "gold": ["red"]},
        {"id": "p0", "image": draw(tmp_path, "p0.png", "square", BLUE), "text": "Which colours?"},
    ]
    await load(db_path, tmp_path, tasks, type="multi_choice", options=COLOURS)
    await start_bot()
    task = await join_photo(sim, 1)
    assert "Which colours?" in task.text  # the caption
    shown = await press_and_redraw(sim, 1, task, toggle(task, "Red"))
    assert shown.media_kind == "photo"  # the same photo message, its keyboard redrawn
    assert [b.text[2:] for b in shown.buttons_with_prefix("t:") if b.text.startswith("✅ ")] == [
        "Red"
    ]
    finish = shown.buttons_with_prefix("f:")[0].callback_data
    assert finish is not None
    toast, _ = await press_and_wait(sim, 1, shown, finish)
    assert "Recorded: Red" in str(toast.get("text"))
    await sim.wait_for(1, text_has("Right."), timeout=10)
    second = await sim.wait_for(1, lambda e: e.kind == "message" and is_photo_task(e))
    assert second.message is not None and second.message.file_id != task.file_id
    assert await rows(db_path, "SELECT answer, correct FROM assignments WHERE is_gold = 1") == [
        ('["red"]', 1)
    ]
    assert sim.files.uploads["photo"] == 2  # one per file; a second worker gets file_ids
    await join_photo(sim, 2)
    assert sim.files.uploads["photo"] == 2


async def test_a_reply_to_a_photo_task_answers_that_task(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    tasks = [
        {"id": "g0", "image": draw(tmp_path, "g0.png", "circle", RED), "gold": ["a red circle"]},
        {"id": "d0", "image": draw(tmp_path, "d0.png", "square", GREEN)},
        {"id": "d1", "image": draw(tmp_path, "d1.png", "square", BLUE)},
    ]
    await load(db_path, tmp_path, tasks, type="text", options=[], min_length=3, max_length=40)
    await start_bot()
    task = await join_photo(sim, 1)
    assert [b.text for b in task.buttons] == ["Skip ⏭"]  # the answer is a message
    sim.send_text(1, "A red circle.", reply_to=task.message_id)
    await sim.wait_for(1, text_has("Right."), timeout=10)
    second = (await sim.wait_for(1, is_photo_task, timeout=10)).message
    assert second is not None and second.message_id != task.message_id
    sim.send_text(1, "a square", reply_to=second.message_id)
    await sim.wait_for(1, text_has("Recorded: a square"), timeout=10)
    answered = await rows(
        db_path,
        "SELECT t.task_id, a.answer FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk"
        " WHERE a.status = 'answered' ORDER BY a.id",
    )
    assert answered[0] == ("g0", "A red circle.")
    assert len(answered) == 2 and answered[1][0] in ("d0", "d1") and answered[1][1] == "a square"
    # A second reply to the first (answered) picture changes nothing.
    sim.send_text(1, "another try", reply_to=task.message_id)
    await sim.wait_for(1, text_has("already has your answer"), timeout=10)
    assert len(await rows(db_path, "SELECT 1 FROM assignments WHERE status = 'answered'")) == 2
