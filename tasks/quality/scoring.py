"""How a gold answer is scored, and what a random clicker scores: the two facts about a task
type that the quality rules need. A score is in [0, 1] (1: right, 0: a miss; types with partial
credit score in between). Each type's rules are in its module of tasks/answer_types/: the
sequential test (rules.plan) derives its alternative accuracy p1 from `chance_score`."""

from __future__ import annotations

from tasks import answer_types
from tasks.packs import PackInfo


def gold_score(pack: PackInfo, answer: str, gold: str) -> float:
    """The score of `answer` against the gold key (single choice: 1 if it is the key, else 0;
    rating: 1 within the pack's tolerance; multi_choice: 1 for the exact set; text: 1 for an
    accepted answer after normalisation or within max_cer)."""
    return answer_types.gold_score(pack, answer, gold)


def chance_score(pack: PackInfo) -> float:
    """A random clicker's expected score on the pack (single choice: 1 / number of options)."""
    return answer_types.chance_score(pack)
