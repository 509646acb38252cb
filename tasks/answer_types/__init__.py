"""Answer types: what a worker gives for a task, how it is stored, scored against gold,
aggregated and shown. One module per type; this module dispatches on the pack's `type`.

- single_choice.py: one button; the option id.
- rating.py: an ordered scale in one row; the option id, gold within `tolerance`.
- multi_choice.py: toggles and Done; a JSON list of option ids, per-label results.
- text.py: a message; the text, gold after normalisation or within `max_cer`, the medoid.

Adding a type: a module with store / canonical_gold / gold_score / chance_score / aggregate,
then a branch in each function below and a TypeRules entry in tasks/packs/format.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from db.packs import PackInfo
from tasks.answer_types import multi_choice, rating, single_choice, text
from tasks.answer_types.base import (
    Given,
    NotText,
    Nudge,
    Pick,
    Reply,
    Result,
    Selection,
    Vote,
)

__all__ = [
    "BUTTON_TYPES",
    "Given",
    "NotText",
    "Nudge",
    "Pick",
    "Reply",
    "Result",
    "Selection",
    "Vote",
    "aggregate",
    "canonical_gold",
    "chance_score",
    "gold_score",
    "show",
    "show_gold",
    "store",
    "streak_key",
    "vote_options",
]

BUTTON_TYPES = frozenset({"single_choice", "rating", "multi_choice"})


def store(pack: PackInfo, given: Given) -> str | Nudge | None:
    """What assignments.answer keeps for this answer; a Nudge when it cannot be stored as
    given (the worker is told why, nothing is stored); None when it names no option (forged)."""
    if pack.type == "multi_choice":
        return multi_choice.store(pack, given)
    if pack.type == "text":
        return text.store(pack, given)
    if pack.type == "rating":
        return rating.store(pack, given)
    return single_choice.store(pack, given)


def canonical_gold(
    task_type: str,
    option_ids: Sequence[str],
    gold: str | list[str],
    none_of_these: str | None = None,
) -> str:
    """The gold of a pack file as stored in tasks.gold; ValueError says what is wrong with it."""
    if task_type == "multi_choice":
        return multi_choice.canonical_gold(option_ids, none_of_these, gold)
    if task_type == "text":
        return text.canonical_gold(gold)
    return single_choice.canonical_gold(option_ids, gold)


def gold_score(pack: PackInfo, answer: str, gold: str) -> float:
    """The score in [0, 1] of a stored answer against a stored gold: 1 right, 0 a miss, partial
    credit in between (single_choice: the key; rating: within the pack's tolerance;
    multi_choice: the exact set; text: an accepted answer after normalisation or within
    max_cer). The quality rules read it for every gold answer."""
    if pack.type == "single_choice":
        return single_choice.gold_score(answer, gold)
    if pack.type == "rating":
        return rating.gold_score(pack, answer, gold)
    if pack.type == "multi_choice":
        return multi_choice.gold_score(answer, gold)
    if pack.type == "text":
        return text.gold_score(pack, answer, gold)
    raise ValueError(f"no gold scoring for task type {pack.type!r}")


def chance_score(pack: PackInfo) -> float:
    """A random answerer's expected gold score on the pack (single_choice: 1 / options): the
    sequential test derives its alternative accuracy p1 from it (tasks/quality/rules.py `plan`)."""
    if pack.type == "single_choice":
        return single_choice.chance_score(pack)
    if pack.type == "rating":
        return rating.chance_score(pack)
    if pack.type == "multi_choice":
        return multi_choice.chance_score(pack)
    if pack.type == "text":
        return text.chance_score(pack)
    raise ValueError(f"no chance score for task type {pack.type!r}")


def vote_options(pack: PackInfo) -> int:
    """The number of outcomes a vote's trust weight is reckoned against: the options of a
    choice, and 2 (right or wrong) for each label of multi_choice and for a text."""
    if pack.type in ("single_choice", "rating"):
        return max(len(pack.options), 2)
    return 2


def aggregate(pack: PackInfo, votes: Sequence[Vote]) -> Result:
    if pack.type == "rating":
        return rating.aggregate(pack, votes)
    if pack.type == "multi_choice":
        return multi_choice.aggregate(pack, votes)
    if pack.type == "text":
        return text.aggregate(pack, votes)
    return single_choice.aggregate(votes, len(pack.options))


def show(pack: PackInfo, stored: str | None) -> str:
    """A stored answer (or gold) as a worker reads it: labels, or the text(s)."""
    if stored is None:
        return "-"
    if pack.type == "multi_choice":
        chosen = multi_choice.decode(stored)
        return ", ".join(pack.option_label(option) or option for option in chosen) or "-"
    if pack.type == "text":
        return stored
    return pack.option_label(stored) or stored


def show_gold(pack: PackInfo, gold: str | None) -> str:
    """A gold as a worker reads it (a text task's accepted answers, separated by " | ")."""
    if gold is not None and pack.type == "text":
        return " | ".join(text.accepted_answers(gold))
    return show(pack, gold)


def streak_key(pack: PackInfo, stored: str) -> str:
    """What "the same answer again" compares (same-answer streaks)."""
    return text.streak_key(stored) if pack.type == "text" else stored
