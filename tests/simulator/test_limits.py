"""Flood limits answered with 429 and retry_after, and injected faults that change no state."""

from __future__ import annotations

import asyncio
import datetime as dtm

import pytest
from aiohttp import ClientSession
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut

from simulator import SimulatorServer
from tests.helpers import USER, call


async def test_rate_limits_map_to_retry_after(sim: SimulatorServer, bot: Bot) -> None:
    for i in range(3):
        await bot.send_message(USER, f"burst {i}")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(USER, "one too many")
    assert err.value.retry_after == dtm.timedelta(seconds=1)
    assert len(sim.chat(USER).bot_messages) == 3
    # edits are not counted
    last = sim.chat(USER).last_message
    assert last is not None
    await bot.edit_message_text("edited", chat_id=USER, message_id=last.message_id)
    # a toggle at runtime
    sim.rate_limits = False
    for i in range(40):
        await bot.send_message(USER, f"free {i}")
    sim.rate_limits = True
    sim.reset_rate_limits()


async def test_global_rate_limit(sim: SimulatorServer, http: ClientSession) -> None:
    for uid in range(100, 140):
        sim.add_user(uid, f"u{uid}")
        sim.send_text(uid, "/start")
    statuses = [
        (await call(http, sim, "sendMessage", chat_id=uid, text="hi"))[0] for uid in range(100, 140)
    ]
    assert 30 <= statuses.count(200) <= 35  # burst 30, plus what refilled meanwhile
    assert 429 in statuses


async def test_faults_change_no_state(sim: SimulatorServer, bot: Bot, http: ClientSession) -> None:
    sim.inject_fault("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(USER, "x")
    assert err.value.retry_after == dtm.timedelta(seconds=7)
    sim.inject_fault("sendMessage", status=500, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "x")
    sim.inject_fault(None, status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_me()
    assert sim.chat(USER).bot_messages == []
    assert sim.calls["sendMessage"] == 3
    await bot.send_message(USER, "works again")
    # a hanging call: the client times out, yet the message is delivered, like Telegram
    sim.inject_fault("sendMessage", status=0, delay=0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "slow", read_timeout=0.1)
    await asyncio.sleep(0.6)
    last = sim.chat(USER).last_message
    assert last is not None and last.text == "slow"
    # storms
    sim.storm_429(0.3, retry_after=2)
    status, body = await call(http, sim, "sendMessage", chat_id=USER, text="x")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 2",
        "parameters": {"retry_after": 2},
    }
    status, _ = await call(http, sim, "getMe")
    assert status == 200
    await asyncio.sleep(0.35)
    sim.reset_rate_limits()
    status, _ = await call(http, sim, "sendMessage", chat_id=USER, text="x")
    assert status == 200
