"""Weekly statements as stories: computed once per week, exact, queued in the outbox due at the
worker's morning, never sent in quiet hours, caught up after downtime, resent only when a sender
died mid-send."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from db import Database, Tx
from tasks.clock import FakeClock
from tasks.earnings import EarningsConfig, EarningsService, QuietHours
from tasks.outbox import CLAIM_SECONDS, Delivery, OutboxService, SendResult
from tasks.statements import Statement, StatementService
from tasks.work import WorkService
from tasks.work_results import TaskCard
from tests.helpers import enrol, press_card

Loader = Callable[..., Any]
PARIS = ZoneInfo("Europe/Paris")
MONDAY_W48 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # FakeClock's start: 09:00 in Paris


async def work_for(
    work: WorkService, clock: FakeClock, worker_id: int, tasks: int, seconds: float | list[float]
) -> None:
    """A worker joins and answers `tasks` tasks, taking `seconds` on each (or on each in turn)."""
    card = await enrol(work, worker_id)
    times = seconds if isinstance(seconds, list) else [seconds] * tasks
    for spent in times:
        assert isinstance(card, TaskCard)
        clock.advance(seconds=spent)
        card = (await press_card(work, worker_id, card)).next


def service(db: Database, clock: FakeClock, **config: Any) -> StatementService:
    return StatementService(db, EarningsConfig(zone=PARIS, **config), clock)


class Sender:
    """The outbox as the sender sees it (statements are in the bulk lane)."""

    def __init__(self, db: Database, clock: FakeClock, **config: Any) -> None:
        self.outbox = OutboxService(db, EarningsConfig(zone=PARIS, **config), clock)

    async def claim(self, limit: int) -> tuple[list[Delivery], int]:
        return await self.outbox.claim("bulk", limit)

    async def record(self, item: Delivery, result: SendResult, error: str = "") -> None:
        await self.outbox.record(item, result, error)


async def rows(db: Database, sql: str, *params: Any) -> list[Any]:
    return await db.query(sql, params)


async def test_a_week_is_computed_once_with_exact_figures(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=5, overlap=1, reward="0.02")
    await work_for(work, clock, 1, tasks=3, seconds=30)
    statements = service(db, clock)
    sender = Sender(db, clock)
    clock.advance(days=7)  # next Monday, 09:00 in Paris
    assert await statements.compute_due() == {"2026-W48": 1}
    assert await statements.compute_due() == {}  # once per week

    claimed, _ = await sender.claim(10)
    assert len(claimed) == 1
    statement = claimed[0].content
    assert isinstance(statement, Statement)
    assert (statement.week, statement.tasks) == ("2026-W48", 3)
    line = statement.lines["EUR"]
    assert (line.earned, line.unpaid, line.active_ms) == (60_000, 60_000, 90_000)
    assert line.hourly == 2_400_000  # 0.06 EUR in 90 s of work: 2.40 EUR/h
    assert statement.next_payout.isoformat() == "2026-12-01"


async def test_a_long_gap_counts_as_a_break_not_as_work(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=5, overlap=1, reward="0.02", lease_seconds=3600)
    await work_for(work, clock, 1, tasks=2, seconds=[20, 40 * 60])  # then left for 40 minutes
    balance = await EarningsService(db, clock).balance(1, PARIS)
    assert balance.active_ms == {"EUR": 20_000 + 300_000}  # the gap counts 5 minutes at most


async def test_the_statement_waits_for_nine_in_the_workers_own_zone(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=6, overlap=1)
    await work_for(work, clock, 1, tasks=1, seconds=10)
    await work_for(work, clock, 2, tasks=1, seconds=10)
    await db.run(Tx.execute, "UPDATE workers SET timezone = 'America/New_York' WHERE id = 2")
    statements = service(db, clock)
    sender = Sender(db, clock)
    clock.advance(days=7)  # Monday 09:00 in Paris is 03:00 in New York
    await statements.compute_due()
    claimed, _ = await sender.claim(10)
    assert [item.recipient for item in claimed] == [1]
    await sender.record(claimed[0], SendResult.SENT)
    clock.advance(hours=6)  # 09:00 in New York
    claimed, _ = await sender.claim(10)
    assert [item.recipient for item in claimed] == [2]


async def test_nothing_is_pushed_in_quiet_hours_it_waits_for_their_end(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=3, overlap=1)
    await work_for(work, clock, 1, tasks=1, seconds=10)
    statements = service(db, clock, quiet_hours=QuietHours(time(22), time(8)))
    sender = Sender(db, clock, quiet_hours=QuietHours(time(22), time(8)))
    clock.advance(days=7, hours=14)  # the bot was down all Monday: back at 23:00 in Paris
    await statements.compute_due()
    claimed, looked = await sender.claim(10)
    assert claimed == [] and looked == 1  # postponed, not sent
    clock.advance(hours=8, minutes=59)  # Tuesday 07:59
    assert (await sender.claim(10))[0] == []
    clock.advance(minutes=1)  # 08:00: quiet hours are over
    assert [item.recipient for item in (await sender.claim(10))[0]] == [1]


async def test_a_week_missed_during_downtime_is_computed_and_sent_once_late(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=3, overlap=1)
    await work_for(work, clock, 1, tasks=1, seconds=10)
    statements = service(db, clock)
    sender = Sender(db, clock)
    clock.advance(days=7)
    assert await statements.compute_due() == {"2026-W48": 1}
    for item in (await sender.claim(10))[0]:
        await sender.record(item, SendResult.SENT)
    clock.advance(days=14)  # down for two weeks: W49 and W50 were never computed
    assert await statements.compute_due() == {"2026-W49": 1, "2026-W50": 1}  # still owed money
    late, _ = await sender.claim(10)
    assert sorted(item.content.week for item in late if isinstance(item.content, Statement)) == [
        "2026-W49",
        "2026-W50",
    ]
    for item in late:
        await sender.record(item, SendResult.SENT)
    assert (await sender.claim(10))[0] == []
    sent = await rows(
        db,
        "SELECT s.week, o.status FROM statements AS s JOIN outbox AS o"
        " ON o.dedupe_key = 'statement:' || s.week || ':' || s.worker_id ORDER BY s.week",
    )
    assert [tuple(row) for row in sent] == [
        ("2026-W48", "sent"),
        ("2026-W49", "sent"),
        ("2026-W50", "sent"),
    ]


async def test_a_sender_that_died_between_send_and_commit_is_resent_after_its_claim(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=3, overlap=1)
    await work_for(work, clock, 1, tasks=1, seconds=10)
    statements = service(db, clock)
    sender = Sender(db, clock)
    clock.advance(days=7)
    await statements.compute_due()
    assert len((await sender.claim(10))[0]) == 1  # claimed, sent, then the process died
    assert (await sender.claim(10))[0] == []  # another sender leaves it alone meanwhile
    clock.advance(seconds=CLAIM_SECONDS)
    again, _ = await sender.claim(10)
    assert len(again) == 1 and again[0].attempts == 2  # at-least-once: sent again
    await sender.record(again[0], SendResult.SENT)
    assert (await sender.claim(10))[0] == []


async def test_a_blocked_worker_is_recorded_and_never_retried(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=4, overlap=1)
    await work_for(work, clock, 1, tasks=1, seconds=10)
    await work_for(work, clock, 2, tasks=1, seconds=10)
    statements = service(db, clock)
    sender = Sender(db, clock)
    clock.advance(days=7)
    await statements.compute_due()
    claimed, _ = await sender.claim(10)
    for item in claimed:
        if item.recipient == 1:  # a 403: the sender marks the worker blocked, then records
            await work.mark_blocked(1)
        outcome = SendResult.BLOCKED if item.recipient == 1 else SendResult.SENT
        await sender.record(item, outcome)
    clock.advance(days=1)
    assert (await sender.claim(10))[0] == []
    states = await rows(
        db, "SELECT recipient, status, held_at IS NOT NULL FROM outbox ORDER BY recipient"
    )
    # Held (not sent, not retried) until the worker comes back: tests/unit/test_held_messages.py
    assert [tuple(row) for row in states] == [(1, "blocked", 1), (2, "sent", 0)]


async def test_a_failed_send_is_retried_with_backoff_then_given_up(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=3, overlap=1)
    await work_for(work, clock, 1, tasks=1, seconds=10)
    statements = service(db, clock)
    sender = Sender(db, clock)
    clock.advance(days=7)
    await statements.compute_due()
    for attempt in range(1, 6):
        claimed, _ = await sender.claim(10)
        assert [item.attempts for item in claimed] == [attempt]
        await sender.record(claimed[0], SendResult.FAILED, "NetworkError: down")
        clock.advance(hours=1)
    assert (await sender.claim(10))[0] == []
    state = await rows(db, "SELECT status, attempts, last_error FROM outbox")
    assert tuple(state[0]) == ("failed", 5, "NetworkError: down")


async def test_a_pack_below_the_floor_with_top_up_brings_workers_to_the_floor_once(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=5, overlap=1, reward="0.02", top_up=True)
    await work_for(work, clock, 1, tasks=3, seconds=60)  # 0.06 EUR for 3 minutes: 1.20 EUR/h
    statements = service(db, clock, min_hourly_micros=12_000_000)
    sender = Sender(db, clock, min_hourly_micros=12_000_000)
    clock.advance(days=7)
    await statements.compute_week("2026-W48")
    await statements.compute_week("2026-W48")  # run twice: the key pays once
    top_ups = await rows(
        db, "SELECT amount_micros, idempotency_key FROM ledger WHERE kind = 'top_up'"
    )
    assert [tuple(row) for row in top_ups] == [(540_000, "top_up:1:reviews:2026-W48")]
    claimed, _ = await sender.claim(10)
    statement = claimed[0].content
    assert isinstance(statement, Statement)
    line = statement.lines["EUR"]
    assert (line.earned, line.top_up) == (600_000, 540_000)
    assert line.hourly == 12_000_000  # exactly the floor


async def test_a_pack_without_top_up_only_warns(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=5, overlap=1, reward="0.02")
    await work_for(work, clock, 1, tasks=3, seconds=60)
    earnings = EarningsService(db, clock, EarningsConfig(zone=PARIS))
    (rate,) = await earnings.pack_rates()
    assert (rate.median_seconds, rate.hourly_micros, rate.below_floor) == (60, 1_200_000, True)
    assert await earnings.expected_hourly_rate(rate.pack_pk) == 1_200_000
    clock.advance(days=7)
    await service(db, clock).compute_due()
    assert await rows(db, "SELECT * FROM ledger WHERE kind = 'top_up'") == []


async def test_preview_writes_nothing(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=5, overlap=1, reward="0.02", top_up=True)
    await work_for(work, clock, 1, tasks=2, seconds=60)
    clock.advance(days=7)
    preview = await service(db, clock).preview("2026-W48")
    assert (preview.workers, preview.earned, preview.top_ups) == (
        1,
        {"EUR": 40_000},
        {"EUR": 360_000},
    )
    assert preview.samples[0].week == "2026-W48"
    assert await rows(db, "SELECT * FROM statements") == []
    assert await rows(db, "SELECT * FROM ledger WHERE kind = 'top_up'") == []


async def test_statements_send_makes_a_weeks_waiting_statements_due_now(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=3, overlap=1)
    await work_for(work, clock, 1, tasks=1, seconds=10)
    statements = service(db, clock)
    sender = Sender(db, clock)
    clock.advance(days=6, hours=2)  # Sunday 11:00 in Paris: W48 has not ended
    clock.advance(hours=14)  # Monday 01:00: ended; its statements are due at 09:00
    assert await statements.compute_due() == {"2026-W48": 1}
    assert (await sender.claim(10))[0] == []
    clock.advance(hours=7)  # 08:00: quiet hours are over, 09:00 is not here yet
    assert await statements.make_due_now("2026-W48") == 1  # the operator's `statements send`
    assert [item.recipient for item in (await sender.claim(10))[0]] == [1]
    assert await statements.week_counts("2026-W48") == {"sending": 1}
