"""The update processor: per-user order, a bounded share of the slots, bursts cut short."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Chat, Message, Update, User

from bot.transport.processor import PerUserUpdateProcessor


def message(update_id: int, user_id: int, text: str) -> Update:
    user = User(user_id, f"U{user_id}", is_bot=False)
    chat = Chat(user_id, "private")
    return Update(update_id, message=Message(update_id, None, chat, from_user=user, text=text))  # type: ignore[arg-type]


async def test_a_burst_of_the_same_command_is_answered_once() -> None:
    processor = PerUserUpdateProcessor(4)
    runs: list[str] = []
    release = asyncio.Event()

    async def handle(text: str) -> None:
        runs.append(text)
        await release.wait()

    burst = [
        asyncio.create_task(processor.process_update(message(i, 7, "/balance"), handle("/balance")))
        for i in range(10)
    ]
    await asyncio.sleep(0.01)
    release.set()
    await asyncio.gather(*burst)
    assert runs == ["/balance"]
    assert processor.dropped == 9


async def test_a_flooding_user_holds_one_running_slot_and_others_still_run() -> None:
    processor = PerUserUpdateProcessor(2)
    flood_release = asyncio.Event()
    order: list[str] = []

    async def slow(text: str) -> None:
        order.append(text)
        await flood_release.wait()

    async def quick(text: str) -> None:
        order.append(text)

    flood = [
        asyncio.create_task(processor.process_update(message(i, 1, f"spam {i}"), slow(f"spam {i}")))
        for i in range(50)
    ]
    await asyncio.sleep(0.01)
    # The flooder's first message runs; three more wait; the rest are dropped, not queued.
    assert order == ["spam 0"] and processor.dropped == 46
    other: Any = processor.process_update(message(100, 2, "/start"), quick("/start"))
    await asyncio.wait_for(other, timeout=1)  # one slot is free: the flooder holds only one
    assert order == ["spam 0", "/start"]
    flood_release.set()
    await asyncio.gather(*flood)
    assert order == ["spam 0", "/start", "spam 1", "spam 2", "spam 3"]  # in the user's order
