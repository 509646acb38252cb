"""The users' side: presses and the bot's answers to them, and waiting for what the bot shows."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import BadRequest

from simulator import SimulatorServer
from tests.helpers import USER, keyboard


async def test_press_callback_and_answers(sim: SimulatorServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "task", reply_markup=keyboard([("A", "a:1:0")]))
    with pytest.raises(ValueError):
        sim.press(USER, msg.message_id, "a:9:9")
    qid = sim.press(USER, msg.message_id, "a:1:0")
    forged = sim.press(USER, msg.message_id, "a:9:9", check=False)
    updates = await bot.get_updates(offset=2)
    query = updates[0].callback_query
    assert query is not None and query.id == qid and query.data == "a:1:0"
    assert query.from_user.id == USER and query.message is not None
    assert query.message.message_id == msg.message_id
    assert updates[1].callback_query is not None and updates[1].callback_query.data == "a:9:9"
    waiter = asyncio.create_task(sim.wait_callback_answer(qid))
    assert await query.answer("Merci !")
    record = await asyncio.wait_for(waiter, 1)
    assert record["params"]["text"] == "Merci !" and record["user_id"] == USER
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(qid)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("nonsense")
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.answer_callback_query(forged, text="x" * 201)
    sim.callback_timeout = 0.0
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(forged)
    event = await sim.wait_for(USER, lambda e: e.kind == "callback_answer")
    assert event.data["text"] == "Merci !"


async def test_wait_for_sees_earlier_events_once(sim: SimulatorServer, bot: Bot) -> None:
    sim.rate_limits = False
    await bot.send_message(USER, "Bienvenue !")
    await bot.send_message(USER, "Deuxième")
    first = await sim.wait_for_text(USER, "Bienvenue")
    assert first.message_id == 2
    with pytest.raises(TimeoutError):
        await sim.wait_for_text(USER, "Bienvenue", timeout=0.1)
    later = asyncio.create_task(sim.wait_for_text(USER, "Troisième"))
    await asyncio.sleep(0.05)
    await bot.send_message(USER, "Troisième")
    assert (await asyncio.wait_for(later, 1)).message_id == 4
    queue = sim.subscribe(USER)
    await bot.send_message(USER, "Quatrième")
    event = queue.get_nowait()
    assert event.kind == "message" and event.message is not None
    assert event.message.text == "Quatrième"
