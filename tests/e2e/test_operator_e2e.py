"""Operators steer from the phone: /packs and its buttons, /export (the CLI's bytes), /worker
with suspend and reinstate, /broadcast, /stats, the menu; and nobody else can do any of it.
The real bot through the simulator."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from db import Database
from simulator import SimMessage, SimulatorServer
from tasks.clock import Clock
from tasks.packs import load_pack
from tests.helpers import (
    RunBot,
    answer_data,
    cli,
    has_button,
    join,
    press_and_wait,
    table,
)

OPERATOR = 900
WORKER = 42
OUTSIDER = 77
PACK_ID = "reviews"


@pytest.fixture
async def bot_with_pack(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, write_pack: Any
) -> Any:
    async with Database(db_path) as db:
        report = await load_pack(db, write_pack(PACK_ID, 6), clock=Clock())
    assert report.ok, report.errors
    app = await run_bot(operator_ids=str(OPERATOR), quiet_hours="off")
    sim.add_user(OPERATOR, "Olga", language_code="en")
    sim.send_text(OPERATOR, "/help")
    await sim.wait_for_text(OPERATOR, "Operator", timeout=10)
    return app


async def command(sim: SimulatorServer, text: str, expect: str) -> SimMessage:
    sim.send_text(OPERATOR, text)
    return await sim.wait_for_text(OPERATOR, expect, timeout=10)


async def press(sim: SimulatorServer, message: SimMessage, label: str) -> None:
    button = next(b for b in message.buttons if b.text == label)
    assert button.callback_data is not None and button.callback_data.startswith("o:")
    sim.press(OPERATOR, message.message_id, button.callback_data)


async def status(db_path: Path) -> str:
    async with Database(db_path) as db:
        rows = await table(db, "SELECT status FROM packs WHERE id = ?", PACK_ID)
    return str(rows[0][0])


async def test_packs_shows_progress_and_its_buttons_pause_resume_and_close(
    sim: SimulatorServer, bot_with_pack: Any, db_path: Path
) -> None:
    task = await join(sim, WORKER)
    await press_and_wait(sim, WORKER, task, answer_data(task))
    card = await command(sim, "/packs", "answers")
    assert "Reviews <sentiment> & more reviews · active" in card.text
    assert "1/18 answers" in card.text and "0/6 tasks done" in card.text
    assert "Spent: 0.02 EUR · active (1 h): 1" in card.text
    assert [b.text for b in card.buttons] == ["Details", "⏸ Pause", "⬇️ Export", "⏹ Close"]

    await press(sim, card, "Details")
    details = await sim.wait_for_text(OPERATOR, "Median time per task", timeout=10)
    assert "Answers: 1 of 18" in details.text

    await press(sim, card, "⬇️ Export")
    menu = await sim.wait_for_text(OPERATOR, "which file", timeout=10)
    assert [b.text for b in menu.buttons] == [
        "Results CSV",
        "Results JSONL",
        "Raw answers CSV",
        "Raw answers JSONL",
    ]

    await press(sim, card, "⏸ Pause")
    await sim.wait_for_text(OPERATOR, "paused", timeout=10)
    assert await status(db_path) == "paused"
    card = await command(sim, "/packs", "answers")
    await press(sim, card, "▶️ Resume")
    await sim.wait_for_text(OPERATOR, "resumed", timeout=10)
    assert await status(db_path) == "active"

    await press(sim, card, "⏹ Close")
    question = await sim.wait_for_text(OPERATOR, "for good", timeout=10)
    assert await status(db_path) == "active"  # nothing before the confirmation
    await press(sim, question, "Yes, close it")
    await sim.wait_for_text(OPERATOR, "closed", timeout=10)
    assert await status(db_path) == "closed"


async def test_the_chat_export_is_the_cli_export_byte_for_byte(
    sim: SimulatorServer, bot_with_pack: Any, db_path: Path, tmp_path: Path
) -> None:
    for worker in (WORKER, WORKER + 1):
        task: SimMessage | None = await join(sim, worker)
        for choice in (0, 1):
            assert task is not None
            _, task = await press_and_wait(sim, worker, task, answer_data(task, choice))
    choices = [
        ("Results CSV", ["--format", "csv"]),
        ("Results JSONL", ["--format", "jsonl"]),
        ("Raw answers CSV", ["--format", "csv", "--raw"]),
        ("Raw answers JSONL", ["--format", "jsonl", "--raw"]),
    ]
    for label, flags in choices:
        menu = await command(sim, f"/export {PACK_ID}", "which file")
        await press(sim, menu, label)
        event = await sim.wait_for(
            OPERATOR, lambda e: e.message is not None and e.message.media_kind == "document", 10
        )
        assert event.message is not None and event.message.file_id is not None
        sent = sim.files.by_id[event.message.file_id]
        out = tmp_path / f"cli-{len(flags)}-{flags[1]}"
        done = cli("export", PACK_ID, *flags, "--out", str(out), db=db_path)
        assert done.returncode == 0, done.stderr
        assert sent.data == out.read_bytes(), label
        assert len(sent.data.splitlines()) > 1
        assert "Same bytes as python -m bot export" in event.message.text


async def test_a_suspended_worker_is_told_the_reason_within_five_seconds(
    sim: SimulatorServer, bot_with_pack: Any, db_path: Path
) -> None:
    await join(sim, WORKER)
    card = await command(sim, f"/worker {WORKER}", "Earned")
    assert f"Worker{WORKER}" in card.text and "active" in card.text
    await press(sim, card, "⛔ Suspend")
    await sim.wait_for_text(OPERATOR, "Reply in one message", timeout=10)
    sent = time.monotonic()
    sim.send_text(OPERATOR, "Answers too fast to be read <b>& more</b>")
    told = await sim.wait_for_text(WORKER, "suspended", timeout=5)
    elapsed = time.monotonic() - sent
    assert elapsed < 5
    assert "Reason: Answers too fast to be read <b>& more</b>" in told.text  # escaped, shown
    await sim.wait_for_text(OPERATOR, "suspended; they are told", timeout=10)
    async with Database(db_path) as db:
        rows = await table(db, "SELECT suspension_reason FROM workers WHERE id = ?", WORKER)
        assert rows == [("Answers too fast to be read <b>& more</b>",)]
        # The open task went back to the others at once.
        open_tasks = await table(
            db, "SELECT COUNT(*) FROM assignments WHERE worker_id = ? AND status = 'open'", WORKER
        )
        assert open_tasks == [(0,)]
    sim.send_text(WORKER, "/task")
    await sim.wait_for_text(WORKER, "Your access to tasks is suspended by the team", timeout=10)

    card = await command(sim, f"/worker {WORKER}", "Earned")
    assert "suspended (Answers too fast" in card.text
    await press(sim, card, "✅ Reinstate")
    await sim.wait_for_text(OPERATOR, "Reply in one message", timeout=10)
    sim.send_text(OPERATOR, "Checked: you were right.")
    back = await sim.wait_for_text(WORKER, "You can work again", timeout=5)
    assert "Checked: you were right." in back.text
    sim.send_text(WORKER, "/task")
    await sim.wait_for(WORKER, has_button("a:"), timeout=10)


async def test_workers_counts_and_a_broadcast_after_its_confirmation(
    sim: SimulatorServer, bot_with_pack: Any, db_path: Path
) -> None:
    await join(sim, WORKER)
    await join(sim, WORKER + 1)
    await join(sim, WORKER + 2)
    sim.block(WORKER + 2)
    for _ in range(100):  # the my_chat_member update marks them blocked
        async with Database(db_path) as db:
            blocked = await table(db, "SELECT COUNT(*) FROM workers WHERE blocked_at IS NOT NULL")
        if blocked == [(1,)]:
            break
        await asyncio.sleep(0.05)
    counts = await command(sim, "/workers", "Active")
    assert "Workers: 4" in counts.text  # the operator wrote too: a worker row
    assert "Active: 2 · suspended: 0 · blocked the bot: 1" in counts.text

    question = await command(sim, "/broadcast New pack on Monday!\nThanks <all>", "will go to")
    assert "This message will go to 2 workers" in question.text
    assert question.text.endswith("New pack on Monday!\nThanks <all>")
    await press(sim, question, "Send to 2")
    await sim.wait_for_text(OPERATOR, "queued for 2 workers", timeout=10)
    for worker in (WORKER, WORKER + 1):
        got = await sim.wait_for_text(worker, "New pack on Monday", timeout=10)
        assert got.text == "📣 New pack on Monday!\nThanks <all>"
    async with Database(db_path) as db:
        lanes = await table(db, "SELECT DISTINCT lane FROM outbox WHERE kind = 'op_broadcast'")
    assert lanes == [("bulk",)]


async def test_stats_sends_a_chart_with_the_key_numbers(
    sim: SimulatorServer, bot_with_pack: Any
) -> None:
    task = await join(sim, WORKER)
    await press_and_wait(sim, WORKER, task, answer_data(task))
    sim.send_text(OPERATOR, f"/stats {PACK_ID}")
    event = await sim.wait_for(
        OPERATOR, lambda e: e.message is not None and e.message.media_kind == "photo", 20
    )
    assert event.message is not None and event.message.file_id is not None
    png = sim.files.by_id[event.message.file_id].data
    assert png.startswith(b"\x89PNG")
    assert event.message.media[0]["width"] == 990  # type: ignore[index]
    assert "1/18 answers" in event.message.text and "peak: 1/h" in event.message.text


async def test_each_operator_gets_the_operator_menu_in_their_language(
    sim: SimulatorServer, run_bot: RunBot
) -> None:
    sim.add_user(901, "Odile", language_code="fr")
    sim.send_text(901, "/start")  # opened the bot before it started
    await run_bot(operator_ids=f"{OPERATOR},901", quiet_hours="off")
    await sim.wait_for(901, timeout=10)
    menus = {key: [c["command"] for c in value] for key, value in sim.commands.items()}
    french = sim.commands[('{"chat_id": 901, "type": "chat"}', "")]
    assert french[0] == {"command": "packs", "description": "Packs : avancement et actions"}
    assert "packs" not in menus[('{"type": "default"}', "")]
    # The operator who had never written gets theirs (in English) once they do.
    sim.add_user(OPERATOR, "Olga", language_code="en")
    sim.send_text(OPERATOR, "/help")
    await sim.wait_for_text(OPERATOR, "Operator", timeout=10)
    english = sim.commands[('{"chat_id": 900, "type": "chat"}', "")]
    assert english[0] == {"command": "packs", "description": "Packs: progress and actions"}
