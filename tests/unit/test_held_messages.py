"""Messages queued for a worker who blocked the bot are held, not dropped for good: when the
worker comes back (any update from them), what still matters is queued again, once, in the unit
of work that sees them back, and what is stale is dropped (tasks/outbox.py `decide_held`)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from db import Database, Tx, to_db_time
from db import outbox as outbox_db
from db.core import available_migrations
from db.outbox import Held
from tasks.clock import FakeClock
from tasks.earnings import EarningsConfig
from tasks.operator.workers import WorkerDesk
from tasks.outbox import STALE_AFTER, OutboxService, SendResult, decide_held
from tasks.work import WorkService
from tests.helpers import enrol

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
OPERATOR = 900
FIGURES = json.dumps({"EUR": {"earned": 1, "top_up": 0, "unpaid": 1, "active_ms": 1}})


def held(
    kind: str, row_id: int, *, age: timedelta = timedelta(hours=1), week: str | None = None
) -> Held:
    return Held(row_id, kind, to_db_time(NOW - age), week)


def test_money_always_the_newest_statement_only_and_stale_news_dropped() -> None:
    decided = decide_held(
        [
            held("statement", 1, week="2026-W48"),
            held("payout", 2),
            held("bonus", 3, age=timedelta(days=60)),  # money is never stale
            held("adjustment", 4),
            held("statement", 5, week="2026-W49"),
            held("op_broadcast", 6, age=STALE_AFTER + timedelta(minutes=1)),
            held("op_broadcast", 7, age=STALE_AFTER - timedelta(minutes=1)),
            held("dispute_accepted", 8, age=timedelta(days=1)),
            held("quality_lifted", 9, age=timedelta(days=30)),
        ],
        newest_week="2026-W49",
        barred=False,
        now=NOW,
    )
    assert decided.requeued == [2, 3, 4, 5, 7, 8]
    assert [row for row, _ in decided.dropped] == [1, 6, 9]
    assert dict(decided.dropped)[1] == "the statement of 2026-W48, not the newest"
    assert dict(decided.dropped)[6] == "older than 7 days"


def test_a_statement_newer_than_every_held_one_leaves_none_to_send() -> None:
    """The newest statement reached them already (sent before they blocked, or decided at an
    earlier return): an older one held is not sent now."""
    decided = decide_held(
        [held("statement", 1, week="2026-W48")], newest_week="2026-W49", barred=False, now=NOW
    )
    assert decided.requeued == [] and [row for row, _ in decided.dropped] == [1]


def test_only_the_standing_that_is_still_true_is_told() -> None:
    def standing(kinds: list[str], barred: bool) -> list[int]:
        rows = [held(kind, number) for number, kind in enumerate(kinds, start=1)]
        return decide_held(rows, newest_week=None, barred=barred, now=NOW).requeued

    # Barred while away, still barred: the reason, once (the latest one).
    assert standing(["op_suspended"], barred=True) == [1]
    assert standing(["op_suspended", "op_reinstated", "op_suspended"], barred=True) == [3]
    # Suspended and reinstated while away: they never heard of either; neither is told.
    assert standing(["op_suspended", "op_reinstated"], barred=False) == []
    # Told of the suspension before they blocked the bot, reinstated while away: told.
    assert standing(["op_reinstated"], barred=False) == [1]
    # A held message that no longer agrees with the worker's state (changed outside it).
    assert standing(["op_suspended"], barred=False) == []
    assert standing(["op_reinstated"], barred=True) == []


def sender(db: Database, clock: FakeClock) -> OutboxService:
    """The outbox's rules, at any hour (no quiet hours)."""
    return OutboxService(db, EarningsConfig(zone=UTC, quiet_hours=None), clock)


async def add_statement(db: Database, worker: int, week: str, now: str) -> None:
    def insert(tx: Tx) -> None:
        statement = tx.insert(
            "INSERT INTO statements (worker_id, week, tasks, checks, correct, figures,"
            " created_at) VALUES (?, ?, 1, 0, 0, ?, ?)",
            (worker, week, FIGURES, now),
        )
        outbox_db.enqueue(
            tx,
            recipient=worker,
            kind="statement",
            params={"statement_id": statement},
            dedupe_key=f"statement:{week}:{worker}",
            now=now,
            lane="bulk",
        )

    await db.run(insert)


async def queue(db: Database, worker: int, kind: str, now: str, lane: str = "interactive") -> None:
    params: dict[str, Any] = {"amount_micros": 1_000_000, "currency": "EUR", "reason": "r"}
    if kind == "op_broadcast":
        params = {"body": "Hello"}

    def insert(tx: Tx) -> None:
        outbox_db.enqueue(
            tx,
            recipient=worker,
            kind=kind,
            params=params,
            dedupe_key=f"{kind}:{worker}:{now}",
            now=now,
            lane=lane,  # type: ignore[arg-type]
        )

    await db.run(insert)


async def claim_all(outbox: OutboxService) -> list[tuple[int, str]]:
    """Claims every due row of both lanes and records each sent: what went out."""
    sent = []
    for lane in ("interactive", "bulk"):
        claimed, _ = await outbox.claim(lane, 100)  # type: ignore[arg-type]
        for item in claimed:
            await outbox.record(item, SendResult.SENT)
            sent.append((item.row_id, item.content.__class__.__name__))
    return sent


async def kinds_sent(db: Database, worker: int) -> list[str]:
    rows = await db.query(
        "SELECT kind FROM outbox WHERE recipient = ? AND status = 'sent' ORDER BY id", (worker,)
    )
    return [row[0] for row in rows]


async def test_a_worker_back_after_blocking_gets_the_money_and_the_newest_statement_once(
    db: Database, work: WorkService, clock: FakeClock
) -> None:
    """Blocked: a payout, a bonus, two weeks' statements, a suspension (lifted meanwhile), an
    old broadcast and a recent one are held. Back: each thing that matters goes out once."""
    clock.advance(days=-20)  # the story starts 20 days before NOW
    await enrol(work, 1)
    await work.mark_blocked(1)
    start = clock.now()
    outbox = sender(db, clock)
    desk = WorkerDesk(db, clock)

    await queue(db, 1, "op_broadcast", to_db_time(start), lane="bulk")  # 20 days old: stale
    clock.advance(days=12)
    await add_statement(db, 1, "2026-W48", to_db_time(clock.now()))
    assert await desk.bar(OPERATOR, 1, "Too fast") == "done"
    clock.advance(days=6)
    await add_statement(db, 1, "2026-W49", to_db_time(clock.now()))
    await queue(db, 1, "payout", to_db_time(clock.now()), lane="bulk")
    await queue(db, 1, "bonus", to_db_time(clock.now()))
    assert await desk.unbar(OPERATOR, 1, "Checked: fine") == "done"
    await queue(db, 1, "op_broadcast", to_db_time(clock.now()), lane="bulk")  # 2 days: fresh
    clock.advance(days=2)

    assert await claim_all(outbox) == []  # the sender meets the block: everything is held
    states = await db.query("SELECT status, held_at IS NOT NULL FROM outbox")
    assert {tuple(row) for row in states} == {("blocked", 1)} and len(states) == 8

    await work.meet(1, first_name="W", username=None, language_code="en", default_language="en")
    sent = await claim_all(outbox)
    assert len(sent) == len({row for row, _ in sent}) == 4
    assert sorted(await kinds_sent(db, 1)) == ["bonus", "op_broadcast", "payout", "statement"]
    week = await db.value(
        "SELECT s.week FROM outbox AS o JOIN statements AS s"
        " ON s.id = json_extract(o.params, '$.statement_id') WHERE o.status = 'sent'"
    )
    assert week == "2026-W49"

    # The stale ones stay undelivered, held no more, and say why.
    dropped = await db.query(
        "SELECT kind, last_error FROM outbox WHERE status = 'blocked' AND held_at IS NULL"
        " ORDER BY id"
    )
    assert [row[0] for row in dropped] == [
        "op_broadcast",
        "statement",
        "op_suspended",
        "op_reinstated",
    ]
    assert all(
        row[1].startswith("blocked by the user; dropped on their return: ") for row in dropped
    )

    # Nothing twice: another look, another update from them, a new block and return.
    assert await claim_all(outbox) == []
    await work.meet(1, first_name="W", username=None, language_code="en", default_language="en")
    await work.mark_blocked(1)
    await work.meet(1, first_name="W", username=None, language_code="en", default_language="en")
    assert await claim_all(outbox) == []
    assert len(await kinds_sent(db, 1)) == 4


async def test_a_press_or_a_command_brings_a_worker_back_as_writing_does(
    db: Database, work: WorkService, clock: FakeClock
) -> None:
    outbox = sender(db, clock)
    for worker in (1, 2, 3):
        await enrol(work, worker)
        await work.mark_blocked(worker)
        await queue(db, worker, "bonus", to_db_time(clock.now()))
    assert await claim_all(outbox) == []

    await work.resume(1)  # /task
    await work.pause(2)  # /pause
    await work.set_language(3, "fr")  # a language button
    assert await db.value("SELECT COUNT(*) FROM outbox WHERE status = 'due'") == 3
    assert len(await claim_all(outbox)) == 3
    assert await db.value("SELECT COUNT(*) FROM workers WHERE blocked_at IS NOT NULL") == 0


async def test_an_answer_press_from_a_blocked_worker_brings_them_back(
    db: Database, work: WorkService, clock: FakeClock, load: Any
) -> None:
    await load(tasks=3, overlap=1)
    card = await enrol(work, 1)
    assert card is not None and hasattr(card, "assignment_id")
    await work.mark_blocked(1)  # their open task goes back to the pool
    await queue(db, 1, "payout", to_db_time(clock.now()), lane="bulk")
    outbox = sender(db, clock)
    assert await claim_all(outbox) == []
    await work.answer(worker_id=1, assignment_id=card.assignment_id, choice=0)  # a late press
    assert [kind for _, kind in await claim_all(outbox)] == ["Notice"]


async def test_a_403_recorded_after_the_worker_came_back_is_sent_again_not_held(
    db: Database, work: WorkService, clock: FakeClock
) -> None:
    """The sender marks the worker blocked on a 403, then records the row; if the worker came
    back in between, their return found nothing held: the row is due again instead."""
    await enrol(work, 1)
    await queue(db, 1, "bonus", to_db_time(clock.now()))
    outbox = sender(db, clock)
    (item,), _ = await outbox.claim("interactive", 10)
    await work.mark_blocked(1)  # the 403
    await work.meet(1, first_name="W", username=None, language_code="en", default_language="en")
    await outbox.record(item, SendResult.BLOCKED)
    again, _ = await outbox.claim("interactive", 10)
    assert [row.row_id for row in again] == [item.row_id]


async def test_the_return_reads_only_the_held_rows_of_that_worker(db: Database) -> None:
    def plan(tx: Tx) -> list[str]:
        sql = "SELECT id FROM outbox WHERE recipient = ? AND held_at IS NOT NULL ORDER BY id"
        return [row[3] for row in tx.all(f"EXPLAIN QUERY PLAN {sql}", (1,))]

    details = await db.run_read(plan)
    assert any("outbox_held" in line for line in details), details


async def test_messages_given_up_before_the_upgrade_are_held_for_workers_still_blocked(
    tmp_path: Path,
) -> None:
    """Migration 014: rows closed 'blocked' for a worker still blocked are held (decided when
    they come back); those of a worker who already came back stay as they were."""
    path = tmp_path / "before.sqlite3"
    stamp = to_db_time(NOW)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    for version, name, sql in available_migrations():
        if version < 14:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, stamp))
    conn.executemany(
        "INSERT INTO workers (id, first_name, language, created_at, last_seen_at, blocked_at)"
        " VALUES (?, 'W', 'en', ?, ?, ?)",
        [(1, stamp, stamp, stamp), (2, stamp, stamp, None)],
    )
    conn.executemany(
        "INSERT INTO outbox (recipient, kind, params, dedupe_key, status, due_at, created_at)"
        " VALUES (?, 'bonus', '{}', ?, ?, ?, ?)",
        [
            (1, "b1", "blocked", stamp, stamp),
            (2, "b2", "blocked", stamp, stamp),
            (1, "b3", "sent", stamp, stamp),
        ],
    )
    conn.commit()
    conn.close()
    async with Database(path) as db:
        rows = await db.query("SELECT dedupe_key, held_at FROM outbox ORDER BY id")
    assert [tuple(row) for row in rows] == [("b1", stamp), ("b2", None), ("b3", None)]
