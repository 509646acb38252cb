"""What the worker is told after an answer or when their standing on a pack changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class Feedback:
    """After a training answer, or a missed gold answer: what was expected and why."""

    assignment_id: int
    pack_title: str
    text: str  # the task's text
    answered: str  # option labels
    expected: str
    explanation: str | None
    correct: bool
    training: tuple[int, int] | None  # (answered so far, qualification) during training


@dataclass(frozen=True)
class Points:
    """The sequential test as a person can follow it: where the worker stands, and the rule."""

    points: int  # where they stand
    limit: int  # paused at or above
    miss: int  # added per miss
    right: int  # taken off per right answer
    floor: int  # never below
    careful_stopped: float  # share of 90%-accurate workers stopped by chance in 200 answers
    golds: int = 0  # gold answers the test read (this attempt)
    rights: int = 0  # of which fully right


@dataclass(frozen=True)
class Decision:
    """A change in the worker's standing on a pack, with everything needed to explain it."""

    kind: Literal[
        "training", "retraining", "passed", "failed", "suspended", "stopped", "reinstated"
    ]
    pack_title: str
    reason: str | None = None
    correct: int = 0  # training: answers right
    total: int = 0  # training: answers given
    retry_at: datetime | None = None
    qualification: int = 0
    test: Points | None = None  # the test (passed, failed, suspended for accuracy, reinstated)


News = Feedback | Decision
