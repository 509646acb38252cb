"""The one outbox's rules: what a version-3 database had queued moves in whole; operator
messages reach each operator on their own row; a lane of people is never stuck behind a
broadcast; a refusal is not retried; the sender's reads use their index."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from db import Database, Tx, to_db_time
from db import outbox as outbox_db
from db import quality as quality_db
from db.core import available_migrations
from tasks.clock import FakeClock
from tasks.earnings import EarningsConfig
from tasks.outbox import OutboxService, SendResult, TextMessage
from tasks.payouts import Notice
from tasks.statements import Statement

PARIS = ZoneInfo("Europe/Paris")
NOON = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # Wednesday, 12:00 in Paris
STAMP = to_db_time(NOON)


def at_version_3(path: Path) -> None:
    """A database as the bot left it before the one outbox, with something queued everywhere."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    for version, name, sql in available_migrations():
        if version <= 3:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, STAMP))
    for worker in (1, 2, 3):
        conn.execute(
            "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
            " VALUES (?, 'W', 'en', ?, ?)",
            (worker, STAMP, STAMP),
        )
    conn.executemany(
        "INSERT INTO outbox (worker_id, text_key, params, dedupe_key, created_at, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (None, "op_needs_gold", '{"pack": "p", "gold": 6}', "needs-gold:1:6", STAMP, None),
            (1, "quality_lifted", '{"pack": "P"}', None, STAMP, None),
            (
                2,
                "dispute_rejected",
                '{"pack": "P", "task": "t", "reason": "r"}',
                None,
                STAMP,
                STAMP,
            ),
        ],
    )
    conn.executemany(
        "INSERT INTO notices (worker_id, key, kind, params, status, due_at, attempts, last_error,"
        " created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (1, "bonus:1:x", "bonus", '{"amount_micros": 1, "currency": "EUR", "reason": "r"}',
             "due", STAMP, 0, None, STAMP, None),
            (2, "payout:d:2:EUR", "payout", '{"amount_micros": 2, "currency": "EUR"}',
             "failed", STAMP, 5, "NetworkError: down", STAMP, None),
        ],
    )  # fmt: skip
    figures = json.dumps({"EUR": {"earned": 1, "top_up": 0, "unpaid": 1, "active_ms": 1}})
    conn.executemany(
        "INSERT INTO statements (id, worker_id, week, tasks, checks, correct, figures, status,"
        " due_at, attempts, created_at, sent_at) VALUES (?, ?, '2026-W48', 1, 0, 0, ?, ?, ?, ?,"
        " ?, ?)",
        [
            (10, 1, figures, "sent", STAMP, 1, STAMP, STAMP),
            (11, 2, figures, "sending", "2026-12-02T11:02:00.000000Z", 1, STAMP, None),
            (12, 3, figures, "due", "2026-12-07T08:00:00.000000Z", 0, STAMP, None),
        ],
    )
    conn.commit()
    conn.close()


async def test_a_version_3_database_moves_into_the_one_outbox_with_nothing_lost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v3.sqlite3"
    at_version_3(path)
    async with Database(path) as db:
        rows = await db.query(
            "SELECT recipient, kind, dedupe_key, lane, status, due_at, attempts, last_error,"
            " sent_at IS NOT NULL FROM outbox ORDER BY id"
        )
        statements = await db.query("SELECT id, worker_id, week FROM statements ORDER BY id")
        tables = {row[0] for row in await db.query("SELECT name FROM sqlite_master")}
        columns = {row[1] for row in await db.query("PRAGMA table_info(statements)")}
    assert [tuple(row) for row in rows] == [
        (None, "op_needs_gold", "quality:needs-gold:1:6", "interactive", "due", STAMP, 0, None, 0),
        (1, "quality_lifted", "quality:old:2", "interactive", "due", STAMP, 0, None, 0),
        (2, "dispute_rejected", "quality:old:3", "interactive", "sent", STAMP, 0, None, 1),
        (1, "bonus", "bonus:1:x", "interactive", "due", STAMP, 0, None, 0),
        (2, "payout", "payout:d:2:EUR", "bulk", "failed", STAMP, 5, "NetworkError: down", 0),
        (1, "statement", "statement:2026-W48:1", "bulk", "sent", STAMP, 1, None, 1),
        (2, "statement", "statement:2026-W48:2", "bulk", "sending",
         "2026-12-02T11:02:00.000000Z", 1, None, 0),
        (3, "statement", "statement:2026-W48:3", "bulk", "due",
         "2026-12-07T08:00:00.000000Z", 0, None, 0),
    ]  # fmt: skip
    assert [tuple(row) for row in statements] == [(10, 1, "2026-W48"), (11, 2, "2026-W48"),
                                                  (12, 3, "2026-W48")]  # fmt: skip
    assert "notices" not in tables and "quality_outbox_old" not in tables
    assert not columns & {"status", "due_at", "attempts", "last_error", "sent_at"}

    # What was waiting is delivered by the one sender, statements with their figures.
    clock = FakeClock(NOON)
    service = OutboxService(db=await Database(path).open(), config=config(), clock=clock)
    try:
        interactive, _ = await service.claim("interactive", 10)
        clock.advance(minutes=3)  # the 'sending' statement's claim has run out
        bulk, _ = await service.claim("bulk", 10)
    finally:
        await service.db.close()
    assert [type(item.content) for item in interactive] == [TextMessage, Notice]
    assert [(item.recipient, type(item.content)) for item in bulk] == [(2, Statement)]
    statement = bulk[0].content
    assert isinstance(statement, Statement) and statement.week == "2026-W48"
    assert bulk[0].attempts == 2  # sent again: it may have gone out before the upgrade


def config(**values: Any) -> EarningsConfig:
    return EarningsConfig(zone=PARIS, **values)


async def add_worker(db: Database, worker: int, zone: str | None = None) -> None:
    def insert(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO workers (id, first_name, language, timezone, created_at, last_seen_at)"
            " VALUES (?, 'W', 'en', ?, ?, ?)",
            (worker, zone, STAMP, STAMP),
        )

    await db.run(insert)


async def test_an_operator_message_reaches_each_operator_on_a_row_of_its_own(
    db: Database,
) -> None:
    await add_worker(db, 901)  # an operator who is also a worker, in English
    await db.run(
        quality_db.add_message, None, "op_new_dispute", '{"id": 1, "pack": "p"}', STAMP, "d:1"
    )
    service = OutboxService(db, config(), FakeClock(NOON), frozenset({900, 901}))
    claimed, looked = await service.claim("interactive", 10)
    assert (claimed, looked) == ([], 1)  # the original is settled: copied
    claimed, _ = await service.claim("interactive", 10)
    # Each operator in their own language: 901 wrote in English; 900 never wrote (the default).
    assert [(item.recipient, item.language) for item in claimed] == [(900, None), (901, "en")]
    await service.record(claimed[0], SendResult.REFUSED, "BadRequest: Chat not found")
    await service.record(claimed[1], SendResult.SENT)
    rows = await db.query("SELECT recipient, dedupe_key, status, attempts FROM outbox")
    assert [tuple(row) for row in rows] == [
        (None, "quality:d:1", "sent", 0),
        (900, "quality:d:1>operator:900", "failed", 1),  # refused: not retried
        (901, "quality:d:1>operator:901", "sent", 1),
    ]
    assert await service.claim("interactive", 10) == ([], 0)


async def test_a_quality_message_without_a_key_is_its_own_and_with_a_key_is_once(
    db: Database,
) -> None:
    await add_worker(db, 1)
    for _ in range(2):
        await db.run(quality_db.add_message, 1, "quality_lifted", '{"pack": "P"}', STAMP)
        await db.run(
            quality_db.add_message, None, "op_needs_gold", '{"pack": "p"}', STAMP, "needs-gold:1"
        )
    kinds = await db.query("SELECT kind, COUNT(*) FROM outbox GROUP BY kind ORDER BY kind")
    assert [tuple(row) for row in kinds] == [("op_needs_gold", 1), ("quality_lifted", 2)]


async def test_people_are_not_stuck_behind_a_broadcast(db: Database) -> None:
    for worker in range(1, 6):
        await add_worker(db, worker)

    def queue(tx: Tx) -> None:
        for worker in range(1, 6):
            outbox_db.enqueue(
                tx,
                recipient=worker,
                kind="payout",
                params={"amount_micros": 1, "currency": "EUR"},
                dedupe_key=f"payout:b:{worker}",
                now=STAMP,
                lane="bulk",
            )
        outbox_db.enqueue(
            tx,
            recipient=3,
            kind="bonus",
            params={"amount_micros": 1, "currency": "EUR", "reason": "r"},
            dedupe_key="bonus:3",
            now=to_db_time(NOON.replace(minute=5)),  # queued after the broadcast
        )

    await db.run(queue)
    clock = FakeClock(NOON.replace(minute=6))
    service = OutboxService(db, config(), clock)
    assert await service.anything_due()
    bulk, _ = await service.claim("bulk", 2)
    interactive, _ = await service.claim("interactive", 2)
    assert [item.recipient for item in bulk] == [1, 2]
    assert [(item.recipient, item.lane) for item in interactive] == [(3, "interactive")]


async def test_quiet_hours_postpone_and_a_blocked_worker_closes_the_row(db: Database) -> None:
    await add_worker(db, 1, zone="America/New_York")  # 06:00 there at noon in Paris
    await add_worker(db, 2)

    def queue(tx: Tx) -> None:
        for worker in (1, 2):
            outbox_db.enqueue(
                tx,
                recipient=worker,
                kind="quality_lifted",
                params={"pack": "P"},
                dedupe_key=f"lifted:{worker}",
                now=STAMP,
            )
        tx.execute("UPDATE workers SET blocked_at = ? WHERE id = 2", (STAMP,))

    await db.run(queue)
    clock = FakeClock(NOON)
    service = OutboxService(db, config(), clock)
    assert await service.claim("interactive", 10) == ([], 2)
    rows = await db.query("SELECT recipient, status, due_at FROM outbox ORDER BY recipient")
    assert [tuple(row) for row in rows] == [
        (1, "due", "2026-12-02T13:00:00.000000Z"),  # 08:00 in New York
        (2, "blocked", STAMP),
    ]
    assert not await service.anything_due()
    clock.advance(hours=2)
    claimed, _ = await service.claim("interactive", 10)
    assert [item.recipient for item in claimed] == [1]


async def test_the_senders_reads_use_the_outbox_index(db: Database) -> None:
    def plans(tx: Tx) -> list[str]:
        found = []
        for sql, params in (
            (outbox_db.NEXT_DUE_SQL, ()),
            ("SELECT id FROM outbox WHERE lane = ? AND status IN ('due', 'sending')"
             " AND due_at <= ? ORDER BY due_at, id LIMIT 10", ("bulk", STAMP)),
        ):  # fmt: skip
            found += [row[3] for row in tx.all(f"EXPLAIN QUERY PLAN {sql}", params)]
        return found

    details = await db.run_read(plans)
    searches = [line for line in details if "outbox" in line]
    assert searches and all("USING" in line and "outbox_pending" in line for line in searches)
    assert not any("TEMP B-TREE" in line for line in details)  # no sort
