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
class Decision:
    """A change in the worker's standing on a pack, with everything needed to explain it."""

    kind: Literal["training", "retraining", "passed", "failed", "suspended", "stopped"]
    pack_title: str
    reason: str | None = None
    score: float = 0.0  # training: raw share right; else the smoothed accuracy
    threshold: float = 0.0
    correct: int = 0
    total: int = 0
    retry_at: datetime | None = None
    qualification: int = 0


News = Feedback | Decision
