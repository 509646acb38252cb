"""A standing's gold record and the sequential test's verdicts: from one to the other, and the
test in points as workers are shown it."""

from __future__ import annotations

from db.standings import Standing
from tasks.quality import rules
from tasks.quality.news import Points


def as_verdict(standing: Standing) -> rules.Verdict:
    """The standing's record as the test's state."""
    return rules.Verdict(
        state=standing.state,  # type: ignore[arg-type]
        reason=None,
        points=standing.points,
        accuracy=standing.accuracy,
        gold_total=standing.gold_total,
        score_sum=standing.score_sum,
        train_total=standing.train_total,
        train_correct=standing.train_correct,
        good_at=0,
    )


def keep(standing: Standing, verdict: rules.Verdict) -> None:
    """The verdict's record into the standing (its state is the caller's to decide)."""
    standing.points = verdict.points
    standing.accuracy = verdict.accuracy
    standing.gold_total = verdict.gold_total
    standing.score_sum = verdict.score_sum
    standing.train_total = verdict.train_total
    standing.train_correct = verdict.train_correct


def points_of(standing: Standing, plan: rules.Plan) -> Points:
    return Points(
        points=standing.points,
        limit=plan.limit,
        miss=plan.miss,
        right=plan.right,
        floor=plan.floor,
        careful_stopped=rules.stopped_share(plan, 0.9),
        golds=standing.gold_total,
        rights=round(standing.score_sum),
    )
