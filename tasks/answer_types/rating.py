"""rating: an ordered scale of 2 to 10 points (the pack's options, in order), buttons in one row.

Stored: the option id. Gold: one option id; the pack's `tolerance: n` accepts gold ± n
positions. Results: the trust-weighted median, with the interquartile range (in positions) as
the disagreement, and the confidence as the trust share of answers within the tolerance of it.
"""

from __future__ import annotations

from collections.abc import Sequence

from db.packs import PackInfo
from tasks.answer_types import single_choice
from tasks.answer_types.base import Given, Nudge, Result, Vote

MIN_POINTS, MAX_POINTS = 2, 10


def tolerance(pack: PackInfo) -> int:
    return int(pack.header.get("tolerance") or 0)


def store(pack: PackInfo, given: Given) -> str | Nudge | None:
    return single_choice.store(pack, given)


canonical_gold = single_choice.canonical_gold


def _position(pack: PackInfo, option_id: str) -> int | None:
    for index, option in enumerate(pack.options):
        if option.id == option_id:
            return index
    return None


def gold_score(pack: PackInfo, answer: str, gold: str) -> float:
    given, expected = _position(pack, answer), _position(pack, gold)
    if given is None or expected is None:
        return 0.0
    return 1.0 if abs(given - expected) <= tolerance(pack) else 0.0


def chance_score(pack: PackInfo) -> float:
    """A random presser's expected score: the share of the scale within the tolerance of the
    gold, averaged over every gold position."""
    n, t = max(len(pack.options), 2), tolerance(pack)
    accepted = sum(min(n - 1, g + t) - max(0, g - t) + 1 for g in range(n))
    return accepted / (n * n)


def weighted_quantile(points: Sequence[tuple[int, float]], q: float) -> int:
    """The lowest position whose cumulative trust reaches the share q of the total."""
    ordered = sorted(points)
    total = sum(weight for _, weight in ordered)
    running = 0.0
    for position, weight in ordered:
        running += weight
        if running >= q * total - 1e-12:
            return position
    return ordered[-1][0]


def aggregate(pack: PackInfo, votes: Sequence[Vote]) -> Result:
    points = [
        (position, vote.weight)
        for vote in votes
        if (position := _position(pack, vote.answer)) is not None
    ]
    if not points:
        return Result(None, 0.0)
    median = weighted_quantile(points, 0.5)
    iqr = weighted_quantile(points, 0.75) - weighted_quantile(points, 0.25)
    total = sum(weight for _, weight in points)
    near = sum(weight for position, weight in points if abs(position - median) <= tolerance(pack))
    return Result(pack.options[median].id, near / total, {"iqr": iqr, "median": median + 1})
