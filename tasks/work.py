"""The worker loop's use cases: each one unit of work, one transaction (what they return:
tasks/work_results.py).

consent, next task, answer or skip (record, credit, hand out the next task), pause, expire
leases, blocked workers, telling waiting workers about new work. Earnings: tasks/earnings.py.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta

from db import Database, Tx, from_db_time, read_only, to_db_time, unit_of_work
from db import assignments as assignments_db
from db import ledger as ledger_db
from db import media as media_db
from db import outbox as outbox_db
from db import workers as workers_db
from db.assignments import Assignment
from db.workers import Worker
from tasks import answer_types
from tasks.answer_types import Given, NotText, Nudge, Pick, Reply, Selection, multi_choice
from tasks.clock import Clock
from tasks.conversation import ReplyKind, take_reply
from tasks.media import MEDIA_FAILURES, TaskMedia, from_stored
from tasks.outbox import requeue_held
from tasks.pack_cache import PackCache
from tasks.packs import PackInfo
from tasks.quality.control import QualityControl
from tasks.quality.judging import AnsweredTask
from tasks.quality.news import News
from tasks.quality.standing import Standing
from tasks.quality.task_pick import PickedTask
from tasks.work_results import (
    AnswerResult,
    MediaProblem,
    Next,
    NoTask,
    Outcome,
    PackSummary,
    TaskCard,
)

# What handlers import from here (they may not import db/): the worker, the answer types'
# shapes; the results of the loop are in tasks/work_results.py.
__all__ = ["Given", "NotText", "Nudge", "Pick", "Reply", "Selection", "WorkService", "Worker"]

log = logging.getLogger(__name__)

LANGUAGES = ("fr", "en")


def _quoted(name: str) -> str:
    """An operator's name (a task id, a file name) on one log line: quoted, escaped."""
    return json.dumps(name, ensure_ascii=False)


def language_for(language_code: str | None, default: str) -> str:
    """The language we speak to someone whose Telegram client says `language_code`."""
    code = (language_code or "").lower()
    for language in LANGUAGES:
        if code.startswith(language):
            return language
    return default


class WorkService:
    """The worker loop over one database; the clock is injected so tests can move time.

    Each public method is one unit of work (`@unit_of_work`, db/core.py): its body runs whole,
    as one transaction, in a single trip to the database thread."""

    def __init__(
        self, db: Database, clock: Clock | None = None, rng: random.Random | None = None
    ) -> None:
        self.db = db
        self.clock = clock or Clock()
        self.packs = PackCache()
        self.quality = QualityControl(rng)

    def forget_packs(self) -> None:
        """Packs changed (loaded, paused, closed): read them again at the next pick."""
        self.packs.forget()
        self.quality.forget()

    def _active_packs(self, tx: Tx) -> list[PackInfo]:
        return self.packs.active(tx)

    def _pack(self, tx: Tx, pack_pk: int) -> PackInfo:
        return self.packs.get(tx, pack_pk)

    @read_only
    def active_packs(self, tx: Tx) -> list[PackInfo]:
        return self.packs.active(tx)

    # -- the loop
    @unit_of_work
    def meet(
        self,
        tx: Tx,
        worker_id: int,
        *,
        first_name: str,
        username: str | None,
        language_code: str | None,
        default_language: str,
    ) -> tuple[Worker, list[PackSummary]]:
        """Registers or refreshes a worker (writing to us lifts a block); lists open work."""
        now = self.clock.now()
        worker = workers_db.upsert(
            tx,
            worker_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            language=language_for(language_code, default_language),
            now=to_db_time(now),
        )
        worker = self._came_back(tx, worker, now)
        summaries = [
            PackSummary(p.id, p.title, p.description, p.reward_micros, p.currency)
            for p in self._active_packs(tx)
        ]
        return worker, summaries

    @read_only
    def worker(self, tx: Tx, worker_id: int) -> Worker | None:
        return workers_db.get(tx, worker_id)

    @unit_of_work
    def consent(self, tx: Tx, worker_id: int) -> tuple[Worker, Next | None] | None:
        """The worker agrees to the rules; their first task comes in the same unit of work.
        A second press (a stale button) changes nothing and hands out nothing: next is None."""
        now = self.clock.now()
        before = self._seen(tx, worker_id, now)
        if before is None:
            return None
        if before.consented:
            return before, None
        workers_db.set_consented(tx, worker_id, to_db_time(now))
        worker = replace(before, consented=True, paused=False)
        return worker, self._next(tx, worker, now, check_open=True)

    @unit_of_work
    def resume(self, tx: Tx, worker_id: int) -> tuple[Worker, Next] | None:
        """/task: pushes start again; the open task if there is one, else a new one."""
        now = self.clock.now()
        worker = self._seen(tx, worker_id, now)
        if worker is None:
            return None
        if worker.paused:
            workers_db.set_paused(tx, worker_id, False)
            worker = replace(worker, paused=False)
        return worker, self._next(tx, worker, now, check_open=True)

    @unit_of_work
    def pause(self, tx: Tx, worker_id: int) -> Worker | None:
        """/pause: no more pushes; an open task goes back to the pool at once."""
        moment = self.clock.now()
        now = to_db_time(moment)
        worker = self._seen(tx, worker_id, moment)
        if worker is None:
            return None
        workers_db.set_paused(tx, worker_id, True)
        workers_db.set_waiting(tx, worker_id, None)
        self._release_open(tx, worker_id, now)
        return replace(worker, paused=True, waiting=False)

    async def set_language(self, worker_id: int, language: str) -> Worker | None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        return await self._set_language(worker_id, language)

    @unit_of_work
    def _set_language(self, tx: Tx, worker_id: int, language: str) -> Worker | None:
        workers_db.set_language(tx, worker_id, language)
        return self._seen(tx, worker_id, self.clock.now())

    def _seen(self, tx: Tx, worker_id: int, now: datetime) -> Worker | None:
        """The worker wrote or pressed: seen now, and back if they had blocked the bot."""
        worker = workers_db.touch(tx, worker_id, to_db_time(now))
        return None if worker is None else self._came_back(tx, worker, now)

    def _came_back(self, tx: Tx, worker: Worker, now: datetime) -> Worker:
        """Any update from a worker marked blocked proves they are back: reachable again, and
        what the outbox held for them is queued again or dropped (tasks/outbox.py), in this
        unit of work. Nothing to do (no query) for a worker who was not blocked."""
        if not worker.blocked:
            return worker
        if workers_db.unblock(tx, worker.id):
            returned = requeue_held(tx, worker.id, barred=worker.barred, now=now)
            log.info(
                "worker %s is back: %d held messages queued again, %d dropped",
                worker.id,
                len(returned.requeued),
                len(returned.dropped),
            )
        return replace(worker, blocked=False)

    @unit_of_work
    def answer(
        self, tx: Tx, *, worker_id: int, assignment_id: int, choice: int | Given
    ) -> AnswerResult:
        """An answer: `choice` is an option index (a button press) or a typed answer (Pick,
        Selection, Reply, NotText). Stored once, credited once, checked, and the next task
        handed out, all in one transaction. A redelivered or repeated press finds the
        assignment closed and changes nothing: the assignment's state makes it safe to repeat.
        An answer of the wrong shape stores nothing and says why (Outcome.NUDGE)."""
        given = Pick(choice) if isinstance(choice, int) else choice
        return self._answer(tx, worker_id, assignment_id, given, self.clock.now())

    @unit_of_work
    def answer_message(
        self,
        tx: Tx,
        *,
        worker_id: int,
        given: Reply | NotText,
        assignment_id: int | None = None,
        unless_awaited: Collection[ReplyKind] = (),
    ) -> AnswerResult:
        """A message as an answer: to `assignment_id` (the task message it replies to) or else
        to the worker's open task. Never to a task they no longer hold: a late one (its lease
        ran out) is refused like a late press; no task at all is Outcome.NO_TASK.
        `unless_awaited`: a reply of these kinds awaited from the worker (a dispute's comment)
        comes before the open task: it is taken, in this transaction, and nothing is answered
        (Outcome.AWAITED, `awaited`). One lookup by primary key (tasks/conversation.py)."""
        now = self.clock.now()
        if unless_awaited:
            awaited = take_reply(tx, worker_id, unless_awaited, now)
            if awaited is not None:
                return AnswerResult(Outcome.AWAITED, awaited=awaited)
        if assignment_id is None:
            current = assignments_db.open_for(tx, worker_id)
            if current is None:
                latest = assignments_db.latest_for(tx, worker_id)
                if (
                    latest is None
                    or latest.status != "expired"
                    or self._pack(tx, latest.pack_pk).type != "text"
                ):
                    return AnswerResult(Outcome.NO_TASK, workers_db.get(tx, worker_id))
                assignment_id = latest.id  # refused below as late, politely
            else:
                assignment_id = current.id
        return self._answer(tx, worker_id, assignment_id, given, now)

    @unit_of_work
    def toggle(self, tx: Tx, *, worker_id: int, assignment_id: int, index: int) -> AnswerResult:
        """A multi_choice option tapped: its check mark on or off ("none of these" clears the
        others), kept on the open assignment; nothing is stored as an answer until Done."""
        now = self.clock.now()
        held = self._pressed(tx, worker_id, assignment_id, now)
        if isinstance(held, AnswerResult):
            return held
        worker, assignment, pack = held
        if pack.type != "multi_choice" or not 0 <= index < len(pack.options):
            return AnswerResult(Outcome.INVALID, worker)
        selection = multi_choice.toggled(pack, assignment.selection, index)
        assignments_db.set_selection(tx, assignment_id, selection)
        card = TaskCard(assignment.id, pack, assignment.text, selection=selection)
        return AnswerResult(Outcome.TOGGLED, worker, next=card, task_type=pack.type)

    def _answer(
        self, tx: Tx, worker_id: int, assignment_id: int, given: Given, now: datetime
    ) -> AnswerResult:
        held = self._pressed(tx, worker_id, assignment_id, now)
        if isinstance(held, AnswerResult):
            return held
        worker, assignment, pack = held
        if isinstance(given, Selection) and given.mask != assignment.selection:
            # Done from a keyboard that is not the latest: show the selection as it stands.
            card = TaskCard(assignment.id, pack, assignment.text, selection=assignment.selection)
            nudge = Nudge("nudge_selection_changed")
            return AnswerResult(Outcome.NUDGE, worker, next=card, nudge=nudge, task_type=pack.type)
        stored = answer_types.store(pack, given)
        if stored is None:
            return AnswerResult(Outcome.INVALID, worker)
        if isinstance(stored, Nudge):
            return AnswerResult(Outcome.NUDGE, worker, nudge=stored, task_type=pack.type)
        standing = self.quality.standing(tx, worker_id, pack)  # read once for the press
        option = pack.options[given.index] if isinstance(given, Pick) else None
        now_s = to_db_time(now)
        seconds = (now - from_db_time(assignment.delivered_at)).total_seconds()
        correct = None
        if assignment.gold is not None:
            correct = answer_types.gold_score(pack, stored, assignment.gold) >= 1
        assignments_db.record_answer(tx, assignment_id, stored, now_s, seconds, correct)
        reward = pack.reward_micros
        if assignment.is_gold and self.quality.unpaid_training(pack, standing):
            reward = 0
        else:
            ledger_db.credit(
                tx,
                worker_id=worker_id,
                kind="reward",
                amount_micros=reward,
                currency=pack.currency,
                reason=f"{pack.id}/{assignment.task_id}",
                idempotency_key=f"reward:{assignment_id}",
                now=now_s,
                assignment_id=assignment_id,
                pack_pk=pack.pk,
            )
        answered = AnsweredTask(
            assignment_id=assignment_id,
            worker_id=worker_id,
            task_pk=assignment.task_pk,
            is_gold=assignment.is_gold,
            gold=assignment.gold,
            explanation=assignment.explanation,
            text=assignment.text,
            option_id=stored,
            seconds=seconds,
        )
        news = self.quality.judging.after_answer(tx, pack, answered, standing, now)
        return AnswerResult(
            Outcome.RECORDED,
            worker,
            option=option,
            reward_micros=reward,
            currency=pack.currency,
            next=self._next(tx, worker, now, known=standing),
            news=tuple(news),
            shown=answer_types.show(pack, stored),
            task_type=pack.type,
        )

    @unit_of_work
    def skip(self, tx: Tx, *, worker_id: int, assignment_id: int) -> AnswerResult:
        """A skip: the task goes back to the others, nothing is paid, the next task comes."""
        now = self.clock.now()
        held = self._pressed(tx, worker_id, assignment_id, now)
        if isinstance(held, AnswerResult):
            return held
        worker, _, pack = held
        standing = self.quality.standing(tx, worker_id, pack)  # read once for the press
        assignments_db.close_unanswered(tx, assignment_id, "skipped", to_db_time(now))
        self.quality.count_draw(tx, standing)
        following = self._next(tx, worker, now, known=standing)
        return AnswerResult(Outcome.SKIPPED, worker, next=following)

    def _pressed(
        self, tx: Tx, worker_id: int, assignment_id: int, now: datetime
    ) -> tuple[Worker, Assignment, PackInfo] | AnswerResult:
        """The open assignment a press names, with its presser and pack; or, when the press may
        not count, the result that says why (and shows the worker where they are)."""
        press = assignments_db.press(tx, assignment_id, worker_id)
        if press is None:
            return AnswerResult(Outcome.UNKNOWN_WORKER)
        worker, assignment = press.worker, press.assignment
        if worker.blocked:  # pressing proves they are back
            workers_db.touch(tx, worker_id, to_db_time(now))
            worker = self._came_back(tx, worker, now)
        if assignment is None:
            return AnswerResult(Outcome.INVALID, worker)
        if assignment.worker_id != worker_id:
            return AnswerResult(Outcome.NOT_YOURS, worker)
        status = assignment.status
        if status in ("answered", "skipped"):
            # Show the worker where they are: after a double tap this is the screen they
            # already have (the edit is a no-op); after a crash between the commit and the
            # edit, it is the task they never saw.
            following = self._next(tx, worker, now, check_open=True)
            return AnswerResult(Outcome.ALREADY, worker, next=following)
        if status == "open" and from_db_time(assignment.expires_at) <= now:
            assignments_db.close_unanswered(tx, assignment_id, "expired", to_db_time(now))
            status = "expired"
        if status != "open":
            # A late press: not counted. Hand out work unless another task is already open.
            current = assignments_db.open_for(tx, worker_id)
            late_next = None if current is not None else self._next(tx, worker, now)
            return AnswerResult(Outcome.EXPIRED, worker, next=late_next)
        return worker, assignment, self._pack(tx, assignment.pack_pk)

    def _next(
        self,
        tx: Tx,
        worker: Worker,
        now: datetime,
        *,
        check_open: bool = False,
        known: Standing | None = None,
    ) -> Next:
        if not worker.consented:
            return NoTask("consent")
        if worker.paused:
            return NoTask("paused")
        if worker.barred:
            return NoTask("barred")
        if check_open:
            current = assignments_db.open_for(tx, worker.id)
            if current is not None and from_db_time(current.expires_at) <= now:
                assignments_db.close_unanswered(tx, current.id, "expired", to_db_time(now))
            elif current is not None:
                pack = self._pack(tx, current.pack_pk)
                training = None
                if current.is_gold:
                    training = self.quality.picker.training_position(tx, worker.id, pack)
                media = self._media(tx, current.task_pk, current.media)
                return TaskCard(
                    current.id,
                    pack,
                    current.text,
                    training,
                    selection=current.selection,
                    media=media,
                )
        news: list[News] = []
        held = False
        for pack in self._active_packs(tx):
            choice = self.quality.picker.choose(tx, worker.id, pack, now, news, known)
            if choice == "held":
                held = True
                continue
            if choice is None:
                continue
            return self._lease(tx, worker, pack, choice, now, news)
        if not worker.waiting:
            workers_db.set_waiting(tx, worker.id, to_db_time(now))
        return NoTask("held" if held else "empty", tuple(news))

    def _lease(
        self,
        tx: Tx,
        worker: Worker,
        pack: PackInfo,
        choice: PickedTask,
        now: datetime,
        news: list[News],
    ) -> TaskCard:
        assignment_id = assignments_db.lease(
            tx,
            worker_id=worker.id,
            task_pk=choice.task_pk,
            pack_pk=pack.pk,
            now=to_db_time(now),
            expires_at=to_db_time(now + timedelta(seconds=pack.lease_seconds)),
            is_gold=choice.is_gold,
        )
        self.quality.after_lease(tx, pack, choice)
        if worker.waiting:
            workers_db.set_waiting(tx, worker.id, None)
        media = self._media(tx, choice.task_pk, choice.media)
        return TaskCard(assignment_id, pack, choice.text, choice.training, tuple(news), media=media)

    @unit_of_work
    def media_failed(
        self,
        tx: Tx,
        *,
        worker_id: int,
        assignment_id: int,
        problem: MediaProblem,
        hand_out: bool = True,
    ) -> Next | None:
        """A task's media could not be shown to the worker: the task is held (its file
        changed) or its refusal counted (out of service after MEDIA_FAILURES in a row), said
        once in the log. The worker's lease on it ends (they never saw it: a task they cannot
        see is never theirs to answer) and, with `hand_out`, their next task comes in the same
        unit of work; without, NoTask("media"). None: the assignment is not theirs."""
        handed = media_db.handed(tx, assignment_id)
        if handed is None or handed.worker_id != worker_id:
            return None
        now = self.clock.now()
        if problem.held:
            off = media_db.take_out(tx, handed.task_pk, "held", problem.reason)
            if off is not None:
                self._tell_operators(tx, off, "op_media_held", problem.reason, now)
                log.warning(
                    "pack %s, task %s: %s %s: the task is held (not handed out); reload the"
                    " pack: python -m bot load-pack --replace FILE",
                    _quoted(off.pack_id),
                    _quoted(off.task_id),
                    _quoted(off.written),
                    problem.reason,
                )
        else:
            failures = media_db.count_failure(tx, handed.task_pk, problem.reason)
            if failures >= MEDIA_FAILURES:
                reason = f"Telegram refused it {failures} times in a row: {problem.reason}"
                off = media_db.take_out(tx, handed.task_pk, "out", reason)
                if off is not None:
                    self._tell_operators(tx, off, "op_media_out", problem.reason, now)
                    log.warning(
                        "pack %s, task %s: Telegram refused its media %s %d times in a row"
                        " (%s): the task is out of service until the pack is reloaded",
                        _quoted(off.pack_id),
                        _quoted(off.task_id),
                        _quoted(off.written),
                        failures,
                        problem.reason,
                    )
        worker = workers_db.get(tx, worker_id)
        if worker is None:
            return None
        if handed.open:
            assignments_db.close_unanswered(tx, assignment_id, "released", to_db_time(now))
            # The worker's draws move on, as after a skip: their next draw is a new one.
            pack = self._pack(tx, handed.pack_pk)
            self.quality.count_draw(tx, self.quality.standing(tx, worker_id, pack))
        if not hand_out:
            return NoTask("media")
        return self._next(tx, worker, now, check_open=True)

    @staticmethod
    def _tell_operators(
        tx: Tx, off: media_db.MediaOff, key: str, reason: str, now: datetime
    ) -> None:
        """The operators' chat hears of it through the outbox: the first task of each kind
        per pack and load (more like it are counted by /packs, not each announced)."""
        outbox_db.enqueue(
            tx,
            recipient=None,
            kind=key,
            params={
                "pack": off.pack_id,
                "task": off.task_id,
                "file": off.written,
                "reason": reason,
                "failures": MEDIA_FAILURES,
            },
            dedupe_key=f"{key}:{off.pack_pk}:{off.pack_version}",
            now=to_db_time(now),
        )

    @unit_of_work
    def media_shown(self, tx: Tx, assignment_id: int) -> None:
        """The media of a task that Telegram had refused before was shown: the refusals no
        longer count as in a row (only called then: a task never refused costs nothing)."""
        handed = media_db.handed(tx, assignment_id)
        if handed is not None:
            media_db.clear_failures(tx, handed.task_pk)

    @staticmethod
    def _media(tx: Tx, task_pk: int, shows_media: bool) -> TaskMedia | None:
        """A task's media with its cached file_id, read only for a task whose content names one
        (most tasks have none: no query on their way to the worker)."""
        return from_stored(media_db.for_task(tx, task_pk)) if shows_media else None

    def _release_open(self, tx: Tx, worker_id: int, now: str) -> None:
        current = assignments_db.open_for(tx, worker_id)
        if current is not None:
            assignments_db.close_unanswered(tx, current.id, "released", now)

    # -- scheduler and delivery faults
    async def expire_leases(self, batch: int = 1000) -> int:
        """Returns expired leases to the pool; a late press on them is then refused."""
        total = 0
        while True:
            count = await self._expire_leases(batch)
            total += count
            if count < batch:
                return total

    @unit_of_work
    def _expire_leases(self, tx: Tx, batch: int) -> int:
        return assignments_db.expire(tx, to_db_time(self.clock.now()), batch)

    @unit_of_work
    def mark_blocked(self, tx: Tx, worker_id: int) -> None:
        """Telegram said 403: push nothing more until they write to us again."""
        now = to_db_time(self.clock.now())
        workers_db.set_blocked(tx, worker_id, now)
        self._release_open(tx, worker_id, now)

    @read_only
    def workers_to_tell_of_new_work(self, tx: Tx, limit: int = 200) -> list[Worker]:
        """Waiting workers for whom a task is now available (nothing is leased here)."""
        packs = self._active_packs(tx)
        now = self.clock.now()
        return [
            worker
            for worker in workers_db.waiting(tx, limit)
            if any(self.quality.picker.available(tx, worker.id, pack, now) for pack in packs)
        ]

    @unit_of_work
    def told_of_new_work(self, tx: Tx, worker_id: int) -> None:
        workers_db.set_waiting(tx, worker_id, None)
