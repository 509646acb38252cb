"""One user flooding the bot must not slow anyone else down."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from db import Database
from simulator import SimulatorServer
from tasks.clock import Clock
from tasks.packs import load_pack
from tests.helpers import RunBot, answer_data, join

WORKERS = 20
PRESSES = 8
FLOOD = 200


async def test_a_flood_from_one_user_leaves_the_others_answered_within_a_second(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, write_pack: Callable[..., Path]
) -> None:
    async with Database(db_path) as db:
        report = await load_pack(db, write_pack(tasks=WORKERS * PRESSES), clock=Clock())
    assert report.ok
    app = await run_bot()
    tasks = await asyncio.gather(*(join(sim, uid) for uid in range(1, WORKERS + 1)))

    # A stranger who never agreed to anything sends 200 commands and texts at once.
    sim.add_user(999, "Flood", language_code="en")
    words = ["/start", "/balance", "/task", "/help"]
    for i in range(FLOOD):
        sim.send_text(999, words[i % 4] if i % 5 else f"hello {i}")

    waits: list[float] = []
    answered = 0

    async def work(uid: int) -> None:
        nonlocal answered
        message = tasks[uid - 1]
        for _ in range(PRESSES):
            pressed = time.monotonic()
            query = sim.press(uid, message.message_id, answer_data(message))
            await sim.wait_callback_answer(query, timeout=10)
            answered += 1
            await sim.wait_for(uid, lambda e: e.kind == "edit", timeout=10)
            waits.append(time.monotonic() - pressed)
            message = sim.chat(uid).messages[message.message_id]

    async def newcomer() -> float:
        started = time.monotonic()
        await join(sim, 500)  # /start, consent, first task, in the middle of the flood
        return time.monotonic() - started

    joined, *_ = await asyncio.gather(newcomer(), *(work(uid) for uid in range(1, WORKERS + 1)))
    assert joined < 2.0, f"a newcomer waited {joined:.1f} s for their first task"
    p95 = statistics.quantiles(waits, n=20)[-1]
    print(
        f"press-to-next-task p50 {statistics.median(waits):.3f} s, p95 {p95:.3f} s;"
        f" newcomer's first task after {joined:.2f} s"
    )
    assert answered == WORKERS * PRESSES  # every press answered, none too old
    assert p95 < 1.0, f"press-to-next-task p95 {p95:.3f} s"
    # The flooder got some answers, but their burst was cut short rather than queued.
    replies = [e for e in sim.chat(999).events if e.kind == "message"]
    assert 1 <= len(replies) < 20
    processor = app.update_processor
    assert processor.dropped >= FLOOD - 20
