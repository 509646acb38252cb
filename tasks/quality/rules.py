"""The quality rules as plain functions: no database, no Telegram, no clock.

Trust, qualification and suspension verdicts, the adaptive gold rate, trust-weighted voting and
dynamic overlap. The other modules of tasks/quality/ apply them in units of work; the rules in
plain words are in docs/quality.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

K = 0.5  # smoothing of the accuracy: q = (K + correct) / (2K + total)
MIN_MISSES_TO_SUSPEND = 2  # never suspend on a single miss
REVIEW_MIN_WORKERS = 5  # a gold item missed or disputed by more than half of >= 5 is reviewed
FAST_SHARE = 0.25  # derived min_seconds: a quarter of the pack's median answer time
MEDIAN_MIN_ANSWERS = 50  # answers needed before min_seconds is derived from the median
SAME_STREAK_FLOOR = 15  # same-button streaks shorter than this are never flagged
SAME_STREAK_CHANCE = 1e-8  # a flagged streak has less than this chance from an honest worker
TRUST_FLOOR = 0.05  # the least weight an answer has in voting

State = Literal["training", "qualified", "failed", "suspended", "stopped"]
Reason = Literal["qualification", "accuracy", "too_fast", "same_button", "no_gold"]


@dataclass(frozen=True)
class QualitySettings:
    """A pack's `quality` block, defaults filled in (validated in tasks/packs/format.py)."""

    gold_ratio: float = 0.1
    qualification: int = 5
    pass_mark: float = 0.8
    min_accuracy: float = 0.7
    min_gold_answers: int = 5
    window: int = 10
    min_seconds: float | None = None
    retry_after_hours: float = 24.0
    train_paid: bool = True
    gold_floor: float = 0.03
    target_confidence: float = 0.9
    min_overlap: int = 2
    max_overlap: int | None = None  # None: the pack's overlap
    fast_streak: int = 5

    @classmethod
    def from_header(cls, block: dict[str, Any] | None) -> QualitySettings:
        if not block:
            return cls()
        known = {name: block[name] for name in cls.__dataclass_fields__ if name in block}
        return cls(**known)


# -- trust --------------------------------------------------------------------------------


def smoothed_accuracy(correct: int, total: int) -> float:
    """q = (K + correct) / (2K + total): 0.5 with no evidence, moving towards the raw rate."""
    return (K + correct) / (2 * K + total)


def trust_weight(accuracy: float, options: int) -> float:
    """A vote's weight: the log-odds that the worker is right rather than picking one wrong
    option, log((options - 1) q / (1 - q)); a worker no better than chance weighs almost 0."""
    q = min(max(accuracy, 1e-6), 1 - 1e-6)
    return max(TRUST_FLOOR, math.log((options - 1) * q / (1 - q)))


@dataclass(frozen=True)
class Verdict:
    """What a worker's gold answers (of this attempt, oldest first) decide about them."""

    state: State
    reason: Reason | None
    accuracy: float  # smoothed, over the window
    window_total: int
    window_correct: int
    train_total: int
    train_correct: int
    gold_total: int

    @property
    def train_score(self) -> float:
        return self.train_correct / self.train_total if self.train_total else 0.0


def judge(results: Sequence[bool], s: QualitySettings) -> Verdict:
    """Training first (the first `qualification` gold answers, scored raw against pass_mark),
    then the smoothed accuracy over the last `window` answers against min_accuracy, decided only
    after min_gold_answers and never on a single miss."""
    training = results[: s.qualification]
    window = results[-s.window :] if s.window else []
    correct = sum(window)
    verdict = Verdict(
        state="training",
        reason=None,
        accuracy=smoothed_accuracy(correct, len(window)),
        window_total=len(window),
        window_correct=correct,
        train_total=len(training),
        train_correct=sum(training),
        gold_total=len(results),
    )
    if len(training) < s.qualification:
        return verdict
    if s.qualification > 0 and verdict.train_score < s.pass_mark:  # no training: none to fail
        return _with(verdict, "failed", "qualification")
    if _below(verdict, s):
        return _with(verdict, "suspended", "accuracy")
    return _with(verdict, "qualified", None)


def _below(verdict: Verdict, s: QualitySettings) -> bool:
    """Suspend: below min_accuracy over the window, with at least min_gold_answers check
    questions answered after training (training mistakes were already judged, and explained),
    and never on a single miss."""
    after_training = verdict.gold_total - verdict.train_total
    misses = verdict.window_total - verdict.window_correct
    return (
        after_training >= s.min_gold_answers
        and verdict.accuracy < s.min_accuracy
        and misses >= MIN_MISSES_TO_SUSPEND
    )


def judge_window(
    window: Sequence[bool],
    gold_total: int,
    s: QualitySettings,
    train_total: int,
    train_correct: int,
) -> Verdict:
    """The answer path's judgement of a qualified worker: only the last `window` gold answers
    are read (training is behind them)."""
    window = window[-s.window :]
    correct = sum(window)
    verdict = Verdict(
        state="qualified",
        reason=None,
        accuracy=smoothed_accuracy(correct, len(window)),
        window_total=len(window),
        window_correct=correct,
        train_total=train_total,
        train_correct=train_correct,
        gold_total=gold_total,
    )
    if _below(verdict, s):
        return _with(verdict, "suspended", "accuracy")
    return verdict


def _with(verdict: Verdict, state: State, reason: Reason | None) -> Verdict:
    return Verdict(
        state,
        reason,
        verdict.accuracy,
        verdict.window_total,
        verdict.window_correct,
        verdict.train_total,
        verdict.train_correct,
        verdict.gold_total,
    )


def can_still_pass(verdict: Verdict, s: QualitySettings) -> bool:
    """Whether a worker in training passes if every training question left is right (a
    discounted item reopens training only for those it may change the outcome of)."""
    left = s.qualification - verdict.train_total
    return s.qualification == 0 or (verdict.train_correct + left) / s.qualification >= s.pass_mark


def long_and_clean(gold_total: int, accuracy: float, s: QualitySettings) -> bool:
    """A record that may go on without new gold: at least two windows, and above the pass mark."""
    return gold_total >= 2 * max(s.window, s.min_gold_answers) and accuracy >= max(
        s.pass_mark, s.min_accuracy
    )


def gold_rate(gold_total: int, accuracy: float, s: QualitySettings) -> float:
    """The share of gold served to a qualified worker: higher while their record is short or
    doubtful, falling towards gold_floor as a clean record grows."""
    if s.gold_ratio <= 0:
        return 0.0
    doubtful = accuracy < s.min_accuracy + 0.1
    if doubtful:
        return min(0.5, max(s.gold_ratio * 3, s.gold_ratio))
    settled = max(s.window, s.min_gold_answers) + s.qualification
    if gold_total < settled:
        return min(0.5, max(s.gold_ratio * 2, s.gold_ratio))
    if accuracy >= max(s.pass_mark, s.min_accuracy):
        return max(min(s.gold_floor, s.gold_ratio), s.gold_ratio * settled / gold_total)
    return s.gold_ratio


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
class Vote:
    label: str
    weight: float


def weighted_vote(votes: Sequence[Vote]) -> tuple[str | None, float]:
    """The label with the most summed trust, and its share of all the trust (0 with no votes).
    Ties go to the label voted first."""
    totals: dict[str, float] = {}
    for vote in votes:
        totals[vote.label] = totals.get(vote.label, 0.0) + vote.weight
    if not totals:
        return None, 0.0
    label = max(totals, key=lambda name: totals[name])
    return label, totals[label] / sum(totals.values())


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


def gold_needs(gold: int, s: QualitySettings) -> GoldNeeds:
    """Training serves `qualification` distinct gold tasks: with fewer, no worker can ever pass
    and every one stops after the gold there is, so the pack is refused. Afterwards checks come
    at the gold rate, from gold not yet seen; with less than one window of it left (window or
    min_gold_answers, whichever is more) workers stop for lack of gold before their score means
    anything, so the load warns."""
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
    window = max(s.window, s.min_gold_answers)
    if gold >= q + window:
        return GoldNeeds(None, None)
    left = gold - q
    return GoldNeeds(
        None,
        f"{gold} gold tasks, {q} of them for training, leave {left} for checks, less than one"
        f" window ({window}): workers stop on this pack once they have seen them all (after"
        f" about {q + (left + 1) / max(s.gold_ratio * 2, 0.01):.0f} tasks each) until more gold"
        f" is loaded. {q + window} gold tasks or more avoid it (or quality.gold_ratio 0: no"
        " checks after training)",
    )
