"""callback_data is client-supplied: parsed strictly, to one of a few shapes, or refused.

Shapes (all well under Telegram's 64 bytes):
  a:<assignment id>:<option index>   an answer
  s:<assignment id>                  a skip
  consent                            the consent button
  go                                 "new work has arrived: start"
  lang:<fr|en>                       the language picker
  d:<assignment id>                  dispute a missed check question
  op:<dispute id>:<fix|retire|reject>  an operator's decision on a dispute
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANSWER = re.compile(r"a:([1-9][0-9]{0,17}):([0-9])")
_SKIP = re.compile(r"s:([1-9][0-9]{0,17})")
_LANG = re.compile(r"lang:(fr|en)")
_DISPUTE = re.compile(r"d:([1-9][0-9]{0,17})")
_REVIEW = re.compile(r"op:([1-9][0-9]{0,17}):(fix|retire|reject)")


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


@dataclass(frozen=True)
class Dispute:
    assignment_id: int


@dataclass(frozen=True)
class Review:
    dispute_id: int
    action: str  # "fix" | "retire" | "reject"


Callback = Answer | Simple | Language | Dispute | Review


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
    if match := _DISPUTE.fullmatch(data):
        return Dispute(int(match[1]))
    if match := _REVIEW.fullmatch(data):
        return Review(int(match[1]), match[2])
    return None


def answer_data(assignment_id: int, choice: int) -> str:
    return f"a:{assignment_id}:{choice}"


def skip_data(assignment_id: int) -> str:
    return f"s:{assignment_id}"


def dispute_data(assignment_id: int) -> str:
    return f"d:{assignment_id}"


def review_data(dispute_id: int, action: str) -> str:
    return f"op:{dispute_id}:{action}"
