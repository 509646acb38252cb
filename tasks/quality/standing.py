"""A worker's standing on one pack, and everything that happens to it.

The states (stored in `worker_quality.state`):

    training   answering the pack's first gold tasks (`qualification` of them)
    qualified  working; the sequential test reads every gold answer
    failed     the test reached its limit during training: retraining opens at retry_at
    suspended  stopped by the quality rules (accuracy, too fast, same button): retraining opens
               at retry_at; answers since the last good window stopped counting
    stopped    no unseen gold left to check the worker with: goes on when new gold comes

    training --qualify--> qualified
    training --fail_training--> failed
    training, qualified --suspend--> suspended
    training, qualified --stop_for_no_gold--> stopped --resume--> training, qualified
    failed, suspended --retrain (at retry_at)--> training, qualified (a new attempt)
    failed, suspended --reinstate (re-judged, the test no longer stops them)--> training, qualified

A transition from a state it does not start from raises `ImpossibleTransition`. Every change of
a standing is a method here (tests/unit/test_quality_standing.py checks that nothing outside this
module assigns a standing's fields).

"Suspended" is only the quality test's word: an operator's Suspend button *bars* a worker from
every pack (tasks/operator/workers.py), which is no standing and changes none.

On an answer press the standing is read once (`load_standing`), changed by the judging and the
pick of the next task, and written back by `save_standing` with only the columns that changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from db import Tx
from db import standings as standings_db
from db.standings import StandingRow
from tasks.quality import rules
from tasks.quality.news import Points
from tasks.quality.rules import Reason, State

TRAINING: State = "training"
QUALIFIED: State = "qualified"
FAILED: State = "failed"
SUSPENDED: State = "suspended"
STOPPED: State = "stopped"
# Reasons that are the sequential test's own decisions (a re-judging may lift them).
TEST_REASONS = ("qualification", "accuracy")


class ImpossibleTransition(ValueError):
    """A standing asked to change from a state that change does not start from."""


@dataclass(slots=True)
class Standing:
    """A worker's standing on one pack: their state, their gold record of this attempt, the
    streaks the answer path watches, and when training opens again."""

    worker_id: int
    pack_pk: int
    state: State
    reason: Reason | None  # why failed, suspended or stopped
    attempts: int
    since_id: int  # gold answers after this assignment id count (this attempt)
    good_until_id: int  # the last assignment of a good window: answers up to it count
    accuracy: float  # smoothed, over every gold answer of the attempt
    points: int  # the sequential test's total (tasks/quality/rules.py Plan)
    score_sum: float  # the gold scores of the attempt, summed
    gold_total: int
    train_total: int
    train_correct: int
    fast_streak: int
    same_option: str | None
    same_streak: int
    draws: int  # tasks handed out: numbers the random draws
    retry_at: datetime | None
    decided_at: datetime | None
    decided_gold: int | None  # gold answers seen when the last decision fell
    updated_at: datetime
    # The row as last read or written: save_standing writes only what differs.
    saved: StandingRow | None = field(default=None, repr=False, compare=False)

    @classmethod
    def first(cls, worker_id: int, pack_pk: int, qualification: int, now: datetime) -> Standing:
        """A worker's first attempt on a pack: training, or qualified at once on a pack
        without training (qualification 0)."""
        return cls(
            worker_id=worker_id,
            pack_pk=pack_pk,
            state=_first_state(qualification),
            reason=None,
            attempts=1,
            since_id=0,
            good_until_id=0,
            accuracy=rules.smoothed_accuracy(0, 0),
            points=0,
            score_sum=0.0,
            gold_total=0,
            train_total=0,
            train_correct=0,
            fast_streak=0,
            same_option=None,
            same_streak=0,
            draws=0,
            retry_at=None,
            decided_at=None,
            decided_gold=None,
            updated_at=now,
        )

    @classmethod
    def of(cls, row: StandingRow) -> Standing:
        """The standing a stored row holds (remembered as saved)."""
        return cls(
            worker_id=row.worker_id,
            pack_pk=row.pack_pk,
            state=cast(State, row.state),  # the table's CHECK keeps it one of the five
            reason=cast("Reason | None", row.reason),
            attempts=row.attempts,
            since_id=row.since_id,
            good_until_id=row.good_until_id,
            accuracy=row.accuracy,
            points=row.points,
            score_sum=row.score_sum,
            gold_total=row.gold_total,
            train_total=row.train_total,
            train_correct=row.train_correct,
            fast_streak=row.fast_streak,
            same_option=row.same_option,
            same_streak=row.same_streak,
            draws=row.draws,
            retry_at=row.retry_at,
            decided_at=row.decided_at,
            decided_gold=row.decided_gold,
            updated_at=row.updated_at,
            saved=row,
        )

    def as_row(self) -> StandingRow:
        return StandingRow(
            self.worker_id,
            self.pack_pk,
            self.state,
            self.reason,
            self.attempts,
            self.since_id,
            self.good_until_id,
            self.accuracy,
            self.points,
            self.score_sum,
            self.gold_total,
            self.train_total,
            self.train_correct,
            self.fast_streak,
            self.same_option,
            self.same_streak,
            self.draws,
            self.retry_at,
            self.decided_at,
            self.decided_gold,
            self.updated_at,
        )

    # -- what it says ------------------------------------------------------------------------

    @property
    def is_training(self) -> bool:
        return self.state == TRAINING

    @property
    def is_stopped(self) -> bool:
        """Stopped for lack of gold: goes on when new gold comes."""
        return self.state == STOPPED

    @property
    def may_work(self) -> bool:
        """Training or qualified: their answers are judged and count."""
        return self.state in (TRAINING, QUALIFIED)

    @property
    def waits_for_retraining(self) -> bool:
        """Failed training or suspended: off the pack until retraining opens."""
        return self.state in (FAILED, SUSPENDED)

    def may_retrain(self, now: datetime) -> bool:
        """Failed or suspended, and retraining has opened."""
        return self.waits_for_retraining and self.retry_at is not None and self.retry_at <= now

    @property
    def decided_by_test(self) -> bool:
        """Failed or suspended by the sequential test itself (not by a streak)."""
        return self.waits_for_retraining and self.reason in TEST_REASONS

    def as_verdict(self) -> rules.Verdict:
        """The gold record of this attempt as the test's state."""
        return rules.Verdict(
            state=self.state,
            reason=None,
            points=self.points,
            accuracy=self.accuracy,
            gold_total=self.gold_total,
            score_sum=self.score_sum,
            train_total=self.train_total,
            train_correct=self.train_correct,
            good_at=0,
        )

    def as_points(self, plan: rules.Plan) -> Points:
        """The test in points, as the worker is shown it."""
        return Points(
            points=self.points,
            limit=plan.limit,
            miss=plan.miss,
            right=plan.right,
            floor=plan.floor,
            careful_stopped=rules.stopped_share(plan, 0.9),
            golds=self.gold_total,
            rights=round(self.score_sum),
        )

    # -- what happens to it -------------------------------------------------------------------

    def note_answer(self, now: datetime, too_fast: bool, streak_key: str) -> None:
        """An answer was given: one more draw; the too-fast streak grows or breaks; the
        same-answer streak grows if `streak_key` is the last answer's, else starts again."""
        same = self.same_option == streak_key
        self.draws += 1
        self.fast_streak = self.fast_streak + 1 if too_fast else 0
        self.same_option = streak_key
        self.same_streak = self.same_streak + 1 if same else 1
        self.updated_at = now

    def count_draw(self) -> None:
        """The draws move on without an answer (a skip, a task released): the next draw is a new
        one. The only change a skip makes."""
        self.draws += 1

    def record_verdict(self, verdict: rules.Verdict) -> None:
        """The test's record after a verdict (the state is changed by the transitions)."""
        self.points = verdict.points
        self.accuracy = verdict.accuracy
        self.gold_total = verdict.gold_total
        self.score_sum = verdict.score_sum
        self.train_total = verdict.train_total
        self.train_correct = verdict.train_correct

    def note_good_answer(self, assignment_id: int) -> None:
        """A right answer with no evidence against the worker: their answers up to here keep
        counting if a later climb of the points ends in a suspension."""
        self.good_until_id = assignment_id

    def qualify(self, now: datetime) -> None:
        """Training passed."""
        self._expect(TRAINING)
        self.state = QUALIFIED
        self._decided(now)

    def fail_training(self, now: datetime, retry_at: datetime) -> None:
        """The test reached its limit during training: retraining opens at retry_at."""
        self._expect(TRAINING)
        self.state, self.reason, self.retry_at = FAILED, "qualification", retry_at
        self._decided(now)

    def suspend(self, reason: Reason, now: datetime, retry_at: datetime) -> None:
        """Stopped by a quality rule (accuracy, too_fast, same_button): retraining opens at
        retry_at. (Which answers stop counting is the judging's: tasks/quality/judging.py.)"""
        self._expect(TRAINING, QUALIFIED)
        self.state, self.reason, self.retry_at = SUSPENDED, reason, retry_at
        self._decided(now)

    def stop_for_no_gold(self, now: datetime) -> None:
        """No unseen gold left to check the worker with, and no long clean record."""
        self._expect(TRAINING, QUALIFIED)
        self.state, self.reason = STOPPED, "no_gold"
        self.decided_at = self.updated_at = now

    def resume(self, now: datetime, qualification: int) -> None:
        """New gold came for a worker stopped for lack of it: they go on where they were."""
        self._expect(STOPPED)
        self.state = TRAINING if self.gold_total < qualification else QUALIFIED
        self.reason = None
        self.updated_at = now

    def retrain(self, now: datetime, since_id: int, qualification: int) -> None:
        """Retraining opens: a new attempt, judged on the gold answers after `since_id` (the
        last assignment id now) only."""
        if not self.may_retrain(now):
            raise ImpossibleTransition(
                f"retrain: a {self.state} standing retraining at {self.retry_at}, now {now}"
            )
        self.state = _first_state(qualification)
        self.reason = None
        self.attempts += 1
        self.since_id = since_id
        self.accuracy = rules.smoothed_accuracy(0, 0)
        self.points = self.gold_total = 0
        self.score_sum = 0.0
        self.train_total = self.train_correct = 0
        self.fast_streak = self.same_streak = 0
        self.same_option = None
        self.retry_at = None
        self.updated_at = now

    def reinstate(self, verdict: rules.Verdict) -> None:
        """A decision of the test lifted (its record re-judged): back to where the record
        stands now, training or qualified."""
        if not self.decided_by_test or verdict.state not in (TRAINING, QUALIFIED):
            raise ImpossibleTransition(
                f"reinstate: a {self.state} standing ({self.reason}) to {verdict.state}"
            )
        self.state, self.reason, self.retry_at = verdict.state, None, None

    def rejudge(
        self, verdict: rules.Verdict, s: rules.QualitySettings, plan: rules.Plan, now: datetime
    ) -> bool:
        """The record replayed through the test with the gold as it is now (an item flagged,
        corrected or retired). A failure or suspension the test decided is lifted if the
        verdict no longer stops the worker (returns True). Never suspends anyone: a worker in
        good standing whose replayed points reach the limit keeps one point below it (the next
        miss decides); a trainee whose record now completes training is qualified."""
        before, decided_by_test = self.state, self.decided_by_test
        self.record_verdict(verdict)
        self.updated_at = now
        if decided_by_test:
            if not rules.can_still_pass(verdict, s):
                return False
            self.reinstate(verdict)
            return True
        if before in (TRAINING, QUALIFIED):
            if not rules.can_still_pass(verdict, s):
                self.points = plan.limit - 1
            elif before == TRAINING and verdict.state == QUALIFIED:
                self.state = QUALIFIED  # training done once the record is replayed
        return False

    def _decided(self, now: datetime) -> None:
        self.decided_at, self.decided_gold = now, self.gold_total

    def _expect(self, *states: State) -> None:
        if self.state not in states:
            raise ImpossibleTransition(f"a {self.state} standing cannot do that (from {states})")


def _first_state(qualification: int) -> State:
    """Where an attempt starts: training, or qualified at once on a pack without training."""
    return TRAINING if qualification > 0 else QUALIFIED


# -- storage: one read and one write per unit of work ---------------------------------------


def load_standing(tx: Tx, worker_id: int, pack_pk: int) -> Standing | None:
    row = standings_db.get(tx, worker_id, pack_pk)
    return None if row is None else Standing.of(row)


def new_standing(
    tx: Tx, worker_id: int, pack_pk: int, qualification: int, now: datetime
) -> Standing:
    """The worker's first standing on the pack, stored."""
    standing = Standing.first(worker_id, pack_pk, qualification, now)
    standing.saved = standing.as_row()
    standings_db.insert(tx, standing.saved)
    return standing


def save_standing(tx: Tx, standing: Standing) -> None:
    """Writes the columns that changed since the standing was read or last saved (a press
    mostly moves streaks and counts: the state, and its index, stay untouched)."""
    row = standing.as_row()
    if standing.saved is None or row != standing.saved:
        standings_db.update(tx, row, standing.saved)
        standing.saved = row
