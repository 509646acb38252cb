"""The quality rules as plain functions: trust, decisions, voting, overlap, Dawid-Skene."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.quality.dawid_skene import dawid_skene, majority_vote
from tasks.quality.rules import (
    QualitySettings,
    Vote,
    gold_rate,
    is_closed,
    judge,
    long_and_clean,
    needs_review,
    same_streak_limit,
    slots_wanted,
    smoothed_accuracy,
    trust_weight,
    weighted_vote,
)

S = QualitySettings()


def test_accuracy_is_smoothed_towards_one_half() -> None:
    assert smoothed_accuracy(0, 0) == 0.5
    assert smoothed_accuracy(4, 5) == 4.5 / 6
    assert smoothed_accuracy(10, 10) == 10.5 / 11


def test_training_passes_at_the_pass_mark_and_fails_below() -> None:
    assert judge([True] * 4, S).state == "training"
    passed = judge([True, True, False, True, True], S)
    assert passed.state == "qualified" and passed.train_score == 0.8
    failed = judge([True, False, False, True, True], S)
    assert failed.state == "failed" and failed.reason == "qualification"


def test_a_single_miss_never_suspends() -> None:
    strict = QualitySettings(min_accuracy=0.95, pass_mark=0.0, qualification=0)
    assert judge([True] * 5 + [False], strict).state == "qualified"
    assert judge([True] * 4 + [False, False], strict).state == "suspended"


def test_no_decision_before_min_gold_answers_after_training() -> None:
    # Training passed 4/5, then a miss: 4 right of 6 is below 0.7, but one answer after
    # training is not enough evidence.
    assert judge([True, True, False, True, True, False], S).state == "qualified"


def test_a_worker_below_min_accuracy_after_enough_gold_is_suspended() -> None:
    record = [True] * 5 + [False, False, True, False, True]  # window of 10: 7 right
    verdict = judge(record, S)
    assert verdict.state == "suspended" and verdict.reason == "accuracy"
    assert round(verdict.accuracy, 2) == 0.68


def test_trust_weighs_careful_workers_more_and_chance_almost_nothing() -> None:
    careful, careless, chance = (trust_weight(q, 3) for q in (0.9, 0.7, 1 / 3))
    assert careful > careless > chance
    assert chance == 0.05  # the floor


def test_voting_confidence_is_the_share_of_trust() -> None:
    label, confidence = weighted_vote([Vote("pos", 2.0), Vote("neg", 1.0), Vote("pos", 1.0)])
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


def test_gold_rate_is_high_for_new_or_doubtful_workers_and_falls_to_the_floor() -> None:
    new = gold_rate(6, 0.9, S)
    doubtful = gold_rate(40, 0.72, S)
    veteran = gold_rate(1000, 0.95, S)
    assert new == pytest.approx(0.2) and doubtful == pytest.approx(0.3)
    assert veteran == S.gold_floor
    assert gold_rate(40, 0.95, S) < S.gold_ratio
    assert long_and_clean(20, 0.9, S) and not long_and_clean(19, 0.9, S)
    assert not long_and_clean(50, 0.75, S)


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
