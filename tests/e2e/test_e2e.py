"""The real bot (the Application `run` builds) against the Bot API simulator, over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import bot.jobs
from bot.app import stop_polling
from db import Database
from simulator import SimulatorServer
from tasks.clock import Clock, OffsetClock
from tasks.packs import load_pack
from tests.helpers import RunBot, answer_data, has_button, is_task, join, press_and_wait, text_has

StartBot = RunBot


@pytest.fixture
def load_into(db_path: Path, write_pack: Callable[..., Path]) -> Callable[..., Awaitable[None]]:
    async def loader(pack_id: str = "reviews", tasks: int = 5, **header: Any) -> None:
        async with Database(db_path) as db:
            report = await load_pack(db, write_pack(pack_id, tasks, **header), clock=Clock())
        assert report.ok, report.errors

    return loader


@pytest.fixture
def start_bot(run_bot: RunBot, monkeypatch: pytest.MonkeyPatch) -> RunBot:
    monkeypatch.setattr(bot.jobs, "LEASE_CHECK_SECONDS", 0.2)
    monkeypatch.setattr(bot.jobs, "NEW_WORK_CHECK_SECONDS", 0.3)
    return run_bot


async def stored(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> Any:
    async with Database(db_path) as db:
        return await db.value(sql, params)


async def test_a_worker_consents_answers_and_is_paid(
    sim: SimulatorServer, start_bot: StartBot, load_into: Any, db_path: Path
) -> None:
    await load_into(tasks=3)
    await start_bot()
    sim.add_user(1, "Awa", language_code="fr")
    sim.send_text(1, "/start")
    welcome = await sim.wait_for(1, has_button("consent"), timeout=10)
    assert welcome.message is not None
    assert "0,02 EUR" in welcome.message.text  # the pay, before consent
    assert "Reviews <sentiment> & more" in welcome.message.text  # escaped, shown as written
    assert not any(is_task(e) for e in sim.chat(1).events)  # no task before consent

    sim.press(1, welcome.message.message_id, "consent")
    task = (await sim.wait_for(1, is_task, timeout=10)).message
    assert task is not None
    assert "Review number 0: fine & <ok>" in task.text
    labels = [b.text for b in task.buttons]
    assert labels == ["Positive", "Negative", "Neutral", "Passer ⏭"]
    toast, screen = await press_and_wait(sim, 1, task, answer_data(task, 0))
    assert "Enregistré" in str(toast.get("text"))
    await sim.wait_for(1, lambda e: e.kind == "edit", timeout=10)
    screen = sim.chat(1).messages[task.message_id]
    assert "Enregistré" in screen.text and "Review number 1" in screen.text  # edited in place
    assert (
        await stored(db_path, "SELECT SUM(amount_micros) FROM ledger WHERE worker_id = 1") == 20_000
    )

    sim.send_text(1, "/balance")
    balance = await sim.wait_for(1, text_has("0,02 EUR"), timeout=10)
    assert balance.message is not None and "1" in balance.message.text


async def test_skip_double_tap_and_forged_callbacks_store_nothing_more(
    sim: SimulatorServer, start_bot: StartBot, load_into: Any, db_path: Path
) -> None:
    await load_into(tasks=4)
    await start_bot()
    task = await join(sim, 1)
    theirs = answer_data(await join(sim, 2), 0)

    skip = task.buttons_with_prefix("s:")[0].callback_data
    assert skip is not None
    toast, _ = await press_and_wait(sim, 1, task, skip)
    assert "skipped" in str(toast.get("text")).lower()
    await sim.wait_for(1, lambda e: e.kind == "edit", timeout=10)

    current = sim.chat(1).messages[task.message_id]
    data = answer_data(current, 1)
    first = sim.press(1, current.message_id, data)
    second = sim.press(1, current.message_id, data, check=False)  # a double tap
    toasts = [await sim.wait_callback_answer(q, timeout=10) for q in (first, second)]
    texts = [str(t["params"].get("text")) for t in toasts]
    assert "Recorded" in texts[0] and "Already recorded" in texts[1]

    assignment = int(data.split(":")[1])
    forged = [
        "a:99999:0",  # no such assignment
        theirs,  # worker 2's task
        f"a:{assignment}:7",  # no such option
        "x" * 64,  # an unknown shape
        "a:1:0;DROP",
    ]
    for data in forged:
        toast, _ = await press_and_wait(sim, 1, current, data, check=False)
        assert toast.get("text"), f"{data!r} got no notice"
    assert await stored(db_path, "SELECT COUNT(*) FROM ledger") == 1
    assert await stored(db_path, "SELECT COUNT(*) FROM assignments WHERE status = 'answered'") == 1


async def test_an_expired_lease_is_refused_politely_and_not_counted(
    sim: SimulatorServer, start_bot: StartBot, load_into: Any, db_path: Path
) -> None:
    await load_into(tasks=2, overlap=1, lease_seconds=30)
    clock = OffsetClock()
    await start_bot(clock)
    task = await join(sim, 1)
    clock.advance(seconds=31)
    # The lease job (every 0.2 s here) returns the task to the pool, and worker 2 gets it.
    await asyncio.sleep(0.6)
    task2 = await join(sim, 2)
    assert task2.text.splitlines()[-1] == task.text.splitlines()[-1]
    toast, _ = await press_and_wait(sim, 1, task, answer_data(task))
    assert "expired" in str(toast.get("text")).lower()
    edited = await sim.wait_for(1, lambda e: e.kind == "edit", timeout=10)
    assert edited.message is not None and "not counted" in edited.message.text
    assert await stored(db_path, "SELECT COUNT(*) FROM ledger") == 0


async def test_a_worker_who_blocked_the_bot_is_skipped_and_comes_back_by_writing(
    sim: SimulatorServer, start_bot: StartBot, load_into: Any, db_path: Path
) -> None:
    await load_into(pack_id="first", tasks=1, overlap=2)
    await start_bot()
    for user in (1, 2):
        task = await join(sim, user)
        await press_and_wait(sim, user, task, answer_data(task))
        await sim.wait_for(user, text_has("No task left"), timeout=10)
    sim.block(1, notify=False)  # Telegram does not always tell: the 403 must be enough
    await load_into(pack_id="second", tasks=2, overlap=2)
    # Both waiting workers are told of new work; worker 1's send fails with 403.
    await sim.wait_for(2, has_button("go"), timeout=10)
    for _ in range(50):
        if await stored(db_path, "SELECT blocked_at FROM workers WHERE id = 1"):
            break
        await asyncio.sleep(0.1)
    assert await stored(db_path, "SELECT blocked_at FROM workers WHERE id = 1") is not None
    assert await stored(db_path, "SELECT blocked_at FROM workers WHERE id = 2") is None

    sim.unblock(1, notify=False)
    sim.send_text(1, "/task")
    back = await sim.wait_for(1, is_task, timeout=10)
    assert back.message is not None
    assert await stored(db_path, "SELECT blocked_at FROM workers WHERE id = 1") is None


async def test_a_429_storm_loses_no_push_and_no_answer(
    sim: SimulatorServer, start_bot: StartBot, load_into: Any, db_path: Path
) -> None:
    await load_into(tasks=10, overlap=2)
    app = await start_bot()
    sim.storm_429(1.5, retry_after=1)
    sim.inject_fault("editMessageText", status=502, count=3)
    tasks = await asyncio.gather(*(join(sim, user) for user in range(1, 6)))
    for user, task in enumerate(tasks, 1):
        toast, _ = await press_and_wait(sim, user, task, answer_data(task))
        assert "Recorded" in str(toast.get("text"))
    for user in range(1, 6):
        await sim.wait_for(user, lambda e: e.kind == "edit", timeout=15)
    assert await stored(db_path, "SELECT COUNT(*) FROM ledger") == 5
    assert app.bot.rate_limiter.retries >= 3


async def test_a_restart_in_the_middle_carries_on_where_it_was(
    sim: SimulatorServer, start_bot: StartBot, load_into: Any, db_path: Path
) -> None:
    await load_into(tasks=6, overlap=1)
    first = await start_bot()
    task = await join(sim, 1)
    await press_and_wait(sim, 1, task, answer_data(task))
    await sim.wait_for(1, lambda e: e.kind == "edit", timeout=10)
    await stop_polling(first)

    # While the bot is down the worker presses: the update waits on Telegram's side.
    current = sim.chat(1).messages[task.message_id]
    query = sim.press(1, current.message_id, answer_data(current, 2))
    await start_bot()
    answer = await sim.wait_callback_answer(query, timeout=10)
    assert "Recorded" in str(answer["params"].get("text"))
    assert await stored(db_path, "SELECT COUNT(*) FROM ledger") == 2
    assert await stored(db_path, "SELECT COUNT(*) FROM assignments WHERE status = 'open'") == 1


async def test_commands_are_registered_in_both_languages(
    sim: SimulatorServer, start_bot: StartBot
) -> None:
    await start_bot()
    menus = json.dumps(list(sim.commands.values()), default=str, ensure_ascii=False)
    assert "Recevoir une tâche" in menus and "Get a task" in menus


async def test_pause_stops_pushes_and_task_resumes(
    sim: SimulatorServer, start_bot: StartBot, load_into: Any, db_path: Path
) -> None:
    await load_into(tasks=3, overlap=1)
    await start_bot()
    await join(sim, 1)
    sim.send_text(1, "/pause")
    await sim.wait_for(1, text_has("Paused"), timeout=10)
    assert await stored(db_path, "SELECT COUNT(*) FROM assignments WHERE status = 'open'") == 0
    sim.send_text(1, "/task")
    resumed = await sim.wait_for(1, is_task, timeout=10)
    assert resumed.message is not None
