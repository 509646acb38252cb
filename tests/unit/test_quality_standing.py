"""A worker's standing on a pack (tasks/quality/standing.py): each transition from the states
it starts from, impossible ones refused, and no field of a standing assigned anywhere else."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tasks.quality import rules
from tasks.quality.standing import ImpossibleTransition, Standing

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=24)
FIELDS = {f.name for f in dataclasses.fields(Standing)}


def standing(state: rules.State = "training", **changes: object) -> Standing:
    """A standing in `state`, built through the transitions that lead there."""
    s = Standing.first(1, 7, qualification=5, now=NOW)
    if state == "qualified":
        s.qualify(NOW)
    elif state == "failed":
        s.fail_training(NOW, retry_at=LATER)
    elif state == "suspended":
        s.qualify(NOW)
        s.suspend("accuracy", NOW, retry_at=LATER)
    elif state == "stopped":
        s.stop_for_no_gold(NOW)
    return dataclasses.replace(s, **changes)  # type: ignore[arg-type]


def test_a_first_standing_trains_or_is_qualified_without_training() -> None:
    s = Standing.first(1, 7, qualification=5, now=NOW)
    assert (s.state, s.attempts, s.accuracy, s.points, s.reason) == ("training", 1, 0.5, 0, None)
    assert s.is_training and s.may_work and not s.waits_for_retraining
    assert Standing.first(1, 7, qualification=0, now=NOW).state == "qualified"


def test_training_passed_or_failed() -> None:
    s = standing("training", gold_total=5)
    s.qualify(NOW)
    assert (s.state, s.decided_at, s.decided_gold) == ("qualified", NOW, 5)

    s = standing("training", gold_total=3)
    s.fail_training(NOW, retry_at=LATER)
    assert (s.state, s.reason, s.retry_at, s.decided_gold) == ("failed", "qualification", LATER, 3)
    assert s.waits_for_retraining and s.decided_by_test and not s.may_work


@pytest.mark.parametrize("state", ["training", "qualified"])
def test_a_working_standing_may_be_suspended_or_stopped(state: rules.State) -> None:
    s = standing(state, gold_total=9)
    s.suspend("too_fast", NOW, retry_at=LATER)
    assert (s.state, s.reason, s.retry_at, s.decided_gold) == ("suspended", "too_fast", LATER, 9)
    assert not s.decided_by_test  # a streak, not the test: a re-judging leaves it

    s = standing(state)
    s.stop_for_no_gold(NOW)
    assert (s.state, s.reason, s.decided_at) == ("stopped", "no_gold", NOW)


def test_a_stopped_worker_resumes_where_they_were() -> None:
    s = standing("stopped", gold_total=3)
    s.resume(LATER, qualification=5)
    assert (s.state, s.reason, s.updated_at) == ("training", None, LATER)
    s = standing("stopped", gold_total=5)
    s.resume(LATER, qualification=5)
    assert s.state == "qualified"


@pytest.mark.parametrize("state", ["failed", "suspended"])
def test_retraining_opens_at_retry_at_with_a_new_attempt(state: rules.State) -> None:
    s = standing(state, points=40, gold_total=12, score_sum=7.0, fast_streak=3, draws=30)
    assert not s.may_retrain(LATER - timedelta(seconds=1)) and s.may_retrain(LATER)
    with pytest.raises(ImpossibleTransition):
        s.retrain(LATER - timedelta(seconds=1), since_id=99, qualification=5)
    s.retrain(LATER, since_id=99, qualification=5)
    assert (s.state, s.reason, s.attempts, s.since_id, s.retry_at) == (
        "training",
        None,
        2,
        99,
        None,
    )
    assert (s.points, s.gold_total, s.score_sum, s.fast_streak, s.accuracy) == (0, 0, 0.0, 0, 0.5)
    assert s.draws == 30  # the draws go on numbering the worker's tasks


@pytest.mark.parametrize(
    ("state", "change"),
    [
        ("qualified", lambda s: s.qualify(NOW)),
        ("failed", lambda s: s.qualify(NOW)),
        ("qualified", lambda s: s.fail_training(NOW, LATER)),
        ("failed", lambda s: s.suspend("accuracy", NOW, LATER)),
        ("stopped", lambda s: s.suspend("same_button", NOW, LATER)),
        ("suspended", lambda s: s.stop_for_no_gold(NOW)),
        ("qualified", lambda s: s.resume(NOW, 5)),
        ("qualified", lambda s: s.retrain(LATER, 1, 5)),
        ("stopped", lambda s: s.retrain(LATER, 1, 5)),
        ("qualified", lambda s: s.reinstate(rules.start(rules.QualitySettings()))),
    ],
)
def test_an_impossible_transition_raises(
    state: rules.State, change: Callable[[Standing], None]
) -> None:
    s = standing(state)
    before = dataclasses.asdict(s)
    with pytest.raises(ImpossibleTransition):
        change(s)
    assert dataclasses.asdict(s) == before  # and changes nothing


def test_answers_move_the_streaks_and_the_draws() -> None:
    s = standing("qualified")
    s.note_answer(NOW, too_fast=True, streak_key="a")
    s.note_answer(NOW, too_fast=True, streak_key="a")
    assert (s.fast_streak, s.same_option, s.same_streak, s.draws) == (2, "a", 2, 2)
    s.note_answer(LATER, too_fast=False, streak_key="b")
    assert (s.fast_streak, s.same_option, s.same_streak, s.draws) == (0, "b", 1, 3)
    s.count_draw()
    assert (s.draws, s.updated_at, s.same_streak) == (4, LATER, 1)


def test_a_verdict_is_recorded_and_read_back_as_the_tests_state() -> None:
    s = standing("qualified")
    settings, plan = rules.QualitySettings(qualification=0), rules.plan(0.85, 1 / 3, 0.003, 0.05)
    verdict = rules.judge([1.0, 0.0, 1.0], settings, plan)
    s.record_verdict(verdict)
    assert s.as_verdict() == dataclasses.replace(verdict, good_at=0)
    assert s.as_points(plan).golds == 3 and s.as_points(plan).rights == 2


def test_a_rejudging_lifts_only_the_tests_own_decisions() -> None:
    settings, plan = rules.QualitySettings(qualification=2), rules.plan(0.85, 1 / 3, 0.003, 0.05)
    clean = rules.judge([1.0, 1.0, 1.0], settings, plan)
    s = standing("suspended")
    assert s.rejudge(clean, settings, plan, LATER)
    assert (s.state, s.reason, s.retry_at, s.updated_at) == ("qualified", None, None, LATER)

    s = standing("qualified")
    s.suspend("same_button", NOW, LATER)
    assert not s.rejudge(clean, settings, plan, LATER) and s.state == "suspended"

    # Never suspended by a replay: one point below the limit, the next miss decides.
    stopped = rules.judge([0.0] * 20, settings, plan)
    assert stopped.state in ("failed", "suspended")
    s = standing("qualified")
    assert not s.rejudge(stopped, settings, plan, LATER)
    assert (s.state, s.points) == ("qualified", plan.limit - 1)

    s = standing("training")  # the replayed record completes training
    assert not s.rejudge(clean, settings, plan, LATER) and s.state == "qualified"


def assigned_fields(path: Path, root: Path = ROOT) -> Iterator[str]:
    """`x.<field of a Standing> = ...` in the module, on anything but `self`."""

    def flat(target: ast.expr) -> Iterator[ast.expr]:
        if isinstance(target, ast.Tuple | ast.List):
            for item in target.elts:
                yield from flat(item)
        elif isinstance(target, ast.Starred):
            yield from flat(target.value)
        else:
            yield target

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in (found for t in targets for found in flat(t)):
            if (
                isinstance(target, ast.Attribute)
                and target.attr in FIELDS
                and not (isinstance(target.value, ast.Name) and target.value.id == "self")
            ):
                yield f"{path.relative_to(root)}:{node.lineno} {ast.unparse(target)}"


def test_a_standing_changes_only_through_its_methods() -> None:
    """Every change of a standing is a method of tasks/quality/standing.py: no other module of
    the bot assigns a standing's fields."""
    home = ROOT / "tasks" / "quality" / "standing.py"
    found = [
        line
        for room in ("tasks", "db", "handlers", "bot")
        for path in sorted((ROOT / room).rglob("*.py"))
        if path != home
        for line in assigned_fields(path)
    ]
    assert found == []


def test_the_scan_sees_a_field_assigned(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "standing.state = 'qualified'\n"
        "known.points, known.reason = 0, None\n"
        "quiet.draws += 1\n"
        "self.state = 'x'\n"
        "standing.is_training\n"
    )
    assert list(assigned_fields(sample, tmp_path)) == [
        "sample.py:1 standing.state",
        "sample.py:2 known.points",
        "sample.py:2 known.reason",
        "sample.py:3 quiet.draws",
    ]
