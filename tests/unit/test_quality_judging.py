"""After training: check questions judged out of sight, trust, and the suspensions it leads to."""

from __future__ import annotations

from db import Database
from db.answers import RECENT_SECONDS_SQL
from tasks.clock import FakeClock
from tasks.quality.news import Decision, Feedback
from tasks.work import WorkService
from tasks.work_results import NoTask, TaskCard
from tests.helpers import OPTION_IDS, OPTIONS, GoldPack, honest, newcomer, value, work_on, wrong


async def test_a_right_gold_answer_reveals_nothing_and_a_wrong_one_is_explained(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack
) -> None:
    truth = await gold_pack(tasks=60, gold=40)
    card = await newcomer(work, 1)
    results = await work_on(work, clock, 1, card, honest(truth), 5)
    card = results[-1].next
    assert isinstance(card, TaskCard)
    seen_gold = 0
    for _ in range(40):
        assert isinstance(card, TaskCard)
        assert card.training is None and card.news == ()
        gold = card.text.startswith("gold")
        choose = wrong(truth) if gold and seen_gold == 0 else honest(truth)
        [result] = await work_on(work, clock, 1, card, choose, 1)
        if gold and seen_gold == 0:
            [feedback] = result.news
            assert isinstance(feedback, Feedback) and not feedback.correct
            assert feedback.expected == OPTIONS[OPTION_IDS.index(truth[card.text])]["label"]
        else:
            assert result.news == ()  # nothing tells a right gold answer apart
        seen_gold += gold
        card = result.next
    # A clean training clears the worker (points at the floor): gold comes at gold_floor
    # (3%); the miss takes them off the floor, back to gold_ratio (10%) until cleared again.
    assert 1 <= seen_gold <= 12


async def test_a_spammer_is_suspended_and_their_answers_stop_counting(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack, db: Database
) -> None:
    truth = await gold_pack(tasks=60, gold=40, quality={"min_seconds": 0, "qualification": 2})
    card = await newcomer(work, 1)
    # Lucky in training (both right), then always wrong.
    results = await work_on(work, clock, 1, card, honest(truth), 2)
    results += await work_on(work, clock, 1, results[-1].next, wrong(truth), 60)  # type: ignore[arg-type]
    decisions = [n for r in results for n in r.news if isinstance(n, Decision)]
    suspended = [d for d in decisions if d.kind == "suspended"]
    assert len(suspended) == 1 and suspended[0].reason == "accuracy"
    test = suspended[0].test
    assert test is not None and test.points >= test.limit == 31
    # Two right in training (-10), then misses of +8: 30 after five, 38 after six.
    assert test.golds == 2 + 6 and test.points == 38 and test.rights == 2
    assert results[-1].next == NoTask("held")
    counted = await value(
        db, "SELECT COUNT(*) FROM assignments WHERE worker_id = 1 AND is_gold = 0 AND excluded = 0"
    )
    excluded = await value(
        db, "SELECT COUNT(*) FROM assignments WHERE worker_id = 1 AND excluded = 1 AND is_gold = 0"
    )
    assert counted == 0 and excluded > 0
    # Their tasks got their slots back.
    reopened = await value(
        db,
        "SELECT COUNT(*) FROM tasks WHERE remaining > 0 AND pk IN"
        " (SELECT task_pk FROM assignments WHERE worker_id = 1 AND excluded = 1 AND is_gold = 0)",
    )
    assert reopened == excluded


async def test_always_pressing_the_first_button_is_flagged_even_with_gold_luck(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack
) -> None:
    truth = await gold_pack(tasks=60, gold=40, quality={"min_seconds": 0, "gold_ratio": 0})
    card = await newcomer(work, 1)
    results = await work_on(work, clock, 1, card, honest(truth), 5)
    results += await work_on(work, clock, 1, results[-1].next, lambda card: 0, 40)  # type: ignore[arg-type]
    reasons = [n.reason for r in results for n in r.news if isinstance(n, Decision) and n.reason]
    assert reasons == ["same_button"]
    # 3 balanced options: flagged after about 18 presses in a row (chance < 1e-8).
    assert 5 + 15 <= len(results) <= 5 + 20


async def test_too_fast_answers_in_a_row_lead_to_a_suspension(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack
) -> None:
    truth = await gold_pack(tasks=40, gold=30, quality={"min_seconds": 3, "qualification": 1})
    card = await newcomer(work, 1)
    assert isinstance(card, TaskCard)
    results = await work_on(work, clock, 1, card, honest(truth), 1)
    card = results[-1].next
    reasons = []
    for _ in range(6):
        assert isinstance(card, TaskCard)
        clock.advance(seconds=1)  # 1 s per answer: faster than min_seconds (3)
        result = await work.answer(
            worker_id=1, assignment_id=card.assignment_id, choice=honest(truth)(card)
        )
        reasons += [n.reason for n in result.news if isinstance(n, Decision)]
        card = result.next  # type: ignore[assignment]
        if reasons:
            break
    assert reasons == ["too_fast"]


async def test_the_answer_times_behind_the_speed_check_come_from_an_index(
    db: Database, gold_pack: GoldPack
) -> None:
    """Read on every stats refresh of a pack: the latest answers newest first, not a sort of
    every answer the pack ever had."""
    await gold_pack()
    plan = await db.query("EXPLAIN QUERY PLAN " + RECENT_SECONDS_SQL, (1, 501))
    details = " | ".join(row["detail"] for row in plan)
    assert "USING COVERING INDEX assignments_answer_times" in details, details
    assert "USE TEMP B-TREE" not in details, details
    assert "SCAN assignments " not in details + " ", details


async def test_an_answer_reads_the_workers_standing_once(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack, db: Database
) -> None:
    """Judging the answer and choosing the next task share one read of the standing."""
    truth = await gold_pack(tasks=20, gold=20, quality={"min_seconds": 0, "train_paid": False})
    card = await newcomer(work, 1)
    statements: list[str] = []
    await db.conn.set_trace_callback(statements.append)
    for result in await work_on(work, clock, 1, card, honest(truth), 8):
        assert result.next is not None
    await db.conn.set_trace_callback(None)
    reads = [sql for sql in statements if sql.startswith("SELECT * FROM worker_quality")]
    presses = [sql for sql in statements if sql == "BEGIN IMMEDIATE"]  # one per press
    assert len(presses) == 8 and len(reads) == 8  # training and after: one read per press
