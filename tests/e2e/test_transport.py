"""The Bot API transport (bot/transport/request.py): bulk sends have their own connections, so a
broadcast in flight never makes an answer wait for a connection."""

from __future__ import annotations

import asyncio
import time

from telegram.request import RequestData

from bot.transport.request import AiohttpRequest
from handlers.telegram_bot import BULK_LANE, bulk_lane
from simulator import SimulatorServer


async def test_a_slow_bulk_send_does_not_hold_the_connection_an_answer_needs(
    sim: SimulatorServer,
) -> None:
    request = AiohttpRequest(connection_pool_size=1, bulk_pool_size=1, bulk=BULK_LANE.get)
    await request.initialize()
    url = f"{sim.bot_base_url}{sim.token}"
    try:
        sim.inject_fault("getMe", status=0, delay=1.0)  # the next call (the bulk one) takes 1 s

        async def bulk_call() -> None:
            with bulk_lane():
                await request.post(f"{url}/getMe", RequestData())

        slow = asyncio.create_task(bulk_call())
        await asyncio.sleep(0.1)  # the bulk call holds its connection
        started = time.monotonic()
        me = await request.post(f"{url}/getMe", RequestData())  # an interactive call
        waited = time.monotonic() - started
        assert isinstance(me, dict) and me["is_bot"]
        assert waited < 0.5, f"the interactive call waited {waited:.2f} s for a connection"
        assert not slow.done()
        await slow
    finally:
        await request.shutdown()


async def test_without_a_bulk_pool_every_call_shares_the_one_pool(sim: SimulatorServer) -> None:
    request = AiohttpRequest(connection_pool_size=1)
    await request.initialize()
    url = f"{sim.bot_base_url}{sim.token}"
    try:
        sim.inject_fault("getMe", status=0, delay=0.6)
        with bulk_lane():
            slow = asyncio.create_task(request.post(f"{url}/getMe", RequestData()))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await request.post(f"{url}/getMe", RequestData())
        assert time.monotonic() - started >= 0.4  # it waited for the one connection
        await slow
    finally:
        await request.shutdown()
