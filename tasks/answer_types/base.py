"""What every answer type shares: the answer a worker gives, the nudge when it cannot be stored,
and an aggregated result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The accuracy the sequential test is built to catch where a random answerer's chance is near 0
# (multi_choice: one set in 2^n - 1; text: no one types an accepted answer by chance) but lazy
# strategies are not: always "none of these", the text to correct sent back as it came. A worker
# right only half the time is the alternative there (docs/quality.md).
LAZY_ACCURACY = 0.5


@dataclass(frozen=True)
class Pick:
    """A button pressed: the option's index (single_choice, rating)."""

    index: int


@dataclass(frozen=True)
class Selection:
    """A multi_choice Done: the option indexes selected (as the worker saw them: `mask`)."""

    mask: int


@dataclass(frozen=True)
class Reply:
    """A text message (text)."""

    text: str


@dataclass(frozen=True)
class NotText:
    """A message that is not text (a sticker, a photo...)."""


Given = Pick | Selection | Reply | NotText


@dataclass(frozen=True)
class Nudge:
    """Why an answer was not stored, as a catalogue key and its parameters (nothing is stored:
    the task stays open for the worker)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Vote:
    """A stored answer, weighted by its worker's trust, as an answer type aggregates it."""

    answer: str  # as stored in assignments.answer
    weight: float


@dataclass(frozen=True)
class Result:
    """A task's aggregated answers: the label stored in tasks.label, the confidence dynamic
    overlap reads, and the type's own figures for the export (per-label shares, IQR...)."""

    label: str | None
    confidence: float
    details: dict[str, Any] = field(default_factory=dict)
