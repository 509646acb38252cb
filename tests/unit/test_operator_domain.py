"""The operators' use cases without Telegram: suspensions, broadcasts held by quiet hours, and
what an upload's summary says about money and pace."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from db import Database
from tasks.clock import FakeClock
from tasks.earnings import EarningsConfig, EarningsService, QuietHours
from tasks.operator.upload import PackUploads
from tasks.operator.workers import Broadcasts, SteerResult, WorkerDesk
from tasks.outbox import OutboxService
from tasks.work import WorkService
from tasks.work_results import NoTask, TaskCard
from tests.helpers import enrol, press_card, queued, table

PARIS = ZoneInfo("Europe/Paris")


async def test_a_suspended_worker_gets_no_task_and_is_told_once(
    db: Database, clock: FakeClock, work: WorkService, load: Any
) -> None:
    await load(tasks=5)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    desk = WorkerDesk(db, clock)
    assert await desk.bar(900, 1, "   ") is SteerResult.NO_REASON
    assert await desk.bar(900, 2, "who?") is SteerResult.UNKNOWN
    assert await desk.bar(900, 1, "Too fast") is SteerResult.DONE
    assert await desk.bar(900, 1, "Again") is SteerResult.ALREADY
    resumed = await work.resume(1)
    assert resumed is not None and resumed[1] == NoTask("barred")
    pressed = await press_card(work, 1, card)  # the task they held went back to the others
    assert pressed.outcome.value == "expired"
    messages = [(m.worker_id, m.text_key, m.params) for m in await queued(db)]
    assert messages == [(1, "op_suspended", {"reason": "Too fast"})]
    record = await desk.record(1)
    assert record is not None and record.worker.bar_reason == "Too fast"
    assert (await desk.counts()).barred == 1

    assert await desk.unbar(900, 1, "Checked: fine") is SteerResult.DONE
    resumed = await work.resume(1)
    assert resumed is not None and isinstance(resumed[1], TaskCard)
    actions = await table(db, "SELECT operator_id, worker_id, action FROM operator_actions")
    assert actions == [(900, 1, "suspend"), (900, 1, "reinstate")]


async def test_a_broadcast_reaches_consented_reachable_workers_in_the_bulk_lane_after_quiet_hours(
    db: Database, clock: FakeClock, work: WorkService, load: Any
) -> None:
    await load(tasks=5)
    for worker in (1, 2, 3, 4):
        await enrol(work, worker, consent=worker != 4)  # 4 never agreed to the rules
    await work.mark_blocked(2)
    await WorkerDesk(db, clock).bar(900, 3, "Spam")
    broadcasts = Broadcasts(db, clock)
    assert await broadcasts.audience() == 1
    assert await broadcasts.send(900, "Hello\nall") == 1
    rows = await table(db, "SELECT recipient, lane FROM outbox WHERE kind = 'op_broadcast'")
    assert rows == [(1, "bulk")]

    night = FakeClock(datetime(2026, 12, 2, 22, 30, tzinfo=UTC))  # 23:30 in Paris
    config = EarningsConfig(zone=PARIS, quiet_hours=QuietHours(time(22), time(8)))
    outbox = OutboxService(db, config, night)
    claimed, looked = await outbox.claim("bulk", 10)
    assert (claimed, looked) == ([], 1)  # held until 08:00 in Paris
    due = await table(db, "SELECT due_at FROM outbox WHERE kind = 'op_broadcast'")
    assert due == [("2026-12-03T07:00:00.000000Z",)]


async def test_the_summary_of_a_replace_uses_the_packs_pace_and_warns_below_the_floor(
    db: Database, clock: FakeClock, work: WorkService, load: Any, write_pack: Any
) -> None:
    await load(tasks=6)
    card = await enrol(work, 1)
    for _ in range(3):  # 20 seconds a task: 0.02 EUR pays 3.60 EUR an hour
        assert isinstance(card, TaskCard)
        clock.advance(seconds=20)
        card = (await press_card(work, 1, card)).next
    uploads = PackUploads(db, clock, EarningsService(db, clock), 12_000_000)
    path: Path = write_pack("reviews", 6)
    outcome = await uploads.upload(path, None)
    assert outcome.needs_confirmation and outcome.errors == ()
    summary = outcome.summary
    assert summary is not None
    assert (summary.tasks, summary.answers, summary.gold_answers) == (6, 18, 0)
    assert summary.budget_micros == 18 * 20_000
    assert summary.median_seconds == Decimal(20) and summary.median_from_pack
    assert summary.hours == Decimal("0.1")  # 18 answers x 20 s
    assert summary.hourly_micros == 3_600_000 and summary.below_floor
    assert summary.break_even_seconds == Decimal(6)
    # Nothing changed before the confirmation; then the replace is done.
    assert await table(db, "SELECT COUNT(*) FROM packs") == [(1,)]
    done = await uploads.upload(path, None, confirmed=True)
    assert done.summary is not None and done.summary.replaced and not done.needs_confirmation
