"""The durable inbox (bot/transport/inbox.py, receive.py): updates left open are handled first
and in order, a poison update is set aside without holding up its user, a webhook POST is answered
only once its update is stored, and an update delivered twice is handled once."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.app import INBOX_KEY, build_application, start_webhook, stop_polling
from bot.settings import load_settings
from bot.transport.inbox import Inbox
from db import Database, to_db_time
from db import updates as inbox_db
from simulator import SimulatorServer
from tests.helpers import text_has

SECRET = "inbox-secret"


async def inbox_rows(db_path: Path) -> dict[int, tuple[Any, ...]]:
    async with Database(db_path) as db:
        rows = await db.query("SELECT update_id, processed_at, done_at, set_aside_at FROM inbox")
    return {row[0]: tuple(row[1:]) for row in rows}


def bot_texts(sim: SimulatorServer, user_id: int) -> list[str]:
    return [e.message.text for e in sim.chat(user_id).events if e.message and e.kind == "message"]


async def test_updates_left_open_by_a_dead_run_are_handled_first_and_in_order(
    sim: SimulatorServer, run_bot: Any, db_path: Path
) -> None:
    sim.add_user(1, "Ada", language_code="en")
    # A run that died had stored /help and /language and confirmed them to Telegram.
    sim.send_text(1, "/help")
    sim.send_text(1, "/language")
    left_open = list(sim.updates.queue)
    sim.updates.queue.clear()
    async with Database(db_path) as db:
        batch = [(u["update_id"], json.dumps(u)) for u in left_open]
        await db.run(inbox_db.store, batch, to_db_time(datetime.now(UTC)))
    sim.send_text(1, "/pause")  # sent while the bot was down: waits on Telegram's side
    await run_bot()
    await sim.wait_for(1, text_has("Paused"), timeout=10)
    texts = bot_texts(sim, 1)
    assert len(texts) == 3
    assert "how it works" in texts[0] and "Paused" in texts[2]  # /help, /language, /pause
    for _ in range(60):  # done marks are written within a second
        rows = await inbox_rows(db_path)
        if all(rows[u["update_id"]][1] is not None for u in left_open):
            break
        await asyncio.sleep(0.05)
    assert all(rows[u["update_id"]][1] is not None for u in left_open)


async def test_a_poison_update_is_set_aside_and_its_users_later_updates_go_on(
    sim: SimulatorServer, run_bot: Any, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = []

    async def explode(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        attempts.append(update.update_id)
        raise RuntimeError("this handler fails every time")

    def poison(app: Any) -> None:
        app.add_handler(MessageHandler(filters.Regex("^poison$"), explode), group=-5)
        app.bot_data[INBOX_KEY].retry_delays = (0.2, 0.2)

    await run_bot(before_start=poison)
    sim.add_user(1, "Ada", language_code="en")
    with caplog.at_level(logging.ERROR, logger="bot.transport.inbox"):
        bad = sim.send_text(1, "poison")
        sim.send_text(1, "/help")
        await sim.wait_for(1, text_has("how it works"), timeout=3)  # not held up by the retries
        for _ in range(100):
            if (await inbox_rows(db_path))[bad][2] is not None:
                break
            await asyncio.sleep(0.05)
    assert attempts == [bad, bad, bad]
    assert (await inbox_rows(db_path))[bad][2] is not None  # set aside
    assert any(f"update {bad} set aside" in r.getMessage() for r in caplog.records)
    sim.send_text(1, "/help")
    await sim.wait_for(1, text_has("how it works"), timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_webhook_post_is_answered_once_stored_and_a_repeat_is_handled_once(
    sim: SimulatorServer, db_path: Path
) -> None:
    settings = load_settings(
        bot_token=sim.token, telegram_api_url=sim.base_url, database_path=db_path, _env_file=None
    )
    app = build_application(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    await start_webhook(
        app, listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret=SECRET
    )
    try:
        sim.add_user(1, "Ada", language_code="en")
        sim.send_text(1, "/help")  # delivered by the simulator, like Telegram
        await sim.wait_for(1, text_has("how it works"), timeout=10)
        update = dict(sim.updates.all_updates[-1])
        update["update_id"] = 777_001
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with aiohttp.ClientSession() as http:
            for _ in range(2):  # Telegram sends it again (our first 200 was lost on the way)
                async with http.post(url, json=update, headers=headers) as resp:
                    assert resp.status == 200
                    assert 777_001 in await inbox_rows(db_path)  # stored before the 200
            inbox = app.bot_data[INBOX_KEY]
            store = inbox.store

            async def failing_store(updates: Any) -> Any:
                raise OSError("disk full")

            inbox.store = failing_store
            update["update_id"] = 777_002
            async with http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 500  # not stored: Telegram must send it again
            inbox.store = store
            async with http.post(
                url, json=update, headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "x"}
            ) as resp:
                assert resp.status == 403
        await sim.wait_for(1, text_has("how it works"), timeout=10)
        await asyncio.sleep(0.3)
        helps = [t for t in bot_texts(sim, 1) if "how it works" in t]
        assert len(helps) == 2  # the simulator's /help and 777001 once
        assert 777_002 not in await inbox_rows(db_path)
    finally:
        await stop_polling(app)


async def test_storing_updates_goes_before_the_transactions_waiting_not_the_running_one(
    tmp_path: Path,
) -> None:
    order: list[str] = []

    def unit(tx: Any, name: str, hold: float = 0.0) -> None:
        time.sleep(hold)  # on the database thread: the transaction holds its turn
        order.append(name)

    async with Database(tmp_path / "turns.sqlite3") as db:
        running = asyncio.create_task(db.run(unit, "running", 0.05))
        await asyncio.sleep(0.01)
        waiting = [asyncio.create_task(db.run(unit, f"handler {i}")) for i in range(3)]
        await asyncio.sleep(0.01)
        cancelled = asyncio.create_task(db.run(unit, "cancelled"))
        await asyncio.sleep(0.01)
        cancelled.cancel()
        store = asyncio.create_task(db.run_first(unit, "inbox"))
        await asyncio.gather(running, *waiting, store)
        assert await db.value("SELECT 1") == 1  # the turn was given back
    assert order == ["running", "inbox", "handler 0", "handler 1", "handler 2"]


async def test_the_inbox_forgets_done_updates_and_keeps_set_aside_ones_longer(
    tmp_path: Path,
) -> None:
    def at(minutes_ago: float) -> str:
        return to_db_time(datetime.now(UTC) - timedelta(minutes=minutes_ago))

    async with Database(tmp_path / "prune.sqlite3") as db:
        rows = [(i, json.dumps({"update_id": i})) for i in (1, 2, 3, 4)]
        await db.run(inbox_db.store, rows, at(60))
        await db.run(inbox_db.mark_done, [1], at(30))  # done half an hour ago
        await db.run(inbox_db.mark_done, [2], at(1))  # done a minute ago
        await db.run(inbox_db.set_aside, 3, at(30))  # a poison update, set aside
        inbox = Inbox(db)
        assert await inbox.prune() == 1
        left = {row[0] for row in await db.query("SELECT update_id FROM inbox")}
    assert left == {2, 3, 4}  # 4 is not done: never pruned
