"""Tasks with an image, an audio file or a voice note, on the real bot through the simulator:
each local file is uploaded once and then sent by file_id; the worker's one task message moves
between text and media; old buttons are refused."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import bot.jobs
from bot.samples.make_media import shape_png
from db import Database
from handlers.presenter.media import MEDIA_TRIES
from simulator import CAREFUL, Crowd, SimulatorServer
from simulator.state import SimMessage
from tasks.clock import Clock
from tasks.pack_cache import ACTIVE_PACKS_TTL
from tasks.packs import load_pack, pack_progress
from tests.helpers import OPTIONS, RunBot, answer_data, has_button, is_task, press_and_wait

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples" / "media"
RED, BLUE = (220, 40, 40), (40, 80, 220)


@pytest.fixture
def start_bot(run_bot: RunBot, monkeypatch: pytest.MonkeyPatch) -> RunBot:
    monkeypatch.setattr(bot.jobs, "LEASE_CHECK_SECONDS", 0.2)
    monkeypatch.setattr(bot.jobs, "NEW_WORK_CHECK_SECONDS", 0.3)
    return run_bot


def media_pack(folder: Path, tasks: list[dict[str, Any]], **header: Any) -> Path:
    pack = {
        "id": "shapes",
        "title": "Shapes",
        "instructions": "Which shape is it?",
        "type": "single_choice",
        "options": OPTIONS,
        "reward": "0.02",
        "overlap": 3,
        "quality": {"min_seconds": 0},
        **header,
        "tasks": tasks,
    }
    path = folder / "pack.json"
    path.write_text(json.dumps(pack, indent=1), encoding="utf-8")
    return path


async def load(db_path: Path, path: Path) -> None:
    async with Database(db_path) as db:
        report = await load_pack(db, path, clock=Clock())
    assert report.ok, report.errors


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def media_states(db_path: Path) -> dict[str, tuple[str, str | None]]:
    """Each task whose media is not in service: (status, reason); checks the task's serving
    switch (tasks.media_off) agrees."""
    async with Database(db_path) as db:
        rows = await db.query(
            "SELECT t.task_id, m.status, m.reason, t.media_off, t.remaining FROM task_media AS m"
            " JOIN tasks AS t ON t.pk = m.task_pk ORDER BY t.pk"
        )
    for row in rows:
        assert row[3] == (row[1] != "ok")
        assert row[1] == "ok" or row[4] == 0  # a task out of service has no slot to hand out
    return {row[0]: (row[1], row[2]) for row in rows if row[1] != "ok"}


async def completed(db_path: Path) -> tuple[int, int]:
    async with Database(db_path) as db:
        rows = await db.query("SELECT COUNT(*), SUM(completed) FROM tasks WHERE gold IS NULL")
    total, done = rows[0]
    return int(total), int(done or 0)


async def test_each_local_file_is_uploaded_once_then_sent_by_file_id(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    """Six workers start together on a pack of images and voice notes with check questions
    (training first) and an overlap of 3: every file goes up once, every other send is by
    file_id, and each worker's answers arrive with the right image or tone."""
    labels = [option["label"] for option in OPTIONS]
    truth: dict[str, str] = {}
    tasks: list[dict[str, Any]] = []
    for n in range(6):  # 6 pictures, 2 of them check questions
        data = shape_png("circle" if n % 2 else "square", RED if n % 3 else BLUE, 1 - n / 20)
        (tmp_path / f"p{n}.png").write_bytes(data)
        truth[sha(data)] = labels[n % 3]
        task: dict[str, Any] = {"id": f"p{n}", "image": f"p{n}.png", "text": f"picture {n}"}
        if n < 2:
            task["gold"] = OPTIONS[n % 3]["id"]
        tasks.append(task)
    voice = (SAMPLES / "tones-440-660.mp3").read_bytes()
    (tmp_path / "v.mp3").write_bytes(voice)
    truth[sha(voice)] = labels[1]
    tasks.append({"id": "v0", "voice": "v.mp3"})
    tasks.append({"id": "v1", "voice": "v.mp3", "text": "the same tone again"})  # same file
    await load(db_path, media_pack(tmp_path, tasks, quality={"min_seconds": 0, "qualification": 2}))
    await start_bot()
    crowd = Crowd(sim, media_truth=truth, seed=3)
    crowd.add(replace(CAREFUL, accuracy=1.0, skip_rate=0.0), 6)
    await crowd.start()
    try:
        async with asyncio.timeout(30):
            while (await completed(db_path))[1] < 6:
                await asyncio.sleep(0.1)
    finally:
        await crowd.stop()

    assert sim.files.uploads == {"photo": 6, "voice": 1}  # each distinct file, once
    async with Database(db_path) as db:
        cached = await db.value("SELECT COUNT(*) FROM media_files")
        answered = dict(
            await db.query(
                "SELECT m.kind, COUNT(*) FROM assignments AS a"
                " JOIN task_media AS m ON m.task_pk = a.task_pk"
                " WHERE a.status = 'answered' GROUP BY m.kind"
            )
        )
    assert cached == 7
    # Every answer was to a task the worker was sent: all but the first of each file by id.
    assert sim.files.by_file_id["photo"] >= answered["image"] - 6 > 6
    assert sim.files.by_file_id["voice"] >= answered["voice"] - 1 >= 3
    stats = crowd.summary()["by_kind"]["careful"]
    assert stats["wrong"] == 0 and stats["unknown"] == 0  # each saw its own task's media
    assert stats["answers"] == answered["image"] + answered["voice"]


def live_tasks(sim: SimulatorServer, user_id: int) -> list[SimMessage]:
    """The messages of the chat that hold answer buttons (one, when all is well)."""
    return [m for m in sim.chat(user_id).bot_messages if m.buttons_with_prefix("a:")]


async def settled(sim: SimulatorServer, quiet: float = 0.15) -> None:
    """Until no Bot API call has come for `quiet` seconds."""
    before = -1
    while (now := sum(sim.calls.values())) != before:
        before = now
        await asyncio.sleep(quiet)


async def answer_live(sim: SimulatorServer, user_id: int) -> tuple[SimMessage, dict[str, int]]:
    """Presses the first option of the one live task; returns the task pressed and the Bot
    API calls the answer cost (by method), once the next task is shown."""
    (task,) = live_tasks(sim, user_id)
    await settled(sim)
    before = dict(sim.calls)
    data = answer_data(task)
    await press_and_wait(sim, user_id, task, data)
    async with asyncio.timeout(10):
        while not any(answer_data(m) != data for m in live_tasks(sim, user_id)):
            await asyncio.sleep(0.02)
    await settled(sim)
    cost = {
        m: n - before.get(m, 0)
        for m, n in sim.calls.items()
        if n != before.get(m, 0) and m != "getUpdates"
    }
    return task, cost


TRANSITIONS_PACK: list[dict[str, Any]] = [
    {"id": "a0", "text": "a text task"},
    {"id": "a1", "text": "first picture", "image": "red.png"},
    {"id": "a2", "text": "second picture", "image": "blue.png"},
    {"id": "a3", "text": "a voice note", "voice": "tones.mp3"},
    {"id": "a4", "voice": "tones.mp3"},
    {"id": "a5", "text": "a song", "audio": "tones.mp3"},
    {"id": "a6", "text": "a picture after a song", "image": "red.png"},
    {"id": "a7", "text": "text after media"},
    {"id": "a8", "text": "text again"},
    {"id": "a9", "text": "the last one"},
]


async def test_the_task_message_moves_between_text_and_media_at_a_measured_cost(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    """One worker answers text, images, voice notes and audio in turn: one live task message
    at every step, old ones gone or without buttons, and each move costs the Bot API calls
    that docs/media.md's table gives."""
    (tmp_path / "red.png").write_bytes(shape_png("circle", RED))
    (tmp_path / "blue.png").write_bytes(shape_png("square", BLUE))
    shutil.copy(SAMPLES / "tones-440-660.mp3", tmp_path / "tones.mp3")
    await load(db_path, media_pack(tmp_path, TRANSITIONS_PACK, overlap=1))
    await start_bot()
    sim.add_user(7, "Ines", language_code="en")
    sim.send_text(7, "/start")
    welcome = (await sim.wait_for(7, has_button("consent"), timeout=10)).message
    assert welcome is not None
    sim.press(7, welcome.message_id, "consent")
    await sim.wait_for(7, is_task, timeout=10)

    costs = []
    pressed: list[SimMessage] = []
    for _ in range(len(TRANSITIONS_PACK) - 1):
        task, cost = await answer_live(sim, 7)
        pressed.append(task)
        costs.append(cost)
        assert len(live_tasks(sim, 7)) == 1  # one live task message, always
    ack = {"answerCallbackQuery": 1}
    assert costs == [
        {**ack, "editMessageMedia": 1},  # text -> image (uploads red.png)
        {**ack, "editMessageMedia": 1},  # image -> image (uploads blue.png)
        {**ack, "sendVoice": 1, "deleteMessage": 1},  # image -> voice (uploads tones.mp3)
        {**ack, "sendVoice": 1, "deleteMessage": 1},  # voice -> voice (by file_id)
        {**ack, "sendAudio": 1, "deleteMessage": 1},  # voice -> audio
        {**ack, "editMessageMedia": 1},  # audio -> image (red.png by file_id)
        {**ack, "sendMessage": 1, "deleteMessage": 1},  # image -> text
        {**ack, "editMessageText": 1},  # text -> text
        {**ack, "editMessageText": 1},  # text -> text
    ]
    assert sim.files.uploads == {"photo": 2, "voice": 1, "audio": 1}
    assert sim.files.by_file_id == {"voice": 1, "photo": 1}

    # The buttons of a task already answered are refused and store nothing, whether its
    # message was deleted (the voice notes) or edited into the next task (the pictures).
    chat = sim.chat(7)
    voice_task = pressed[3]
    assert voice_task.message_id not in chat.messages
    with pytest.raises(ValueError):
        sim.press(7, voice_task.message_id, answer_data(voice_task))
    (live,) = live_tasks(sim, 7)
    toast, _ = await press_and_wait(sim, 7, live, answer_data(pressed[1]), check=False)
    assert toast.get("text") == "Already recorded: this answer counts once."
    async with Database(db_path) as db:
        answers = await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'answered'")
    assert answers == len(TRANSITIONS_PACK) - 1


async def join_and_first_task(sim: SimulatorServer, user_id: int) -> SimMessage:
    sim.add_user(user_id, f"Worker{user_id}", language_code="en")
    sim.send_text(user_id, "/start")
    welcome = (await sim.wait_for(user_id, has_button("consent"), timeout=10)).message
    assert welcome is not None
    sim.press(user_id, welcome.message_id, "consent")
    task = (await sim.wait_for(user_id, is_task, timeout=10)).message
    assert task is not None
    return task


async def test_a_file_id_telegram_no_longer_knows_is_uploaded_again_once(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "red.png").write_bytes(shape_png("circle", RED))
    tasks = [{"id": f"r{n}", "text": f"red {n}", "image": "red.png"} for n in range(3)]
    await load(db_path, media_pack(tmp_path, tasks, overlap=1))
    await start_bot()
    first = await join_and_first_task(sim, 8)
    assert sim.files.uploads == {"photo": 1} and first.file_id is not None
    sim.files.revoke(first.file_id)  # Telegram forgets it: "wrong file identifier"
    await answer_live(sim, 8)
    assert sim.files.uploads == {"photo": 2}  # refused once, uploaded again once
    (live,) = live_tasks(sim, 8)
    assert live.file_id is not None and live.file_id != first.file_id
    await answer_live(sim, 8)  # and the new file_id is what is sent from then on
    assert sim.files.uploads == {"photo": 2} and sim.files.by_file_id == {"photo": 1}
    async with Database(db_path) as db:
        cached = await db.query("SELECT file_id FROM media_files")
    assert [row[0] for row in cached] == [live.file_id]


async def test_an_old_task_message_that_cannot_be_deleted_loses_its_buttons(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    shutil.copy(SAMPLES / "tones-440-660.mp3", tmp_path / "tones.mp3")
    tasks = [{"id": f"v{n}", "voice": "tones.mp3"} for n in range(2)]
    await load(db_path, media_pack(tmp_path, tasks, overlap=1))
    await start_bot()
    first = await join_and_first_task(sim, 9)
    sim.chat(9).messages[first.message_id].date -= 49 * 3600  # Telegram keeps it now
    _, cost = await answer_live(sim, 9)
    assert cost == {
        "answerCallbackQuery": 1,
        "sendVoice": 1,
        "deleteMessage": 1,  # refused: "message can't be deleted for everyone"
        "editMessageReplyMarkup": 1,
    }
    old = sim.chat(9).messages[first.message_id]
    assert old.buttons == [] and len(live_tasks(sim, 9)) == 1


async def test_long_instructions_come_once_in_their_own_message(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "red.png").write_bytes(shape_png("circle", RED))
    long = "Look at the whole picture before you answer. " * 20  # 900 characters
    tasks = [{"id": f"r{n}", "text": f"red {n}", "image": "red.png"} for n in range(3)]
    await load(db_path, media_pack(tmp_path, tasks, overlap=1, instructions=long.strip()))
    await start_bot()
    first = await join_and_first_task(sim, 10)
    messages = sim.chat(10).bot_messages
    assert messages[-2].text.startswith("Shapes: the instructions")
    assert long.strip() in messages[-2].text  # whole, in its own message, above the task
    assert messages[-1].message_id == first.message_id and first.media_kind == "photo"
    assert len(first.text) < 1024 and "Look at the whole picture" in first.text  # shortened
    await answer_live(sim, 10)
    await answer_live(sim, 10)
    shown = [m for m in sim.chat(10).bot_messages if "the instructions" in m.text]
    assert len(shown) == 1  # once per session


async def test_a_media_task_sent_by_url_is_fetched_once_then_sent_by_file_id(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    url = "https://example.org/shapes/red.png"
    sim.files.web[url] = shape_png("circle", RED)
    tasks = [{"id": f"u{n}", "text": f"picture {n}", "image": url} for n in range(2)]
    tasks.append({"id": "gone", "text": "a picture no one serves", "image": url + "?missing"})
    await load(db_path, media_pack(tmp_path, tasks, overlap=1))
    await start_bot()
    await join_and_first_task(sim, 11)
    await answer_live(sim, 11)
    assert sim.files.by_url == {"photo": 1} and sim.files.by_file_id == {"photo": 1}
    # A URL Telegram cannot fetch: the worker is not left with it, they get their next task
    # (here there is none left) and the refusal is counted against the task.
    (live,) = live_tasks(sim, 11)
    sim.press(11, live.message_id, answer_data(live))
    await sim.wait_for_text(11, "No task left", timeout=10)
    await settled(sim)
    assert not live_tasks(sim, 11)
    assert not any("cannot be shown" in m.text for m in sim.chat(11).bot_messages)
    async with Database(db_path) as db:
        assert await db.value("SELECT failures FROM task_media WHERE ref LIKE '%missing'") == 1


async def test_a_double_tap_on_a_voice_note_brings_the_next_task_once(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    """A voice note cannot be edited into the next task: it is sent anew and the old one
    deleted. A second tap that left before the deletion must not send the next task again."""
    shutil.copy(SAMPLES / "tones-440-660.mp3", tmp_path / "tones.mp3")
    tasks = [{"id": f"v{n}", "text": f"voice {n}", "voice": "tones.mp3"} for n in range(3)]
    await load(db_path, media_pack(tmp_path, tasks, overlap=1))
    await start_bot()
    first = await join_and_first_task(sim, 12)
    await settled(sim)
    data = answer_data(first)
    first_query = sim.press(12, first.message_id, data)
    second_query = sim.press(12, first.message_id, data)  # before the bot has answered
    await sim.wait_callback_answer(first_query, timeout=10)
    toast = await sim.wait_callback_answer(second_query, timeout=10)
    await settled(sim, quiet=1.5)  # the bot paces sends to a chat (about one a second)
    assert toast["params"].get("text") == "Already recorded: this answer counts once."
    assert sim.calls["sendVoice"] == 2  # the first task, then the next one: once
    (live,) = live_tasks(sim, 12)
    assert "voice 1" in live.text
    async with Database(db_path) as db:
        assert await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'answered'") == 1


async def test_a_file_gone_since_the_load_is_held_and_the_worker_gets_the_next_task(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "red.png").write_bytes(shape_png("circle", RED))
    tasks = [{"id": "gone", "text": "a picture deleted after the load", "image": "red.png"}]
    tasks.append({"id": "next", "text": "a text task"})
    await load(db_path, media_pack(tmp_path, tasks, overlap=1))
    (tmp_path / "red.png").unlink()
    await start_bot()
    shown = await join_and_first_task(sim, 13)
    assert "a text task" in shown.text  # not a dead end: the next task instead
    assert not any("cannot be shown" in m.text for m in sim.chat(13).bot_messages)
    assert sim.files.uploads == {}
    assert await media_states(db_path) == {"gone": ("held", "is gone since the pack was loaded")}


async def test_a_media_file_changed_after_load_is_never_sent_and_the_task_is_held(
    sim: SimulatorServer,
    start_bot: RunBot,
    db_path: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The file of a task is changed after the load: its new bytes are never uploaded, the
    worker gets the next task instead (no traceback, no wrong picture), the task is held for
    everyone with one clear log line, `packs` counts it; a reload puts it back in service."""
    caplog.set_level(logging.WARNING, logger="tasks.work")
    loaded, changed = shape_png("circle", RED), shape_png("square", BLUE)
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.png").write_bytes(loaded)
    (tmp_path / "b.png").write_bytes(shape_png("circle", BLUE))
    tasks = [
        {"id": "a", "text": "the picture that changes", "image": "media/a.png"},
        {"id": "b", "text": "a picture that stays", "image": "b.png"},
        {"id": "c", "text": "a text task"},
    ]
    pack = media_pack(tmp_path, tasks, overlap=2)
    await load(db_path, pack)
    (tmp_path / "media" / "a.png").write_bytes(changed)
    await start_bot()

    first = await join_and_first_task(sim, 31)
    assert "a picture that stays" in first.text and first.file_id is not None
    assert sim.files.by_id[first.file_id].data != changed
    second = await join_and_first_task(sim, 32)  # a second worker never meets it either
    assert "the picture that changes" not in second.text
    assert all(stored.data != changed for stored in sim.files.by_id.values())
    assert sim.files.uploads == {"photo": 1}  # b.png only
    assert not any("cannot be shown" in m.text for u in (31, 32) for m in sim.chat(u).bot_messages)
    assert await media_states(db_path) == {"a": ("held", "changed since the pack was loaded")}
    held = [r.getMessage() for r in caplog.records if "is held" in r.getMessage()]
    assert held == [
        'pack "shapes", task "a": "media/a.png" changed since the pack was loaded: the task is'
        " held (not handed out); reload the pack: python -m bot load-pack --replace FILE"
    ]
    async with Database(db_path) as db:
        (progress,) = await pack_progress(db)
        assert (progress.media_held, progress.media_out, progress.tasks) == (1, 0, 2)
        assert progress.answers_wanted == 4  # the held task is not work left to do

        # A reload hashes the file again: the task is back in service, with its slots.
        report = await load_pack(db, pack, replace=True, clock=Clock())
        assert report.ok
        assert await db.value("SELECT remaining FROM tasks WHERE task_id = 'a'") == 2
    assert await media_states(db_path) == {}
    # The running bot lists active packs anew after ACTIVE_PACKS_TTL: the replace withheld the
    # pack meanwhile (tasks/packs/loading.py), and a list read then would still omit it.
    await asyncio.sleep(ACTIVE_PACKS_TTL + 0.1)
    third = await join_and_first_task(sim, 33)
    assert "the picture that changes" in third.text and third.file_id is not None
    assert sim.files.by_id[third.file_id].data == changed  # the bytes hashed by the reload


async def test_a_changed_file_never_poisons_another_packs_picture(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    """Two packs hold the same picture (one hash, one upload for both). The first pack's copy
    is changed after the load: it is not uploaded in place of the picture hashed, so the second
    pack's check question shows its own picture and a careful worker is judged right."""
    picture, other = shape_png("circle", RED), shape_png("triangle", BLUE)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.png").write_bytes(picture)
    (second / "b.png").write_bytes(picture)
    await load(db_path, media_pack(first, [{"id": "a", "text": "first pack", "image": "a.png"}]))
    gold = {"id": "g", "text": "second pack", "image": "b.png", "gold": OPTIONS[0]["id"]}
    await load(
        db_path,
        media_pack(
            second,
            [gold, {"id": "r", "text": "plain"}],
            id="second",
            quality={"min_seconds": 0, "qualification": 1},
        ),
    )
    (first / "a.png").write_bytes(other)  # changed after the load: same name, new picture
    await start_bot()

    shown = await join_and_first_task(sim, 34)  # the first pack's task is held: the gold comes
    assert "second pack" in shown.text and shown.file_id is not None
    assert sim.files.by_id[shown.file_id].data == picture  # its own picture, not the change
    assert all(stored.data != other for stored in sim.files.by_id.values())
    async with Database(db_path) as db:
        cached = await db.query("SELECT media_key, file_id FROM media_files")
    assert [(key, sim.files.by_id[file_id].data) for key, file_id in cached] == [
        (f"sha256:{sha(picture)}", picture)
    ]
    await press_and_wait(sim, 34, shown, answer_data(shown, 0))  # what the picture shows
    async with Database(db_path) as db:
        assert await db.value("SELECT correct FROM assignments WHERE is_gold = 1") == 1


@pytest.mark.parametrize("source", ["url", "file_id"])
async def test_a_task_whose_media_telegram_refuses_goes_out_of_service_after_3_failures(
    sim: SimulatorServer,
    start_bot: RunBot,
    db_path: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    source: str,
) -> None:
    """A URL Telegram cannot fetch, or a file_id it does not know: each worker who meets it
    gets their next task instead of "cannot be shown"; the third refusal in a row takes the
    task out of service (logged once, counted in `packs`), and no one is sent it again."""
    caplog.set_level(logging.WARNING, logger="tasks.work")
    bad = "https://example.org/none.png" if source == "url" else "AgACAgIAAxkBAAIBbWd0ZXN0"
    tasks = [{"id": "bad", "text": "a picture Telegram refuses", "image": bad}]
    tasks += [{"id": f"t{n}", "text": f"text task {n}"} for n in range(5)]
    await load(db_path, media_pack(tmp_path, tasks, overlap=1))
    await start_bot()

    for user in (41, 42, 43, 44):
        shown = await join_and_first_task(sim, user)
        assert "text task" in shown.text
        assert "refuses" not in shown.text and "cannot be shown" not in shown.text
        if user == 42:
            assert await media_states(db_path) == {}  # two refusals: still in service
    assert sim.calls["sendPhoto"] == 3  # asked of Telegram three times, then never again
    ((status, reason),) = (await media_states(db_path)).values()
    refusal = "failed to get http url content" if source == "url" else "wrong file identifier"
    assert status == "out" and reason is not None
    assert reason.lower().startswith(f"telegram refused it 3 times in a row: {refusal}")
    out = [r.getMessage() for r in caplog.records if "out of service" in r.getMessage()]
    assert len(out) == 1 and 'pack "shapes", task "bad"' in out[0]
    async with Database(db_path) as db:
        (progress,) = await pack_progress(db)
        assert (progress.media_out, progress.tasks, progress.answers_wanted) == (1, 5, 5)
        released = await db.value(
            "SELECT COUNT(*) FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk"
            " WHERE t.task_id = 'bad' AND a.status = 'released'"
        )
    assert released == 3


async def test_refusals_count_only_in_a_row(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    """A URL that fails twice and is then fetched stays in service: the count starts again."""
    url = "https://example.org/flaky.png"
    tasks = [{"id": "flaky", "text": "a picture on a flaky server", "image": url}]
    tasks += [{"id": f"t{n}", "text": f"text task {n}"} for n in range(4)]
    await load(db_path, media_pack(tmp_path, tasks, overlap=1))
    await start_bot()
    await join_and_first_task(sim, 51)
    await join_and_first_task(sim, 52)
    async with Database(db_path) as db:
        assert await db.value("SELECT failures FROM task_media") == 2
    sim.files.web[url] = shape_png("circle", RED)  # the server is back
    shown = await join_and_first_task(sim, 53)
    assert "flaky" in shown.text and shown.file_id is not None
    await settled(sim)
    async with Database(db_path) as db:
        assert await db.value("SELECT failures FROM task_media") == 0
    assert await media_states(db_path) == {}


async def test_after_3_media_that_cannot_be_shown_in_a_row_the_worker_is_told_to_try_again(
    sim: SimulatorServer, start_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    """A worker is not sent through a whole pack of broken media in one go, nor left holding a
    task they cannot see (nothing to answer blind): after MEDIA_TRIES tasks in a row they are
    told to send /task, which goes on with the next ones."""
    tasks = [
        {"id": f"u{n}", "text": f"broken {n}", "image": f"https://example.org/{n}.png"}
        for n in range(5)
    ]
    await load(db_path, media_pack(tmp_path, tasks, overlap=1))
    await start_bot()
    sim.add_user(61, "Lou", language_code="en")
    sim.send_text(61, "/start")
    welcome = (await sim.wait_for(61, has_button("consent"), timeout=10)).message
    assert welcome is not None
    sim.press(61, welcome.message_id, "consent")
    told = await sim.wait_for_text(61, "cannot be shown right now", timeout=10)
    assert "/task" in told.text and not told.buttons
    assert sim.calls["sendPhoto"] == MEDIA_TRIES
    async with Database(db_path) as db:
        assert await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'open'") == 0
    sim.send_text(61, "/task")  # the two broken tasks left, then nothing
    await sim.wait_for_text(61, "No task left", timeout=10)
    assert sim.calls["sendPhoto"] == len(tasks)
    assert not any("broken" in m.text for m in sim.chat(61).bot_messages)
