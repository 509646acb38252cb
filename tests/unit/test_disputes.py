"""Disputes as use cases: a worker disputes a missed check question, an operator decides."""

from __future__ import annotations

from db import Database
from tasks.clock import FakeClock
from tasks.conversation import AwaitedReplies, ReplyKind
from tasks.quality.disputes import DisputeOutcome, DisputeService
from tasks.quality.news import Decision, Feedback
from tasks.quality.service import QualityService
from tasks.work import WorkService
from tasks.work_results import TaskCard
from tests.helpers import GoldPack, honest, newcomer, queued, value, work_on, wrong


async def test_an_accepted_dispute_corrects_the_gold_and_lifts_the_suspension(
    work: WorkService,
    clock: FakeClock,
    gold_pack: GoldPack,
    quality: QualityService,
    disputes: DisputeService,
    db: Database,
) -> None:
    # g00's key is wrong: the careful worker answers the truth and is marked wrong.
    # With a strict test (good_accuracy 0.95, false_suspension 0.1: +5 per miss, paused at 5),
    # the first miss, on the first training question, reaches the limit.
    truth = await gold_pack(
        tasks=10,
        gold=3,
        wrong_key=0,
        quality={
            "min_seconds": 0,
            "qualification": 3,
            "good_accuracy": 0.95,
            "false_suspension": 0.1,
        },
    )
    card = await newcomer(work, 1)
    results = await work_on(work, clock, 1, card, honest(truth), 3)
    missed = [n for r in results for n in r.news if isinstance(n, Feedback) and not n.correct]
    assert len(missed) == 1
    decision = next(n for r in results for n in r.news if isinstance(n, Decision))
    assert decision.kind == "failed" and decision.test is not None
    assert decision.test.points >= decision.test.limit

    assert await disputes.open_dispute(2, missed[0].assignment_id) is DisputeOutcome.NOT_ALLOWED
    assert await disputes.open_dispute(1, missed[0].assignment_id) is DisputeOutcome.OPENED
    assert await disputes.open_dispute(1, missed[0].assignment_id) is DisputeOutcome.ALREADY
    comment = await AwaitedReplies(db, clock).take(1)  # the next message is the comment
    assert comment is not None and comment.kind is ReplyKind.DISPUTE_COMMENT
    views, _ = await disputes.open_disputes()
    assert [(v.task_id, v.answer, v.expected) for v in views] == [("g00", "pos", "neg")]

    resolution = await disputes.accept(views[0].id)
    assert resolution.ok and resolution.lifted == [1] and resolution.told == [1]
    assert await value(db, "SELECT gold FROM tasks WHERE task_id = 'g00'") == "pos"
    score = (await quality.score(1))[0]
    # Training resumes where it stopped: 1 of 3 answered, right now.
    assert score.state == "training" and (score.train_correct, score.train_total) == (1, 1)
    assert score.test.points < score.test.limit
    keys = sorted(m.text_key for m in await queued(db) if m.worker_id == 1)
    assert keys == ["dispute_accepted", "quality_lifted"]
    resumed = await work.resume(1)
    assert resumed is not None and isinstance(resumed[1], TaskCard)


async def test_a_rejected_dispute_sends_the_reason(
    db: Database,
    work: WorkService,
    clock: FakeClock,
    gold_pack: GoldPack,
    quality: QualityService,
    disputes: DisputeService,
) -> None:
    truth = await gold_pack(tasks=10, gold=6)
    card = await newcomer(work, 1)
    results = await work_on(work, clock, 1, card, wrong(truth), 1)
    feedback = results[0].news[0]
    assert isinstance(feedback, Feedback)
    assert await disputes.open_dispute(1, feedback.assignment_id) is DisputeOutcome.OPENED
    views, _ = await disputes.open_disputes()
    assert not (await disputes.reject(views[0].id, "  ")).ok  # a reason is required
    assert (await disputes.reject(views[0].id, "Irony <counts> as meant")).ok
    [message] = [m for m in await queued(db) if m.worker_id == 1]
    assert message.text_key == "dispute_rejected"
    assert message.params["reason"] == "Irony <counts> as meant"  # escaped when rendered
