"""What the worker loop (tasks/work.py) hands back to the handlers: the next task as the worker
sees it or why there is none, the outcome of an answer or a skip, why a media was not shown, and
the packs on offer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from db.workers import Worker
from tasks.answer_types import Nudge
from tasks.conversation import AwaitedReply
from tasks.media import TaskMedia
from tasks.packs import Option, PackInfo
from tasks.quality.news import News


@dataclass(frozen=True)
class TaskCard:
    """A task as the worker sees it: nothing here tells a gold task apart."""

    assignment_id: int
    pack: PackInfo
    text: str
    training: tuple[int, int] | None = None  # (question, of) while qualifying: said openly
    news: tuple[News, ...] = ()  # standing changes to tell before this task
    selection: int = 0  # multi_choice: the options toggled on (a bit per option index)
    media: TaskMedia | None = None  # an image, audio or voice shown above the buttons


@dataclass(frozen=True)
class NoTask:
    # held: quality keeps them off; barred: an operator did (they were told why); media:
    # several tasks in a row whose media could not be shown (they may try again with /task)
    reason: Literal["empty", "paused", "consent", "held", "barred", "media"]
    news: tuple[News, ...] = ()


Next = TaskCard | NoTask


class Outcome(StrEnum):
    RECORDED = "recorded"  # the answer is stored and credited
    SKIPPED = "skipped"
    ALREADY = "already"  # a double tap on an assignment already closed by this worker
    EXPIRED = "expired"  # a late press: the lease had run out; not counted
    NOT_YOURS = "not_yours"  # another worker's assignment
    INVALID = "invalid"  # no such assignment, or no such option
    UNKNOWN_WORKER = "unknown_worker"
    NUDGE = "nudge"  # an answer of the wrong shape (text for buttons, Done with nothing...)
    TOGGLED = "toggled"  # a multi_choice option toggled: nothing stored but the selection
    NO_TASK = "no_task"  # a text message, and no task of the worker's to answer
    AWAITED = "awaited"  # a text message that answers something else (taken: `awaited`)


@dataclass(frozen=True)
class AnswerResult:
    outcome: Outcome
    worker: Worker | None = None
    option: Option | None = None
    reward_micros: int = 0
    currency: str = ""
    next: Next | None = None
    news: tuple[News, ...] = ()  # what this answer taught (feedback) or decided
    shown: str = ""  # the recorded answer as the worker reads it (labels, or the text)
    nudge: Nudge | None = None  # NUDGE: what to tell the worker
    task_type: str = ""  # the type of the task answered (how the handler shows the result)
    awaited: AwaitedReply | None = None  # AWAITED: what the message answers instead


@dataclass(frozen=True)
class MediaProblem:
    """Why a task's media was not shown to a worker. `held`: its local file changed (or went)
    since the pack was loaded: the task is held at once, as nothing sent now could be right.
    Otherwise Telegram refused it (a URL it cannot fetch, a file_id it does not know...): one
    more refusal in a row, and MEDIA_FAILURES of them take the task out of service."""

    held: bool
    reason: str  # the end of an operator's sentence: "changed since the pack was loaded"


@dataclass(frozen=True)
class PackSummary:
    id: str
    title: str
    description: str | None
    reward_micros: int
    currency: str
