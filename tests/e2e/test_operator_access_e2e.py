"""Someone who is not in OPERATOR_IDS sends every operator command, a pack file, and presses
every operator button (the callback data copied from the operator's screens): nothing changes,
they see nothing of the operator side (the worker's help instead), and each attempt is logged."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from db import Database
from simulator import SimMessage, SimulatorServer
from tasks.clock import Clock
from tasks.packs import load_pack
from tests.helpers import PACK_HEADER, RunBot, join, table

OPERATOR = 900
WORKER = 42
OUTSIDER = 77
PACK_ID = "reviews"
HELP = "Petites Mains, how it works"


async def operator_screen(sim: SimulatorServer, text: str, expect: str) -> SimMessage:
    sim.send_text(OPERATOR, text)
    return await sim.wait_for_text(OPERATOR, expect, timeout=10)


def pack_file(pack_id: str, tasks: int) -> bytes:
    rows = [{"id": f"t{i}", "text": f"text {i}"} for i in range(tasks)]
    return json.dumps({**PACK_HEADER, "id": pack_id, "tasks": rows}).encode()


async def database_state(db_path: Path) -> list[Any]:
    async with Database(db_path) as db:
        return [
            await table(db, "SELECT id, status, reward_micros FROM packs ORDER BY pk"),
            await table(db, "SELECT COUNT(*) FROM tasks"),
            await table(db, "SELECT id, suspended_at FROM workers ORDER BY id"),
            await table(db, "SELECT COUNT(*) FROM operator_actions"),
            await table(db, "SELECT COUNT(*) FROM broadcasts"),
            await table(db, "SELECT COUNT(*) FROM outbox"),
        ]


async def test_an_outsider_changes_nothing_and_sees_nothing(
    sim: SimulatorServer,
    run_bot: RunBot,
    db_path: Path,
    write_pack: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with Database(db_path) as db:
        assert (await load_pack(db, write_pack(PACK_ID, 4), clock=Clock())).ok
    await run_bot(operator_ids=str(OPERATOR), quiet_hours="off")
    sim.add_user(OPERATOR, "Olga", language_code="en")
    await join(sim, WORKER)
    await join(sim, OUTSIDER)

    # The operator's screens, and every button on them.
    screens = [
        await operator_screen(sim, "/packs", "answers"),
        await operator_screen(sim, f"/export {PACK_ID}", "which file"),
        await operator_screen(sim, f"/worker {WORKER}", "Earned"),
        await operator_screen(sim, "/broadcast Hello all", "will go to"),
    ]
    sim.send_document(OPERATOR, pack_file(PACK_ID, 2), "reviews.json")
    screens.append(await sim.wait_for_text(OPERATOR, "already exists", timeout=10))
    sim.press(OPERATOR, screens[0].message_id, screens[0].buttons[3].callback_data or "")
    screens.append(await sim.wait_for_text(OPERATOR, "for good", timeout=10))
    stolen = [b.callback_data for screen in screens for b in screen.buttons if b.callback_data]
    assert len(stolen) == 4 + 4 + 1 + 2 + 2 + 2
    assert all(data.startswith("o:") for data in stolen)

    before = await database_state(db_path)
    chat = sim.chat(OUTSIDER)
    cursor = chat.event_count
    caplog.set_level(logging.WARNING)
    commands = [
        "/packs",
        f"/stats {PACK_ID}",
        f"/export {PACK_ID}",
        "/workers",
        f"/worker {WORKER}",
        "/broadcast You are all fired",
        "/disputes",
    ]
    for text in commands:
        sim.send_text(OUTSIDER, text)
        await sim.wait_for_text(OUTSIDER, HELP, timeout=10)
    sim.send_document(OUTSIDER, pack_file("evil", 3), "evil.json")
    await sim.wait_for_text(OUTSIDER, HELP, timeout=10)
    sim.send_document(OUTSIDER, pack_file(PACK_ID, 1), "reviews.json")
    await sim.wait_for_text(OUTSIDER, HELP, timeout=10)
    own = sim.chat(OUTSIDER).last_message
    assert own is not None
    for data in stolen:  # replayed on a message of their own chat
        query = sim.press(OUTSIDER, own.message_id, data, check=False)
        answer = await sim.wait_callback_answer(query, timeout=10)
        assert answer["params"].get("text") is None
        await sim.wait_for_text(OUTSIDER, HELP, timeout=10)

    assert await database_state(db_path) == before
    seen = [event.message for _, event in chat.events_since(cursor) if event.message is not None]
    assert len(seen) == len(commands) + 2 + len(stolen)
    assert all(message.text.startswith(HELP) and message.media_kind is None for message in seen)
    assert all(not message.buttons for message in seen)
    refused = [r.getMessage() for r in caplog.records if "non-operator 77" in r.getMessage()]
    assert len(refused) == len(commands) + 2 + len(stolen)

    # The operator's own buttons still work: the outsider's presses used none of them up.
    pause = screens[0].buttons[1]
    assert pause.text == "⏸ Pause" and pause.callback_data
    sim.press(OPERATOR, screens[0].message_id, pause.callback_data)
    await sim.wait_for_text(OPERATOR, "paused", timeout=10)


async def test_an_operator_button_pressed_by_another_operator_does_nothing(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, write_pack: Any
) -> None:
    async with Database(db_path) as db:
        assert (await load_pack(db, write_pack(PACK_ID, 4), clock=Clock())).ok
    await run_bot(operator_ids=f"{OPERATOR},901", quiet_hours="off")
    sim.add_user(OPERATOR, "Olga", language_code="en")
    sim.add_user(901, "Odile", language_code="en")
    card = await operator_screen(sim, "/packs", "answers")
    sim.send_text(901, "/help")
    help_message = await sim.wait_for_text(901, "Operator", timeout=10)
    pause = card.buttons[1].callback_data
    assert pause is not None
    query = sim.press(901, help_message.message_id, pause, check=False)
    answer = await sim.wait_callback_answer(query, timeout=10)
    assert answer["params"]["text"] == "This button has expired: run the command again."
    async with Database(db_path) as db:
        assert await table(db, "SELECT status FROM packs") == [("active",)]
