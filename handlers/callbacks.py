"""callback_data is client-supplied: each shape is one strict pattern, routed to one handler.

Shapes (the widest of each fits Telegram's 64 bytes: checked when this module loads, WIDEST):
  a:<assignment id>:<option index>      an answer                       ANSWER
  t:<assignment id>:<option index>      a multi_choice toggle           TOGGLE
  f:<assignment id>:<selection>         multi_choice Done (the selection
                                        shown, a bit per option index)  DONE
  s:<assignment id>                     a skip                          SKIP
  consent                               the consent button              CONSENT
  go                                    "new work has arrived: start"   NEW_WORK
  lang:<fr|en>                          the language picker             LANGUAGE
  d:<assignment id>                     dispute a missed check question DISPUTE
  op:<dispute id>:<fix|retire|reject>   an operator's dispute decision  REVIEW
  o:<16-character token>                any other operator button: the
                                        token names an action kept for
                                        one operator                    OPERATOR

The route table (handlers/routes.py) sends each shape to its handler. The patterns are anchored
at both ends with \\Z (not $, which would accept a trailing newline), so PTB's
`CallbackQueryHandler(pattern=...)`, which uses `re.match`, matches whole strings only; anything
else reaches the catch-all handler, which refuses it. OPERATOR alone is a prefix: its handler
checks the token's shape itself (handlers/operator/access.py). A match says only that the data
has a shape: whether the assignment is the presser's and still open is the domain's to check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tasks.telegram_limits import CALLBACK_DATA_BYTES

_ID = r"([1-9][0-9]{0,17})"  # a positive SQLite rowid, at most 18 digits (never overflows)
ANSWER = re.compile(rf"a:{_ID}:([0-9])\Z")
SKIP = re.compile(rf"s:{_ID}\Z")
TOGGLE = re.compile(rf"t:{_ID}:([0-9])\Z")
DONE = re.compile(rf"f:{_ID}:(0|[1-9][0-9]{{0,3}})\Z")  # a selection of 10 options: < 1024
CONSENT = re.compile(r"consent\Z")
NEW_WORK = re.compile(r"go\Z")
LANGUAGE = re.compile(r"lang:(fr|en)\Z")
DISPUTE = re.compile(rf"d:{_ID}\Z")
REVIEW = re.compile(rf"op:{_ID}:(fix|retire|reject)\Z")
# Any data starting "o:" goes to the operator buttons' handler, which checks the whole token
# (handlers/operator/access.py OPERATOR_BUTTON): a malformed one is an expired operator button.
OPERATOR = re.compile(r"o:")


@dataclass(frozen=True)
class DisputePress:
    assignment_id: int


@dataclass(frozen=True)
class Review:
    dispute_id: int
    action: str  # "fix" | "retire" | "reject"


def parse_dispute(data: str | None) -> DisputePress | None:
    match = DISPUTE.match(data or "")
    return None if match is None else DisputePress(int(match[1]))


def parse_review(data: str | None) -> Review | None:
    match = REVIEW.match(data or "")
    return None if match is None else Review(int(match[1]), match[2])


def answer_data(assignment_id: int, choice: int) -> str:
    return f"a:{assignment_id}:{choice}"


def skip_data(assignment_id: int) -> str:
    return f"s:{assignment_id}"


def dispute_data(assignment_id: int) -> str:
    return f"d:{assignment_id}"


def review_data(dispute_id: int, action: str) -> str:
    return f"op:{dispute_id}:{action}"


def toggle_data(assignment_id: int, index: int) -> str:
    return f"t:{assignment_id}:{index}"


def done_data(assignment_id: int, selection: int) -> str:
    return f"f:{assignment_id}:{selection}"


def skipped_assignment(data: str | None) -> int | None:
    """The assignment a task message's Skip button names (a reply to that message answers it)."""
    match = SKIP.match(data or "")
    return None if match is None else int(match[1])


_WIDEST_ID = 10**18 - 1  # the widest id _ID accepts
#: The widest data of each shape (an operator button: "o:" and a 16-character token).
WIDEST = (
    answer_data(_WIDEST_ID, 9),
    toggle_data(_WIDEST_ID, 9),
    done_data(_WIDEST_ID, 9999),
    skip_data(_WIDEST_ID),
    dispute_data(_WIDEST_ID),
    review_data(_WIDEST_ID, "reject"),
    "consent",
    "go",
    "lang:fr",
    "o:" + "x" * 16,
)


def fits(data: str) -> bool:
    """Whether Telegram takes `data` as a button's callback_data (1 to 64 bytes)."""
    return 0 < len(data.encode()) <= CALLBACK_DATA_BYTES


# Checked once, here, rather than on each button drawn (the answer path draws several a press).
_TOO_WIDE = [data for data in WIDEST if not fits(data)]
if _TOO_WIDE:
    raise AssertionError(f"callback_data over Telegram's {CALLBACK_DATA_BYTES} bytes: {_TOO_WIDE}")
