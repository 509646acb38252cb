"""The quality rules as plain functions: trust, decisions, voting, overlap, Dawid-Skene."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tasks.quality.dawid_skene import dawid_skene, majority_vote
from tasks.quality.rules import (
    LabelVote,
    QualitySettings,
    advance,
    gold_rate,
    is_closed,
    judge,
    long_and_clean,
    needs_review,
    plan_for,
    same_streak_limit,
    slots_wanted,
    smoothed_accuracy,
    start,
    stopped_share,
    trust_weight,
    weighted_vote,
)

S = QualitySettings()


def test_accuracy_is_smoothed_towards_one_half() -> None:
    assert smoothed_accuracy(0, 0) == 0.5
    assert smoothed_accuracy(4, 5) == 4.5 / 6
    assert smoothed_accuracy(10, 10) == 10.5 / 11


P3 = plan_for(S, 1 / 3)  # three options: a random clicker is right 1 time in 3


def test_the_points_come_from_wald_bounds_and_a_random_clickers_accuracy() -> None:
    # p0 = 0.85, p1 = 1/3: a miss is log(0.667 / 0.15) = 1.49, a right answer
    # log(0.85 / 0.333) = 0.94; scaled to +8 / -5 (ratio 0.625 for 0.629). The limit is
    # log(0.95 / 0.003) = 5.76 scaled (31), the floor log(0.05 / 0.997) = -2.99 scaled (-16).
    assert (P3.miss, P3.right, P3.floor, P3.limit) == (8, 5, -16, 31)
    assert P3.p1 == pytest.approx(1 / 3) and P3.break_even == pytest.approx(8 / 13)
    # Two options: a random clicker is right half the time, the test needs more evidence.
    p2 = plan_for(S, 1 / 2)
    assert (p2.miss, p2.right, p2.floor, p2.limit) == (9, 4, -22, 44)
    # p1 stays below p0 whatever the chance score (a type with generous partial credit).
    assert plan_for(S, 0.99).p1 == pytest.approx(S.good_accuracy - 0.1)


def test_partial_credit_moves_the_points_in_proportion() -> None:
    assert P3.points(0.0) == 8 and P3.points(1.0) == -5
    assert P3.points(0.5) == 2  # 4 - 2.5, rounded to even
    assert P3.points(True) == -5 and P3.points(False) == 8


def test_training_feeds_the_test_and_fails_only_when_the_points_reach_the_limit() -> None:
    assert judge([1.0] * 4, S, P3).state == "training"
    # 3 misses of 5: 24 - 10 = 14 points, below 31: qualified (the test goes on).
    passed = judge([0, 1, 0, 1, 0], S, P3)
    assert passed.state == "qualified" and passed.points == 14 and passed.train_correct == 2
    # 4 misses in a row: 32 points: training fails there, before the fifth question.
    failed = judge([0, 0, 0, 0, 1], S, P3)
    assert failed.state == "failed" and failed.reason == "qualification"
    assert failed.gold_total == 4


def test_a_single_miss_never_suspends_and_the_floor_keeps_a_collapse_visible() -> None:
    assert judge([1.0] * 5 + [0.0], S, P3).state == "qualified"
    # 100 right answers sit at the floor (-16); 6 misses in a row reach 32: suspended.
    record = [1.0] * 100 + [0.0] * 6
    assert judge(record[:105], S, P3).state == "qualified"
    suspended = judge(record, S, P3)
    assert suspended.state == "suspended" and suspended.reason == "accuracy"
    assert suspended.points == 32 and suspended.gold_total == 106


def test_the_test_stops_at_its_first_crossing_and_advance_agrees_with_judge() -> None:
    scores = [0.0] * 4 + [1.0] * 10
    verdict = judge(scores, QualitySettings(qualification=0), P3)
    assert verdict.state == "suspended" and verdict.gold_total == 4
    # The answer path steps (advance); re-judging replays (judge): they agree on every record.
    rng = random.Random(5)
    for _ in range(300):
        accuracy = rng.random()
        record = [rng.choice([1.0, 0.5]) if rng.random() < accuracy else 0.0 for _ in range(60)]
        step = start(S)
        for score in record:
            step = advance(step, score, S, P3)
        assert step == judge(record, S, P3)


def test_careful_workers_are_rarely_stopped_and_random_clickers_soon() -> None:
    assert stopped_share(P3, 0.9) <= 0.002
    assert stopped_share(P3, 0.8) <= 0.10
    assert stopped_share(P3, 1 / 3, golds=20) >= 0.9


def test_trust_weighs_careful_workers_more_and_chance_almost_nothing() -> None:
    careful, careless, chance = (trust_weight(q, 3) for q in (0.9, 0.7, 1 / 3))
    assert careful > careless > chance
    assert chance == 0.05  # the floor


def test_voting_confidence_is_the_share_of_trust() -> None:
    label, confidence = weighted_vote(
        [LabelVote("pos", 2.0), LabelVote("neg", 1.0), LabelVote("pos", 1.0)]
    )
    assert label == "pos" and confidence == 0.75
    assert weighted_vote([]) == (None, 0.0)


def test_dynamic_overlap_stops_when_confident_or_at_the_maximum() -> None:
    # Two agreeing answers reach the target: closed at 2 of an overlap of 3.
    assert slots_wanted(2, 0, 1.0, S, overlap=3) == 0 and is_closed(2, 1.0, S, 3)
    # Disagreement: one more.
    assert slots_wanted(2, 0, 0.6, S, overlap=3) == 1
    # At max_overlap it stops, confident or not.
    assert slots_wanted(3, 0, 0.5, S, overlap=3) == 0
    # A higher max_overlap lets an unsure task collect more.
    wider = QualitySettings(max_overlap=5)
    assert slots_wanted(3, 0, 0.5, wider, overlap=3) == 1
    # min_overlap workers at first, open leases counting as answers on their way.
    assert slots_wanted(0, 0, 0.0, S, overlap=3) == 2
    assert slots_wanted(0, 1, 0.0, S, overlap=3) == 1
    assert slots_wanted(0, 2, 0.0, S, overlap=3) == 0
    assert slots_wanted(2, 1, 0.6, S, overlap=3) == 0


def test_gold_rate_is_high_while_in_doubt_and_falls_to_the_floor_once_cleared() -> None:
    assert gold_rate(6, S, P3) == pytest.approx(0.5)  # points against the worker
    assert gold_rate(0, S, P3) == pytest.approx(S.gold_ratio)  # no evidence either way
    # On the way down, in proportion: -8 is half way to the floor (-16).
    assert gold_rate(-8, S, P3) == pytest.approx((S.gold_ratio + S.gold_floor) / 2)
    assert gold_rate(P3.floor, S, P3) == S.gold_floor  # cleared: the test keeps running
    assert gold_rate(P3.floor, QualitySettings(gold_ratio=0), P3) == 0
    assert long_and_clean(10, P3.floor, S, P3) and not long_and_clean(9, P3.floor, S, P3)
    assert not long_and_clean(50, P3.floor + 1, S, P3)


def test_a_same_button_streak_depends_on_how_skewed_the_answers_are() -> None:
    assert same_streak_limit(1 / 3) == 17
    assert same_streak_limit(0.8) > 80
    assert same_streak_limit(1.0) > 10_000


def test_a_gold_item_is_reviewed_when_more_than_half_of_five_missed_it() -> None:
    assert not needs_review(4, 4)
    assert not needs_review(6, 3)
    assert needs_review(5, 3)


def test_dawid_skene_sees_through_spammers_that_fool_majority_vote() -> None:
    rng = np.random.default_rng(3)
    n_tasks, n_labels = 400, 3
    truth = rng.integers(0, n_labels, n_tasks)
    tasks, workers, labels = [], [], []
    # Two careful workers (90%) and three spammers who always press the first button.
    for task in range(n_tasks):
        for worker in range(5):
            if worker < 2:
                right = rng.random() < 0.9
                label = truth[task] if right else (truth[task] + 1 + rng.integers(0, 2)) % 3
            else:
                label = 0
            tasks.append(task)
            workers.append(worker)
            labels.append(int(label))
    t, w, lab = (np.array(x, dtype=np.int64) for x in (tasks, workers, labels))
    majority = majority_vote(t, lab, n_tasks, n_labels)
    posterior = dawid_skene(t, w, lab, n_tasks, 5, n_labels)
    majority_accuracy = float((majority == truth).mean())
    ds_accuracy = float((posterior.argmax(axis=1) == truth).mean())
    assert majority_accuracy < 0.5
    assert ds_accuracy > 0.85
