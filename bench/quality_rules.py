"""Parts 1 and 2 of bench_quality: the quality rules alone, on simulated workers, through the
bot's own code (tasks/quality/rules.py): the sequential test's error rates per option count, and
the false positives of the fast-answer and same-button rules. No database, no bot: a few
seconds. `python -m bench.bench_quality` prints these tables first."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

SUSPENSION_WORKERS = 10_000


SUSPENSION_GOLDS = 200


TURNS_BAD_AT = 50


# -- 1. the sequential test alone ----------------------------------------------------------


@dataclass(frozen=True)
class SuspensionRow:
    options: int
    plan: str  # the test in points
    stopped: dict[float, float]  # accuracy -> share stopped within the golds
    random_median: float
    random_p95: float
    random_never: float  # random clickers never stopped
    turned_median: float  # golds after the switch until stopped
    turned_p95: float
    turned_never: float


def suspension_row(
    options: int,
    workers: int = SUSPENSION_WORKERS,
    golds: int = SUSPENSION_GOLDS,
    seed: int = 2026,
    accuracies: Sequence[float] = (0.95, 0.9, 0.8, 0.7),
) -> SuspensionRow:
    """Simulated workers through rules.judge (the bot's own code), default settings: each gold
    answer right with the worker's accuracy, independently; training is the first five."""
    from tasks.quality import rules

    s = rules.QualitySettings()
    chance = 1 / options
    plan = rules.plan_for(s, chance)
    rng = random.Random(seed)

    def run(accuracy: Callable[[int], float]) -> list[int | None]:
        stops = []
        for _ in range(workers):
            scores = [1.0 if rng.random() < accuracy(i) else 0.0 for i in range(golds)]
            stops.append(rules.golds_until_stopped(scores, s, plan))
        return stops

    stopped = {}
    for accuracy in accuracies:
        stops = run(lambda _, a=accuracy: a)  # type: ignore[misc]
        stopped[accuracy] = sum(stop is not None for stop in stops) / workers
    clickers = run(lambda _: chance)
    turned = run(lambda i: 0.9 if i < TURNS_BAD_AT else chance)
    after = [stop - TURNS_BAD_AT for stop in turned if stop is not None and stop > TURNS_BAD_AT]
    early = sum(stop is not None and stop <= TURNS_BAD_AT for stop in turned)
    found = [stop for stop in clickers if stop is not None]
    return SuspensionRow(
        options=options,
        plan=(
            f"+{plan.miss} per miss, -{plan.right} per right answer, never below {plan.floor},"
            f" suspended at {plan.limit}"
        ),
        stopped=stopped,
        random_median=statistics.median(found) if found else math.inf,
        random_p95=percentile(found, 0.95),
        random_never=(workers - len(found)) / workers,
        turned_median=statistics.median(after) if after else math.inf,
        turned_p95=percentile(after, 0.95),
        turned_never=(workers - len(after) - early) / workers,
    )


def percentile(values: Sequence[int], share: float) -> float:
    if not values:
        return math.inf
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)])


def print_suspension_tables() -> None:
    print(
        f"\n## The sequential test: {SUSPENSION_WORKERS:,} simulated workers per kind,"
        f" {SUSPENSION_GOLDS} gold answers each (training included), default settings\n"
    )
    print(
        "| options | the test in points | 95% accurate | 90% | 80% | 70% |"
        " random clicker: golds until stopped, median / p95 |"
        f" turns random at gold {TURNS_BAD_AT}: golds after, median / p95 |"
    )
    print("|" + "---|" * 8)
    for options in (3, 2, 4, 5, 10):
        row = suspension_row(options)
        shares = " | ".join(f"{row.stopped[a]:.2%} stopped" for a in (0.95, 0.9, 0.8, 0.7))
        never = f" ({row.random_never:.1%} never)" if row.random_never else ""
        print(
            f"| {options} | {row.plan} | {shares} |"
            f" {row.random_median:.0f} / {row.random_p95:.0f}{never} |"
            f" {row.turned_median:.0f} / {row.turned_p95:.0f} |"
        )


# -- 2. the fast-answer and same-button rules ----------------------------------------------


def fast_rule_row(speed: float, spread: float, workers: int, answers: int, seed: int) -> float:
    """Share of honest workers the fast-answer rule stops within `answers` answers: each
    answer takes a log-normal time (median `speed` x the pack's median, log-sd `spread`);
    min_seconds is derived as the bot derives it (a quarter of the pack's median), and
    fast_streak (5) too-fast answers in a row stop the worker."""
    from tasks.quality import rules

    s = rules.QualitySettings()
    pack_median = 10.0
    limit = rules.derived_min_seconds(pack_median, rules.MEDIAN_MIN_ANSWERS)
    assert limit is not None
    rng = np.random.default_rng(seed)
    times = pack_median * speed * np.exp(rng.normal(0.0, spread, (workers, answers)))
    stopped = 0
    for row in times < limit:
        streak = 0
        for fast in row:
            streak = streak + 1 if fast else 0
            if streak >= s.fast_streak:
                stopped += 1
                break
    return stopped / workers


def same_rule_row(top: float, options: int, workers: int, answers: int, seed: int) -> float:
    """Share of honest 90%-accurate workers the same-button rule stops within `answers`: the
    truth is the commonest label with probability `top` (the rest shared), the limit is the
    bot's (rules.same_streak_limit of the pack's top share)."""
    from tasks.quality import rules

    limit = rules.same_streak_limit(top)
    rng = np.random.default_rng(seed)
    others = (1 - top) / (options - 1)
    shares = [top] + [others] * (options - 1)
    truth = rng.choice(options, size=(workers, answers), p=shares)
    right = rng.random((workers, answers)) < 0.9
    shift = rng.integers(1, options, size=(workers, answers))
    given = np.where(right, truth, (truth + shift) % options)
    stopped = 0
    for row in given:
        streak, last = 0, -1
        for answer in row:
            streak = streak + 1 if answer == last else 1
            last = answer
            if streak >= limit:
                stopped += 1
                break
    return stopped / workers


def print_other_rules() -> None:
    workers, answers = SUSPENSION_WORKERS, SUSPENSION_GOLDS
    print(
        f"\n## Fast answers: honest workers stopped within {answers} answers ({workers:,} per"
        " row; min_seconds = a quarter of the pack's median, 5 too fast in a row)\n"
    )
    print("| the worker's median time / the pack's | log-sd 0.5 | log-sd 0.8 |")
    print("|---|---|---|")
    for speed in (1.0, 0.6, 0.45):
        cells = " | ".join(
            f"{fast_rule_row(speed, spread, workers, answers, 7):.2%}" for spread in (0.5, 0.8)
        )
        print(f"| {speed:g} | {cells} |")
    print(
        f"\n## Same button: honest 90%-accurate workers stopped within {answers} answers"
        f" ({workers:,} per row)\n"
    )
    print("| commonest label's share | options | streak that stops | stopped |")
    print("|---|---|---|---|")
    from tasks.quality import rules

    for top, options in ((1 / 3, 3), (0.5, 2), (0.6, 3), (0.8, 3)):
        share = same_rule_row(top, options, workers, answers, 11)
        print(f"| {top:.2f} | {options} | {rules.same_streak_limit(top)} | {share:.2%} |")
