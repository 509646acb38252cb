"""The text router (handlers/text_router.py) and the awaited replies behind it, through the real
bot and the simulator: an operator's reason survives a restart, an expired one is not taken, a
reason awaited wins over a reply to a task and over the open task, and a worker's text answer
is one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.app import stop_polling
from db import Database
from db.core import current_update
from handlers.deps import KEY, Services
from simulator import SimMessage, SimulatorServer
from simulator.state import ChatEvent
from tasks.clock import Clock, OffsetClock
from tasks.packs import load_pack
from tests.helpers import RunBot, join, table, text_has

OPERATOR = 900
WORKER = 42


def is_text_task(event: ChatEvent) -> bool:
    """A task message: it has a Skip button (a text task has no other)."""
    return event.message is not None and bool(event.message.buttons_with_prefix("s:"))


async def load_text_pack(db_path: Path, folder: Path, tasks: int = 6) -> None:
    pack = {
        "id": "typed",
        "title": "Typed",
        "instructions": "Write it.",
        "reward": "0.05",
        "type": "text",
        "options": [],
        "overlap": 2,
        "tasks": [{"id": f"x{i}", "text": f"texte {i}"} for i in range(tasks)],
    }
    path = folder / "typed.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    async with Database(db_path) as db:
        assert (await load_pack(db, path, clock=Clock())).ok


async def start(run_bot: RunBot, clock: OffsetClock | None = None) -> Any:
    return await run_bot(clock=clock, operator_ids=str(OPERATOR), quiet_hours="off")


async def worker_card(sim: SimulatorServer) -> SimMessage:
    sim.send_text(OPERATOR, f"/worker {WORKER}")
    return await sim.wait_for_text(OPERATOR, "Earned", timeout=10)


async def ask_reason(sim: SimulatorServer, label: str) -> None:
    """The operator presses Suspend or Reinstate on the worker's card: the bot asks why."""
    card = await worker_card(sim)
    button = next(b for b in card.buttons if b.text == label)
    assert button.callback_data is not None
    sim.press(OPERATOR, card.message_id, button.callback_data)
    await sim.wait_for_text(OPERATOR, "Reply in one message", timeout=10)


async def bar_reason(db_path: Path) -> list[tuple[Any, ...]]:
    async with Database(db_path) as db:
        return await table(db, "SELECT suspension_reason FROM workers WHERE id = ?", WORKER)


async def answers(db_path: Path) -> list[tuple[Any, ...]]:
    async with Database(db_path) as db:
        return await table(db, "SELECT answer FROM assignments WHERE answer IS NOT NULL")


async def test_a_reason_asked_before_a_restart_is_taken_after_it(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    await load_text_pack(db_path, tmp_path)
    first = await start(run_bot)
    sim.add_user(OPERATOR, "Olga", language_code="en")
    await join(sim, WORKER, first_task=is_text_task)
    await ask_reason(sim, "⛔ Suspend")
    await stop_polling(first)

    await start(run_bot)  # a new process: nothing of the question is left in memory
    sim.send_text(OPERATOR, "Asked before the restart")
    told = await sim.wait_for_text(WORKER, "suspended", timeout=10)
    assert "Reason: Asked before the restart" in told.text
    await sim.wait_for_text(OPERATOR, "suspended; they are told", timeout=10)
    assert await bar_reason(db_path) == [("Asked before the restart",)]


async def test_an_expired_reason_is_not_taken(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    await load_text_pack(db_path, tmp_path)
    clock = OffsetClock()
    await start(run_bot, clock)
    sim.add_user(OPERATOR, "Olga", language_code="en")
    await join(sim, WORKER, first_task=is_text_task)
    await ask_reason(sim, "⛔ Suspend")
    clock.advance(seconds=601)  # the bot waits 10 minutes for a reason
    sim.send_text(OPERATOR, "Too late to be a reason")
    # Not a reason any more: the message goes on down the router; the operator holds no task.
    await sim.wait_for(OPERATOR, text_has("I did not understand"), timeout=10)
    assert await bar_reason(db_path) == [(None,)]
    async with Database(db_path) as db:
        assert await db.value("SELECT COUNT(*) FROM awaited_replies") == 0


async def test_a_reason_awaited_comes_before_a_reply_to_a_task_and_the_open_task(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    """The operator works on text tasks too: while a reason is awaited, their next message is
    the reason, a plain message or a reply to their own task message alike; the message after
    it answers the task again."""
    await load_text_pack(db_path, tmp_path)
    await start(run_bot)
    task = await join(sim, OPERATOR, first_task=is_text_task)
    await join(sim, WORKER, first_task=is_text_task)

    await ask_reason(sim, "⛔ Suspend")
    sim.send_text(OPERATOR, "A plain message")  # step 1 before step 4 (the open task)
    await sim.wait_for_text(OPERATOR, "suspended; they are told", timeout=10)
    assert await bar_reason(db_path) == [("A plain message",)]

    await ask_reason(sim, "✅ Reinstate")
    sim.send_text(OPERATOR, "A reply to my task", reply_to=task.message_id)  # before step 2
    await sim.wait_for_text(OPERATOR, "reinstated; they are told", timeout=10)
    await sim.wait_for_text(WORKER, "You can work again", timeout=10)
    assert await answers(db_path) == []

    sim.send_text(OPERATOR, "Texte corrigé.", reply_to=task.message_id)  # nothing awaited now
    await sim.wait_for(OPERATOR, text_has("Recorded: Texte corrigé."), timeout=10)
    assert await answers(db_path) == [("Texte corrigé.",)]


async def test_a_text_answer_is_one_transaction(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, tmp_path: Path
) -> None:
    """The router's steps 3 and 4 share the answer's unit of work: looking for a dispute
    comment awaited costs no transaction of its own (it cost one before issue 18)."""
    await load_text_pack(db_path, tmp_path)
    app = await start(run_bot)
    await join(sim, WORKER, first_task=is_text_task)
    services: Services = app.bot_data[KEY]
    database = services.work.db
    run: Callable[..., Any] = database._run
    handled: list[str] = []

    async def counted(urgent: bool, begin: str, unit: Any, *rest: Any) -> Any:
        if current_update.get() is not None:  # while an update is handled
            handled.append(begin)
        return await run(urgent, begin, unit, *rest)

    database._run = counted  # type: ignore[method-assign]
    sim.send_text(WORKER, "Une réponse.")
    await sim.wait_for(WORKER, text_has("Recorded: Une réponse."), timeout=10)
    assert handled == ["BEGIN IMMEDIATE"]
