"""Statements and notices sent by the real bot through the Bot API simulator: once per worker
and week across a restart, around a worker who blocked the bot, under a 429 storm, never in quiet
hours; and a bonus or payout recorded from the command line reaches the worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.jobs
from bot.app import stop_polling
from db import Database, Tx, to_db_time
from simulator import SimulatorServer
from tasks.clock import OffsetClock
from tasks.payouts import export_payouts, grant_bonus, mark_paid
from tests.helpers import RunBot

StartBot = RunBot
# Wednesday 2 December 2026, 12:00 in Paris: last week (2026-W48) is due since Monday 09:00.
WEDNESDAY_NOON = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
LAST_WEEK = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def clock_at(moment: datetime) -> OffsetClock:
    clock = OffsetClock()
    clock.offset = moment - datetime.now(UTC)
    return clock


@pytest.fixture
def start_bot(run_bot: RunBot, monkeypatch: pytest.MonkeyPatch) -> StartBot:
    monkeypatch.setattr(bot.jobs, "STATEMENT_CHECK_SECONDS", 0.3)

    async def start(clock: OffsetClock, send_rate: float = 25) -> Any:
        return await run_bot(clock, send_rate=send_rate)

    return start


async def seed_workers(sim: SimulatorServer, db_path: Path, count: int) -> list[int]:
    """`count` workers who each earned 0.50 EUR last week and can receive messages."""
    ids = list(range(1, count + 1))
    stamp = to_db_time(LAST_WEEK)

    def seed(tx: Tx) -> None:
        for worker in ids:
            tx.execute(
                "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
                " VALUES (?, ?, 'en', ?, ?)",
                (worker, f"Worker{worker}", stamp, stamp),
            )
            tx.execute(
                "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
                " idempotency_key, created_at) VALUES (?, 'bonus', 500000, 'EUR', 'seed', ?, ?)",
                (worker, f"seed:{worker}", stamp),
            )

    async with Database(db_path) as db:
        await db.run(seed)
    for worker in ids:
        sim.add_user(worker, f"Worker{worker}", language_code="en").started = True
    return ids


def statements_of(sim: SimulatorServer, worker: int) -> list[Any]:
    return [m for m in sim.chat(worker).bot_messages if "Your statement for week" in m.text]


async def until(check: Callable[[], bool], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


async def stored(db_path: Path, sql: str) -> list[tuple[Any, ...]]:
    async with Database(db_path) as db:
        return [tuple(row) for row in await db.query(sql)]


async def test_each_worker_gets_one_statement_across_a_restart_mid_broadcast(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    workers = await seed_workers(sim, db_path, 30)
    clock = clock_at(WEDNESDAY_NOON)
    first = await start_bot(clock, send_rate=10)  # about 8 statements a second
    await until(lambda: sum(bool(statements_of(sim, w)) for w in workers) >= 8)
    await stop_polling(first)
    sent_before = sum(bool(statements_of(sim, w)) for w in workers)
    assert sent_before < len(workers)  # stopped in the middle

    await start_bot(clock, send_rate=10)
    await until(lambda: all(statements_of(sim, w) for w in workers))
    await asyncio.sleep(0.6)  # a few more triggers: nothing is sent twice
    assert [len(statements_of(sim, w)) for w in workers] == [1] * len(workers)
    message = statements_of(sim, 1)[0].text
    assert "2026-W48" in message and "Earned: 0.50 EUR" in message
    assert "Next payout: 2027-01-01" in message  # PAYOUT_DAY 1: after 2 December, 1 January
    by_status = "SELECT status, COUNT(*) FROM outbox WHERE kind = 'statement' GROUP BY status"
    assert await stored(db_path, by_status) == [("sent", 30)]


async def test_a_worker_who_blocked_the_bot_does_not_stop_the_broadcast(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    workers = await seed_workers(sim, db_path, 10)
    sim.block(3, notify=False)
    await start_bot(clock_at(WEDNESDAY_NOON))
    others = [w for w in workers if w != 3]
    await until(lambda: all(statements_of(sim, w) for w in others))
    for _ in range(50):
        rows = await stored(
            db_path, "SELECT status, attempts FROM outbox WHERE kind = 'statement' AND recipient=3"
        )
        if rows == [("blocked", 1)]:
            break
        await asyncio.sleep(0.1)
    assert rows == [("blocked", 1)]  # recorded, tried once
    assert await stored(db_path, "SELECT blocked_at IS NOT NULL FROM workers WHERE id = 3") == [
        (1,)
    ]


async def test_pacing_holds_under_a_429_storm_and_nothing_is_lost_or_doubled(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    """Deterministic whatever the machine's load: the storm is the first 12 sends (not a span of
    wall time that the broadcast may miss), and the pace is measured where the bot sets it, on
    the rate limiter's own clock (the instants its window counted each send), not by when the
    simulator happened to receive them."""
    workers = await seed_workers(sim, db_path, 45)
    sim.inject_fault("sendMessage", status=429, count=12, retry_after=1)
    app = await start_bot(clock_at(WEDNESDAY_NOON))
    await until(lambda: all(statements_of(sim, w) for w in workers), timeout=20)
    await asyncio.sleep(0.5)
    assert [len(statements_of(sim, w)) for w in workers] == [1] * len(workers)
    refused = [ok for _, method, ok in sim.call_log if method == "sendMessage" and not ok]
    assert len(refused) == 12
    limiter = app.bot.rate_limiter
    assert limiter.retries >= 12  # each 429 was waited out and retried
    sends = list(limiter.sent_at)
    assert len(sends) == 45 + 12
    # The limiter's own rule, checked over every send: none had 25 others in the second before.
    busiest = max(sum(1 for t in sends if now - 1.0 < t <= now) for now in sends)
    assert busiest <= 25  # Telegram's ~30 per second never reached


async def test_nothing_is_pushed_in_quiet_hours(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    workers = await seed_workers(sim, db_path, 3)
    night = WEDNESDAY_NOON + timedelta(hours=11)  # 23:00 in Paris
    clock = clock_at(night)
    await start_bot(clock)
    await asyncio.sleep(1.2)  # several triggers
    assert not any(statements_of(sim, w) for w in workers)
    clock.advance(hours=9)  # 08:00: the quiet hours are over
    await until(lambda: all(statements_of(sim, w) for w in workers))


async def test_a_bonus_and_a_payout_from_the_command_line_reach_the_worker(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    await seed_workers(sim, db_path, 1)
    clock = clock_at(WEDNESDAY_NOON)
    await start_bot(clock)
    await until(lambda: bool(statements_of(sim, 1)))
    async with Database(db_path) as db:  # another process would do the same: the CLI
        await grant_bonus(db, 1, 2_500_000, "EUR", "Great <work> on gold", zone=UTC, clock=clock)
        export = await export_payouts(db, 1, clock=clock)
        await mark_paid(db, [replace(export.rows[0], amount_micros=3_000_000)], clock=clock)

    def texts() -> list[str]:
        return [m.text for m in sim.chat(1).bot_messages]

    await until(
        lambda: sum("Bonus: 2.50 EUR" in t or "Payout made: 3.00 EUR" in t for t in texts()) == 2
    )
    assert any("Reason: Great <work> on gold" in text for text in texts())
