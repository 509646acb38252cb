"""Training on a pack with gold: explained answers, then real tasks, or a retry later."""

from __future__ import annotations

from datetime import timedelta

from tasks.clock import FakeClock
from tasks.quality.news import Decision, Feedback
from tasks.quality.service import QualityService
from tasks.work import WorkService
from tasks.work_results import NoTask, TaskCard
from tests.helpers import GoldPack, honest, newcomer, work_on, wrong


async def test_a_new_worker_trains_on_gold_with_feedback_then_real_tasks_unlock(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack
) -> None:
    truth = await gold_pack()
    card = await newcomer(work, 1)
    assert isinstance(card, TaskCard)
    assert card.training == (1, 5)
    assert any(isinstance(n, Decision) and n.kind == "training" for n in card.news)
    results = await work_on(work, clock, 1, card, honest(truth), 5)
    for index, result in enumerate(results):
        feedback = [n for n in result.news if isinstance(n, Feedback)]
        assert feedback and feedback[0].correct and feedback[0].training == (index + 1, 5)
        assert feedback[0].explanation == "Because."
    passed = [n for n in results[-1].news if isinstance(n, Decision)]
    assert passed[0].kind == "passed" and (passed[0].correct, passed[0].total) == (5, 5)
    following = results[-1].next
    assert isinstance(following, TaskCard) and following.training is None
    assert results[0].reward_micros == 20_000  # training is paid by default


async def test_a_failed_qualification_says_the_score_and_when_to_retry(
    work: WorkService, clock: FakeClock, gold_pack: GoldPack, quality: QualityService
) -> None:
    truth = await gold_pack()
    card = await newcomer(work, 1)
    # Training feeds the sequential test: 4 misses in a row reach its limit (+8 each, 31).
    results = await work_on(work, clock, 1, card, wrong(truth), 4)
    decision = next(n for n in results[-1].news if isinstance(n, Decision))
    assert decision.kind == "failed" and decision.correct == 0 and decision.total == 4
    assert decision.test is not None
    assert (decision.test.points, decision.test.limit) == (32, 31)
    assert decision.retry_at == clock.now() + timedelta(hours=24)
    assert results[-1].next == NoTask("held")
    score = (await quality.score(1))[0]
    assert score.state == "failed" and score.retry_at == decision.retry_at

    clock.advance(hours=24, seconds=1)
    resumed = await work.resume(1)
    assert resumed is not None
    again = resumed[1]
    assert isinstance(again, TaskCard) and again.training == (1, 5)
    assert any(isinstance(n, Decision) and n.kind == "retraining" for n in again.news)
    assert again.text not in {r.news[0].text for r in results if isinstance(r.news[0], Feedback)}
