"""A worker who blocked the bot comes back and gets what still matters, once: the real bot
against the simulator, the CLI in another process on the same database.

While they block the bot, a broadcast, two weeks' statements, a payout notice, a bonus, and a
suspension lifted meanwhile are queued for them and held (not dropped for good). When they send
/start again, the money notices and the newest statement reach them, once each; the broadcast
(older than 7 days), the older statement and the suspension that no longer holds do not.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import bot.jobs
from db import Database
from simulator import SimulatorServer
from tasks.clock import Clock, OffsetClock
from tasks.packs import load_pack
from tests.helpers import RunBot, answer_data, join, press_and_redraw, table

OPERATOR = 900
WORKER = 1


@pytest.fixture(autouse=True)
def quick_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.jobs, "STATEMENT_CHECK_SECONDS", 0.3)
    monkeypatch.setattr(bot.jobs, "SENDER_CHECK_SECONDS", 0.3)


async def cli(db_path: Path, *args: str) -> str:
    """`python -m bot ARGS` in another process while the bot runs; its output."""
    env = {**os.environ, "DATABASE_PATH": str(db_path), "PTB_TIMEDELTA": "1"}
    env.pop("BOT_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=db_path.parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def settled(db_path: Path, expected_rows: int, sent: int = 0) -> list[tuple[Any, ...]]:
    """The worker's outbox rows once there are `expected_rows`, `sent` of them sent, and none
    is due or sending (a row is recorded sent just after the simulated user has it)."""
    async with Database(db_path) as db, asyncio.timeout(20):
        while True:
            rows = await table(
                db,
                "SELECT kind, status, held_at IS NOT NULL FROM outbox WHERE recipient = ?"
                " ORDER BY id",
                WORKER,
            )
            statuses = [row[1] for row in rows]
            if (
                len(rows) >= expected_rows
                and statuses.count("sent") >= sent
                and not {"due", "sending"} & set(statuses)
            ):
                return rows
            await asyncio.sleep(0.05)


async def steer(sim: SimulatorServer, button: str, reason: str, done: str) -> None:
    """The operator suspends or reinstates the worker from /worker, with a reason."""
    sim.send_text(OPERATOR, f"/worker {WORKER}")
    card = await sim.wait_for_text(OPERATOR, "Last answer", timeout=10)
    data = next(b.callback_data for b in card.buttons if b.text == button)
    assert data is not None
    sim.press(OPERATOR, card.message_id, data)
    await sim.wait_for_text(OPERATOR, "Reply in one message", timeout=10)
    sim.send_text(OPERATOR, reason)
    await sim.wait_for_text(OPERATOR, done, timeout=10)


async def test_a_worker_back_after_blocking_gets_the_money_and_the_newest_statement_once(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, write_pack: Any, tmp_path: Path
) -> None:
    async with Database(db_path) as db:
        assert (await load_pack(db, write_pack("reviews", 4), clock=Clock())).ok
    clock = OffsetClock()
    await run_bot(clock, operator_ids=str(OPERATOR), quiet_hours="off")
    sim.add_user(OPERATOR, "Olga", language_code="en").started = True
    task = await join(sim, WORKER)
    await press_and_redraw(sim, WORKER, task, answer_data(task))  # 0.02 EUR; the next task

    # They block the bot; the bot learns of it at its next send (a broadcast): held.
    sim.block(WORKER, notify=False)
    sim.send_text(OPERATOR, "/broadcast Old news")
    question = await sim.wait_for_text(OPERATOR, "will go to 1 workers", timeout=10)
    send = next(b.callback_data for b in question.buttons if b.text.startswith("Send"))
    assert send is not None
    sim.press(OPERATOR, question.message_id, send)
    assert await settled(db_path, 1) == [("op_broadcast", "blocked", 1)]

    # Suspended and reinstated while away: neither is news when they come back.
    await steer(sim, "⛔ Suspend", "Too fast", "suspended; they are told")
    await steer(sim, "✅ Reinstate", "Checked: fine", "reinstated; they are told")

    # A week later: that week's statement; then a payout of it and a bonus; then, a week
    # later still, the statement of a week with only the bonus owed.
    clock.advance(days=8)
    await settled(db_path, 4)
    payouts = tmp_path / "payouts.csv"
    await cli(db_path, "payouts", "export", "--min", "0.01", "--out", str(payouts))
    await cli(db_path, "payouts", "mark-paid", str(payouts))
    await cli(db_path, "bonus", str(WORKER), "2.50", "--reason", "Careful work")
    clock.advance(days=7)
    rows = await settled(db_path, 7)
    assert [kind for kind, *_ in rows] == [
        "op_broadcast",
        "op_suspended",
        "op_reinstated",
        "statement",
        "payout",
        "bonus",
        "statement",
    ]
    assert all(status == "blocked" and held for _, status, held in rows)  # all held
    before = len(sim.chat(WORKER).bot_messages)

    # Back: /start.
    sim.unblock(WORKER, notify=False)
    sim.send_text(WORKER, "/start")
    await sim.wait_for_text(WORKER, "Welcome back", timeout=10)
    rows = await settled(db_path, 7, sent=3)
    assert [(kind, status) for kind, status, _ in rows] == [
        ("op_broadcast", "blocked"),  # 15 days old: stale
        ("op_suspended", "blocked"),  # lifted while they were away
        ("op_reinstated", "blocked"),
        ("statement", "blocked"),  # an older week: /balance sums it up
        ("payout", "sent"),
        ("bonus", "sent"),
        ("statement", "sent"),  # the newest week
    ]
    assert not any(held for *_, held in rows)  # each decided once

    texts = [m.text for m in sim.chat(WORKER).bot_messages[before:]]
    assert sum("Payout made" in text for text in texts) == 1
    assert sum("Bonus: 2.50 EUR" in text for text in texts) == 1
    statements = [text for text in texts if "Your statement for week" in text]
    assert len(statements) == 1 and "Unpaid balance: 2.50 EUR" in statements[0]
    assert not any("Old news" in text or "suspended" in text.lower() for text in texts)
    assert not any("You can work again" in text for text in texts)

    # Nothing twice: they write again, and nothing more comes from the outbox.
    sim.send_text(WORKER, "/help")
    await sim.wait_for_text(WORKER, "Petites Mains, how it works", timeout=10)
    assert await settled(db_path, 7, sent=3) == rows
    async with Database(db_path) as db:
        assert await table(db, "SELECT blocked_at FROM workers WHERE id = ?", WORKER) == [(None,)]
