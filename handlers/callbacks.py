"""callback_data is client-supplied: parsed strictly, to one of a few shapes, or refused.

Shapes (all well under Telegram's 64 bytes):
  a:<assignment id>:<option index>   an answer
  s:<assignment id>                  a skip
  consent                            the consent button
  go                                 "new work has arrived: start"
  lang:<fr|en>                       the language picker
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANSWER = re.compile(r"a:([1-9][0-9]{0,17}):([0-9])")
_SKIP = re.compile(r"s:([1-9][0-9]{0,17})")
_LANG = re.compile(r"lang:(fr|en)")


@dataclass(frozen=True)
class Answer:
    assignment_id: int
    choice: int | None  # None: a skip


@dataclass(frozen=True)
class Simple:
    action: str  # "consent" | "go"


@dataclass(frozen=True)
class Language:
    language: str


Callback = Answer | Simple | Language


def parse(data: str | None) -> Callback | None:
    """The callback's meaning, or None for anything not exactly one of our shapes."""
    if data is None or len(data) > 64:
        return None
    if match := _ANSWER.fullmatch(data):
        return Answer(int(match[1]), int(match[2]))
    if match := _SKIP.fullmatch(data):
        return Answer(int(match[1]), None)
    if data in ("consent", "go"):
        return Simple(data)
    if match := _LANG.fullmatch(data):
        return Language(match[1])
    return None


def answer_data(assignment_id: int, choice: int) -> str:
    return f"a:{assignment_id}:{choice}"


def skip_data(assignment_id: int) -> str:
    return f"s:{assignment_id}"
