"""Results and the gold behind them: dynamic overlap, a pack running out of gold, bad gold."""

from __future__ import annotations

from db import Database
from tasks.clock import FakeClock
from tasks.quality.disputes import DisputeService
from tasks.quality.news import Decision
from tasks.quality.service import QualityService
from tasks.work import WorkService
from tasks.work_results import NoTask
from tests.helpers import GoldPack, honest, newcomer, queued, value, work_on


async def test_two_agreeing_careful_workers_close_a_task_before_its_overlap(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack, db: Database
) -> None:
    truth = await gold_pack(tasks=6, gold=40)
    for worker in (1, 2):
        card = await newcomer(work, worker)
        results = await work_on(work, clock, worker, card, honest(truth), 5)
        await work_on(work, clock, worker, results[-1].next, honest(truth), 40)  # type: ignore[arg-type]
    rows = await db.query(
        "SELECT answers, done, remaining, label, confidence FROM tasks WHERE gold IS NULL"
    )
    assert rows and all(tuple(row[:3]) == (2, 1, 0) for row in rows)
    assert all(row[3] is not None for row in rows)
    # The confidence is the one-coin posterior: two agreeing workers right on every gold
    # answer so far (q about 0.9 or more) make it about 0.99, above the 0.9 target, below 1.
    assert all(0.98 < row[4] < 1.0 for row in rows)


async def test_a_worker_out_of_gold_without_a_long_record_stops_and_operators_hear(
    db: Database, work: WorkService, clock: FakeClock, gold_pack: GoldPack, quality: QualityService
) -> None:
    truth = await gold_pack(tasks=100, gold=6)
    card = await newcomer(work, 1)
    results = await work_on(work, clock, 1, card, honest(truth), 80)
    stopped = [n for r in results for n in getattr(r.next, "news", ()) if isinstance(n, Decision)]
    assert [d.kind for d in stopped if d.kind == "stopped"] == ["stopped"]
    assert results[-1].next == NoTask("held", tuple(stopped[-1:]))
    alerts = [m for m in await queued(db) if m.text_key == "op_needs_gold"]
    assert len(alerts) == 1 and alerts[0].worker_id is None


async def test_a_gold_item_missed_by_most_of_five_workers_is_flagged_and_stops_counting(
    work: WorkService,
    clock: FakeClock,
    gold_pack: GoldPack,
    quality: QualityService,
    disputes: DisputeService,
    db: Database,
) -> None:
    truth = await gold_pack(
        tasks=40,
        gold=6,
        wrong_key=0,
        quality={"min_seconds": 0, "qualification": 6, "pass_mark": 0.5},
    )
    for worker in range(1, 7):
        card = await newcomer(work, worker)
        await work_on(work, clock, worker, card, honest(truth), 6)
    assert await value(db, "SELECT review FROM tasks WHERE task_id = 'g00'") == 1
    _, flagged = await disputes.open_disputes()
    assert [item.task_id for item in flagged] == ["g00"]
    for worker in range(1, 7):
        score = (await quality.score(worker))[0]
        assert score.train_total == 5 and score.train_correct == 5  # g00 no longer counts
