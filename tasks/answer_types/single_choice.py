"""single_choice: one button among 2 to 8; the answer and the gold are an option id."""

from __future__ import annotations

from collections.abc import Sequence

from db.packs import PackInfo
from tasks.answer_types.base import Given, Nudge, Pick, Result, Vote
from tasks.quality.rules import LabelVote, one_coin_vote


def store(pack: PackInfo, given: Given) -> str | Nudge | None:
    """The option id a press stores; None: no such option (a forged press)."""
    if not isinstance(given, Pick):
        return Nudge("nudge_buttons")
    if not 0 <= given.index < len(pack.options):
        return None
    return pack.options[given.index].id


def canonical_gold(option_ids: Sequence[str], gold: str | list[str]) -> str:
    if not isinstance(gold, str):
        raise ValueError("the gold of a single_choice task is one option id (a string)")
    if gold not in option_ids:
        raise ValueError(f'"{gold}" is not one of the options ({", ".join(option_ids)})')
    return gold


def gold_score(answer: str, gold: str) -> float:
    return 1.0 if answer == gold else 0.0


def chance_score(pack: PackInfo) -> float:
    return 1.0 / max(len(pack.options), 2)


def aggregate(votes: Sequence[Vote], options: int) -> Result:
    """The label with the most summed weight, and its one-coin posterior as the confidence
    (tasks/quality/rules.py `one_coin_vote`: weights are log-odds, so two agreeing answers from
    workers the gold trusts little are not taken for certainty)."""
    label, confidence = one_coin_vote(
        [LabelVote(vote.answer, vote.weight) for vote in votes], options
    )
    return Result(label, confidence)
