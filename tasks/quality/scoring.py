"""How a gold answer is scored, and what a random clicker scores: the two facts about a task
type that the quality rules need. A score is in [0, 1] (1: right, 0: a miss; types with partial
credit score in between). A new task type extends these two functions and nothing else: the
sequential test (rules.plan) derives its alternative accuracy p1 from `chance_score`."""

from __future__ import annotations

from tasks.packs import PackInfo


def gold_score(pack: PackInfo, answer: str, gold: str) -> float:
    """The score of `answer` against the gold key (single choice: 1 if it is the key, else 0)."""
    if pack.type == "single_choice":
        return 1.0 if answer == gold else 0.0
    raise ValueError(f"no gold scoring for task type {pack.type!r}")


def chance_score(pack: PackInfo) -> float:
    """A random clicker's expected score on the pack (single choice: 1 / number of options)."""
    if pack.type == "single_choice":
        return 1.0 / max(len(pack.options), 2)
    raise ValueError(f"no chance score for task type {pack.type!r}")
