"""Who the simulated workers are: their kinds (careful, careless, spammers), what each one did
(AgentStats), and the oracle that knows the right answers. The crowd (crowd.py) runs them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CAREFUL",
    "CARELESS",
    "PROFILES",
    "SPAMMER_FIRST",
    "SPAMMER_RANDOM",
    "AgentProfile",
    "AgentStats",
    "Oracle",
    "truth_oracle",
]


Oracle = Callable[[str, list[str]], "str | list[str] | None"]


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """How a simulated worker behaves.

    kind: "careful" | "careless" (right with probability ``accuracy``), "spammer_random"
    (uniform choice), "spammer_first" (always the first option). ``think`` is the range of
    seconds spent on a task before pressing.
    """

    kind: str
    accuracy: float
    skip_rate: float = 0.02
    think: tuple[float, float] = (0.0, 0.0)
    language_code: str = "fr"
    disputes: bool = False  # disputes a check it answered truly and was told was wrong


CAREFUL = AgentProfile("careful", 0.9, disputes=True)


CARELESS = AgentProfile("careless", 0.7)


SPAMMER_RANDOM = AgentProfile("spammer_random", 0.0, skip_rate=0.0)


SPAMMER_FIRST = AgentProfile("spammer_first", 0.0, skip_rate=0.0)


PROFILES: dict[str, AgentProfile] = {
    p.kind: p for p in (CAREFUL, CARELESS, SPAMMER_RANDOM, SPAMMER_FIRST)
}


@dataclass(slots=True)
class AgentStats:
    user_id: int
    name: str
    kind: str
    presses: int = 0  # every button press
    answers: int = 0  # option presses
    skips: int = 0
    consent_presses: int = 0
    go_presses: int = 0
    correct: int = 0  # option presses matching the oracle
    wrong: int = 0  # option presses contradicting the oracle
    unknown: int = 0  # option presses on tasks the oracle does not know
    press_errors: int = 0  # presses refused (message vanished meanwhile)
    represses: int = 0  # presses repeated after ``repress_after`` seconds of silence
    disputes: int = 0  # Dispute buttons pressed
    answers_by_label: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "kind": self.kind,
            "presses": self.presses,
            "answers": self.answers,
            "skips": self.skips,
            "consent_presses": self.consent_presses,
            "go_presses": self.go_presses,
            "correct": self.correct,
            "wrong": self.wrong,
            "unknown": self.unknown,
            "press_errors": self.press_errors,
            "represses": self.represses,
            "disputes": self.disputes,
            "answers_by_label": dict(self.answers_by_label),
        }


def truth_oracle(truth: dict[str, str] | dict[str, str | list[str]]) -> Oracle:
    """An oracle from {task text: correct label}: the task text is a line of the message."""

    quotes = "\"'«»“”‘’ \u00a0"

    def oracle(text: str, labels: list[str]) -> str | list[str] | None:
        found = truth.get(text.strip())
        if found is not None:
            return found
        for line in text.split("\n"):
            key = line.strip()
            if not key:
                continue
            found = truth.get(key)
            if found is None:
                found = truth.get(key.strip(quotes))
            if found is not None:
                return found
        return None

    return oracle
