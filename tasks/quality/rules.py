"""The quality rules as plain functions: no database, no Telegram, no clock.

Trust, qualification and suspension verdicts, the adaptive gold rate, trust-weighted voting and
dynamic overlap. The other modules of tasks/quality/ apply them in units of work; the rules in
plain words are in docs/quality.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

K = 0.5  # smoothing of the accuracy: q = (K + score) / (2K + total)
REVIEW_MIN_WORKERS = 5  # a gold item missed or disputed by more than half of >= 5 is reviewed
FAST_SHARE = 0.25  # derived min_seconds: a quarter of the pack's median answer time
MEDIAN_MIN_ANSWERS = 50  # answers needed before min_seconds is derived from the median
SAME_STREAK_FLOOR = 15  # same-button streaks shorter than this are never flagged
SAME_STREAK_CHANCE = 1e-8  # a flagged streak has less than this chance from an honest worker
TRUST_FLOOR = 0.05  # the least weight an answer has in voting
DOUBT_RATE = 0.5  # the gold share served while the test has points against a worker
RATIO_TOLERANCE = 0.02  # points: the right/miss ratio may differ this much from the exact one
P1_MARGIN = 0.1  # the alternative accuracy stays at least this far below good_accuracy
FRESH_BELOW = 0.8  # routing: below this estimated accuracy, fresh tasks first (score_rules says it)

State = Literal["training", "qualified", "failed", "suspended", "stopped"]
Reason = Literal["qualification", "accuracy", "too_fast", "same_button", "no_gold"]


@dataclass(frozen=True)
class QualitySettings:
    """A pack's `quality` block, defaults filled in (validated in tasks/packs/format.py).

    `pass_mark`, `min_accuracy` and `window` belong to the window rule the sequential test
    replaced: packs that set them still load (docs/quality.md), and they decide nothing."""

    gold_ratio: float = 0.1
    qualification: int = 5
    good_accuracy: float = 0.85  # p0: the accuracy the test must leave alone
    false_suspension: float = 0.003  # alpha: Wald's error of the first kind
    missed_detection: float = 0.05  # beta: Wald's error of the second kind (sets the floor)
    min_gold_answers: int = 5
    min_seconds: float | None = None
    retry_after_hours: float = 24.0
    train_paid: bool = True
    gold_floor: float = 0.03
    target_confidence: float = 0.9
    min_overlap: int = 2
    max_overlap: int | None = None  # None: the pack's overlap
    fast_streak: int = 5
    # Superseded (accepted in packs, unused).
    pass_mark: float = 0.8
    min_accuracy: float = 0.7
    window: int = 10

    @classmethod
    def from_header(cls, block: dict[str, Any] | None) -> QualitySettings:
        if not block:
            return cls()
        known = {name: block[name] for name in cls.__dataclass_fields__ if name in block}
        return cls(**known)


SUPERSEDED = ("pass_mark", "min_accuracy", "window")


# -- trust --------------------------------------------------------------------------------


def smoothed_accuracy(correct: float, total: int) -> float:
    """q = (K + score) / (2K + total): 0.5 with no evidence, moving towards the raw rate."""
    return (K + correct) / (2 * K + total)


def trust_weight(accuracy: float, options: int) -> float:
    """A vote's weight: the log-odds that the worker is right rather than picking one wrong
    option, log((options - 1) q / (1 - q)); a worker no better than chance weighs almost 0."""
    q = min(max(accuracy, 1e-6), 1 - 1e-6)
    return max(TRUST_FLOOR, math.log((options - 1) * q / (1 - q)))


# -- the sequential test --------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The sequential test in whole points a person can follow: a CUSUM of Wald's log-likelihood
    ratio of "accuracy p1" (a random clicker) against "accuracy p0" (a careful worker).

    Each gold answer with score x in [0, 1] (a bool is 0 or 1) adds points(x): +miss for x = 0,
    -right for x = 1, in proportion between. The total never goes below `floor` (Wald's lower
    bound log(beta / (1 - alpha))): a long good record cannot hide a later collapse. At `limit`
    or above (Wald's upper bound log((1 - beta) / alpha)) the worker is suspended."""

    p0: float
    p1: float
    alpha: float
    beta: float
    miss: int
    right: int
    floor: int
    limit: int

    def points(self, score: float) -> int:
        x = min(max(float(score), 0.0), 1.0)
        return round((1 - x) * self.miss - x * self.right)

    def step(self, points: int, score: float) -> int:
        return max(self.floor, points + self.points(score))

    @property
    def break_even(self) -> float:
        """The accuracy at which the points neither rise nor fall on average."""
        return self.miss / (self.miss + self.right)


@lru_cache(maxsize=256)
def plan(p0: float, chance: float, alpha: float, beta: float) -> Plan:
    """The points of the test: p1 is the chance score (what a random clicker scores on
    average; kept at least P1_MARGIN below p0), the log-likelihood ratios are scaled so that
    a miss is a small whole number and the ratio right/miss stays within RATIO_TOLERANCE of
    the exact one; the bounds are scaled alike (the limit rounded up, the floor to nearest)."""
    p1 = min(max(chance, 0.01), p0 - P1_MARGIN)
    up = math.log((1 - p1) / (1 - p0))  # a miss
    down = math.log(p0 / p1)  # a right answer
    exact = down / up
    best: tuple[float, int, int] | None = None
    for miss in range(3, 41):
        right = max(1, round(miss * exact))
        error = abs(right / miss - exact) / exact
        if error <= RATIO_TOLERANCE:
            best = (error, miss, right)
            break
        if best is None or error < best[0]:
            best = (error, miss, right)
    assert best is not None
    _, miss, right = best
    scale = miss / up
    limit = math.ceil(scale * math.log((1 - beta) / alpha) - 1e-9)
    floor = round(scale * math.log(beta / (1 - alpha)))
    return Plan(p0, p1, alpha, beta, miss, right, min(floor, -1), max(limit, miss))


def plan_for(s: QualitySettings, chance: float) -> Plan:
    return plan(s.good_accuracy, chance, s.false_suspension, s.missed_detection)


@dataclass(frozen=True)
class Verdict:
    """What a worker's gold scores (of this attempt, oldest first) decide about them."""

    state: State
    reason: Reason | None
    points: int  # the test's total after the last answer judged
    accuracy: float  # smoothed, over every gold answer of the attempt
    gold_total: int
    score_sum: float
    train_total: int
    train_correct: int  # training answers fully right
    good_at: int  # gold answers (counted from 1) when the points were last at or below 0
    # after training; 0: never


def start(s: QualitySettings) -> Verdict:
    """An attempt before its first gold answer."""
    state: State = "training" if s.qualification > 0 else "qualified"
    return Verdict(state, None, 0, smoothed_accuracy(0, 0), 0, 0.0, 0, 0, 0)


def advance(v: Verdict, score: float, s: QualitySettings, p: Plan) -> Verdict:
    """One gold answer more, with score in [0, 1]. Training answers feed the same test: the
    worker fails training if the points reach the limit during it, and is suspended if they do
    afterwards; training ends after `qualification` answers whatever they were."""
    if v.state in ("failed", "suspended"):
        return v
    total = v.gold_total + 1
    points = p.step(v.points, score)
    # A qualified worker stays past training even if a discounted gold item left them fewer
    # than `qualification` answers.
    in_training = v.state == "training" and total <= s.qualification
    state: State = "training" if in_training and total < s.qualification else "qualified"
    reason: Reason | None = None
    if points >= p.limit:
        state = "failed" if in_training else "suspended"
        reason = "qualification" if in_training else "accuracy"
    good_at = total if state == "qualified" and points <= 0 and score >= 1 else v.good_at
    return Verdict(
        state=state,
        reason=reason,
        points=points,
        accuracy=smoothed_accuracy(v.score_sum + score, total),
        gold_total=total,
        score_sum=v.score_sum + score,
        train_total=min(total, s.qualification),
        train_correct=v.train_correct + (in_training and score >= 1),
        good_at=good_at,
    )


def judge(scores: Sequence[float], s: QualitySettings, p: Plan) -> Verdict:
    """The test run over the attempt's gold scores (oldest first), training included: the same
    steps as `advance` (tests check they agree), in one loop. Stops at the first crossing: what
    came after it was not judged."""
    points, total, score_sum, train_correct, good_at = 0, 0, 0.0, 0, 0
    state: State = "training" if s.qualification > 0 else "qualified"
    reason: Reason | None = None
    q, limit, floor = s.qualification, p.limit, p.floor
    for score in scores:
        total += 1
        score_sum += score
        points = max(floor, points + p.points(score))
        if total <= q:
            train_correct += score >= 1
        if points >= limit:
            state = "failed" if total <= q else "suspended"
            reason = "qualification" if total <= q else "accuracy"
            break
        if total >= q:
            state = "qualified"
            if points <= 0 and score >= 1:
                good_at = total
    return Verdict(
        state=state,
        reason=reason,
        points=points,
        accuracy=smoothed_accuracy(score_sum, total),
        gold_total=total,
        score_sum=score_sum,
        train_total=min(total, q),
        train_correct=train_correct,
        good_at=good_at,
    )


def golds_until_stopped(scores: Sequence[float], s: QualitySettings, p: Plan) -> int | None:
    """How many gold answers the test reads before it stops the worker (None: never)."""
    verdict = judge(scores, s, p)
    return verdict.gold_total if verdict.state in ("failed", "suspended") else None


def can_still_pass(verdict: Verdict, s: QualitySettings) -> bool:
    """Whether a worker judged again (a gold item discounted) is in good standing: the test has
    not reached its limit."""
    return verdict.state not in ("failed", "suspended")


def cleared(points: int, p: Plan) -> bool:
    """The test has all the evidence it keeps for this worker: their points sit at the floor."""
    return points <= p.floor


def long_and_clean(gold_total: int, points: int, s: QualitySettings, p: Plan) -> bool:
    """A record that may go on without new gold: cleared by the test, with at least
    min_gold_answers gold answers after training."""
    return cleared(points, p) and gold_total >= s.qualification + s.min_gold_answers


def gold_rate(points: int, s: QualitySettings, p: Plan) -> float:
    """The share of gold served to a qualified worker: DOUBT_RATE while the test has points
    against them (above 0); at or below 0, from gold_ratio (at 0) down to gold_floor (at the
    floor: cleared), in proportion. The test keeps running at every rate: a miss moves the
    points up, and the gold with them."""
    if s.gold_ratio <= 0:
        return 0.0
    if points > 0:
        return max(DOUBT_RATE, s.gold_ratio)
    low = min(s.gold_floor, s.gold_ratio)
    above_floor = max(0, points - p.floor) / -p.floor  # 0 at the floor, 1 at 0 points
    return low + (s.gold_ratio - low) * above_floor


@lru_cache(maxsize=256)
def stopped_share(p: Plan, accuracy: float, golds: int = 200, workers: int = 20_000) -> float:
    """The share of workers of this accuracy (each answer right with that probability, i.i.d.)
    the test stops within `golds` gold answers, training included: simulated (fixed seed)."""
    import numpy as np

    rng = np.random.default_rng(20261201)
    points = np.zeros(workers, dtype=np.int64)
    stopped = np.zeros(workers, dtype=bool)
    up, down = p.points(0.0), p.points(1.0)
    for _ in range(golds):
        right = rng.random(workers) < accuracy
        points = np.maximum(p.floor, points + np.where(right, down, up))
        stopped |= points >= p.limit
    return float(stopped.mean())


def same_streak_limit(top_share: float) -> int:
    """How many presses of one button in a row get flagged: the streak an honest worker would
    make with less than SAME_STREAK_CHANCE, when the commonest answer has `top_share`."""
    if top_share >= 0.999:
        return 1_000_000  # every answer is the same: a streak means nothing
    share = max(top_share, 1e-3)
    return max(SAME_STREAK_FLOOR, math.ceil(math.log(SAME_STREAK_CHANCE) / math.log(share)))


def top_share(counts: Iterable[int], options: int) -> float:
    """The smoothed share of the commonest gold answer (a proxy for the label distribution)."""
    values = list(counts)
    total = sum(values)
    return (max(values, default=0) + 1) / (total + options)


def derived_min_seconds(median_seconds: float | None, answers: int) -> float | None:
    if median_seconds is None or answers < MEDIAN_MIN_ANSWERS:
        return None
    return FAST_SHARE * median_seconds


def needs_review(answered: int, missed: int) -> bool:
    """A gold item missed or disputed by more than half of at least 5 workers."""
    return answered >= REVIEW_MIN_WORKERS and 2 * missed > answered


# -- aggregation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelVote:
    """An answer as a vote for a label (an option id), weighted by its worker's trust."""

    label: str
    weight: float


def weighted_vote(votes: Sequence[LabelVote]) -> tuple[str | None, float]:
    """The label with the most summed trust, and its share of all the trust (0 with no votes).
    Ties go to the label voted first."""
    totals: dict[str, float] = {}
    for vote in votes:
        totals[vote.label] = totals.get(vote.label, 0.0) + vote.weight
    if not totals:
        return None, 0.0
    label = max(totals, key=lambda name: totals[name])
    return label, totals[label] / sum(totals.values())


def fresh_first(accuracy: float) -> bool:
    """Routing: a worker whose estimated accuracy is below FRESH_BELOW is handed tasks nobody
    has started before the tasks that want one more answer (tie-breaks go first to the workers
    the evidence says are most accurate); everyone else the reverse. Both orders read the same
    index; nobody gets fewer tasks for it."""
    return accuracy < FRESH_BELOW


def one_coin_vote(votes: Sequence[LabelVote], options: int) -> tuple[str | None, float]:
    """The task's label and its posterior under the one-coin model: each vote a worker right
    with their accuracy q, wrong evenly over the other options, its weight the log-odds
    log((options - 1) q / (1 - q)) (trust_weight); the posterior of a label is
    exp(its weight) over the sum of exp(weight) of every option (0 for options nobody chose).
    Ties go to the label voted first. (None, 0.0) with no votes."""
    totals: dict[str, float] = {}
    for vote in votes:
        totals[vote.label] = totals.get(vote.label, 0.0) + vote.weight
    if not totals:
        return None, 0.0
    label = max(totals, key=lambda name: totals[name])
    top = totals[label]
    mass = sum(math.exp(weight - top) for weight in totals.values())
    mass += max(0, options - len(totals)) * math.exp(-top)
    return label, 1.0 / mass


def posterior_vote(
    votes: Sequence[LabelVote], option_ids: Sequence[str], priors: Mapping[str, float] | None = None
) -> tuple[str | None, float]:
    """`one_coin_vote` with the options' prior shares (the EM's class priors; None: uniform):
    each option scores log(prior) plus the weights of its votes, the label is the best score
    and its posterior the confidence. Ties go to the label voted first, then the option order.
    (None, 0.0) with no votes."""
    if not votes:
        return None, 0.0
    first = {vote.label: i for i, vote in reversed(list(enumerate(votes)))}
    totals: dict[str, float] = {}
    for option in option_ids:
        share = priors.get(option) if priors else None
        totals[option] = math.log(share) if share and share > 0 else math.log(1 / len(option_ids))
    for vote in votes:
        totals[vote.label] = totals.get(vote.label, 0.0) + vote.weight
    label = max(totals, key=lambda name: (totals[name], -first.get(name, len(votes))))
    top = totals[label]
    return label, 1.0 / sum(math.exp(score - top) for score in totals.values())


def slots_wanted(
    answers: int, open_leases: int, confidence: float, s: QualitySettings, overlap: int
) -> int:
    """Dynamic overlap: how many more workers to hand the task to now; 0 = the task is closed
    (confident enough with at least min_overlap answers, or max_overlap answers reached)."""
    if is_closed(answers, confidence, s, overlap):
        return 0
    # min_overlap workers first; then one more at a time while the answers disagree.
    wanted = max(s.min_overlap - answers, 1) - open_leases
    return max(0, min(wanted, max_overlap(s, overlap) - answers - open_leases))


def max_overlap(s: QualitySettings, overlap: int) -> int:
    return s.max_overlap if s.max_overlap is not None else overlap


def is_closed(answers: int, confidence: float, s: QualitySettings, overlap: int) -> bool:
    return answers >= max_overlap(s, overlap) or (
        answers >= s.min_overlap and confidence >= s.target_confidence
    )


# -- how much gold a pack needs -------------------------------------------------------------


@dataclass(frozen=True)
class GoldNeeds:
    """What a pack's gold count means for its workers (checked when the pack is loaded)."""

    refused: str | None  # why the pack cannot work as written: training could never end
    warning: str | None  # why workers will stop early on it


CHECKS_WANTED = 10  # gold answers after training a pack should have for each worker


def gold_needs(gold: int, s: QualitySettings) -> GoldNeeds:
    """Training serves `qualification` distinct gold tasks: with fewer, no worker can ever pass
    and every one stops after the gold there is, so the pack is refused. Afterwards checks come
    at the gold rate, from gold not yet seen; with fewer than max(10, min_gold_answers) left (a
    random clicker needs about that many to be stopped) workers stop for lack of gold before
    the test has read enough of them, so the load warns."""
    if gold == 0:
        return GoldNeeds(None, None)  # no gold: no checks, plain overlap
    q = s.qualification
    if gold < q:
        return GoldNeeds(
            f"the pack has {gold} gold task{'s' if gold != 1 else ''}, fewer than its"
            f" qualification ({q}, the gold tasks served first as training): no worker could"
            f" finish training and every one would stop after {gold}. Add {q - gold} gold"
            f" task{'s' if q - gold != 1 else ''}, or set quality.qualification to {gold} or"
            " less (0: no training)",
            None,
        )
    if s.gold_ratio <= 0:
        return GoldNeeds(None, None)
    window = max(CHECKS_WANTED, s.min_gold_answers)
    if gold >= q + window:
        return GoldNeeds(None, None)
    left = gold - q
    return GoldNeeds(
        None,
        f"{gold} gold tasks, {q} of them for training, leave {left} for checks, fewer than"
        f" the test needs ({window}): workers stop on this pack once they have seen them all"
        f" (after about {q + (left + 1) / max(s.gold_ratio, 0.01):.0f} tasks each) until more"
        f" gold is loaded. {q + window} gold tasks or more avoid it (or quality.gold_ratio 0: no"
        " checks after training)",
    )
