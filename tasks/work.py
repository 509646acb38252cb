"""The worker loop's use cases: each one unit of work, one transaction.

consent, next task, answer or skip (record, credit, hand out the next task), pause, expire
leases, blocked workers, telling waiting workers about new work. Earnings: tasks/earnings.py.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from db import Database, SyncTx, from_db_time, to_db_time, unit_of_work
from db import assignments as assignments_db
from db import ledger as ledger_db
from db import packs as packs_db
from db import updates as updates_db
from db import workers as workers_db
from db.standings import Standing
from tasks.clock import Clock
from tasks.packs import Option, PackInfo
from tasks.quality.control import QualityControl
from tasks.quality.gold_choice import Choice
from tasks.quality.judging import AnsweredTask
from tasks.quality.news import News

log = logging.getLogger(__name__)

LANGUAGES = ("fr", "en")
ACTIVE_PACKS_TTL = 1.0  # seconds


def language_for(language_code: str | None, default: str) -> str:
    """The language we speak to someone whose Telegram client says `language_code`."""
    code = (language_code or "").lower()
    for language in LANGUAGES:
        if code.startswith(language):
            return language
    return default


@dataclass(frozen=True)
class WorkerView:
    id: int
    language: str
    consented: bool
    paused: bool
    waiting: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row, worker_id: int | None = None) -> WorkerView:
        return cls(
            id=row["id"] if worker_id is None else worker_id,
            language=row["language"],
            consented=row["consented_at"] is not None,
            paused=bool(row["paused"]),
            waiting=row["waiting_since"] is not None,
        )


@dataclass(frozen=True)
class TaskCard:
    """A task as the worker sees it: nothing here tells a gold task apart."""

    assignment_id: int
    pack: PackInfo
    text: str
    training: tuple[int, int] | None = None  # (question, of) while qualifying: said openly
    news: tuple[News, ...] = ()  # standing changes to tell before this task


@dataclass(frozen=True)
class NoTask:
    reason: Literal["empty", "paused", "consent", "held"]  # held: quality keeps them off
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


@dataclass(frozen=True)
class AnswerResult:
    outcome: Outcome
    worker: WorkerView | None = None
    option: Option | None = None
    reward_micros: int = 0
    currency: str = ""
    next: Next | None = None
    news: tuple[News, ...] = ()  # what this answer taught (feedback) or decided


@dataclass(frozen=True)
class PackSummary:
    id: str
    title: str
    description: str | None
    reward_micros: int
    currency: str


class WorkService:
    """The worker loop over one database; the clock is injected so tests can move time.

    Each public method is one unit of work: its body (the `_name` twin) runs whole, as one
    transaction, in a single trip to the database thread (`Database.run`)."""

    def __init__(
        self, db: Database, clock: Clock | None = None, rng: random.Random | None = None
    ) -> None:
        self.db = db
        self.clock = clock or Clock()
        self.quality = QualityControl(rng)
        self._packs: dict[int, tuple[str, PackInfo]] = {}
        self._active: tuple[float, list[PackInfo]] | None = None

    # -- packs, cached per version (a pack row changes only on load, replace or status change)
    def _pack_from_row(self, row: sqlite3.Row) -> PackInfo:
        pk = row["pk"]
        # updated_at alone could repeat within one clock tick; the header says what changed.
        version = row["updated_at"] + row["status"] + row["header"]
        cached = self._packs.get(pk)
        if cached is None or cached[0] != version:
            cached = (version, PackInfo.from_row(row))
            self._packs[pk] = cached
        return cached[1]

    def forget_packs(self) -> None:
        """Packs changed (loaded, paused, closed): read them again at the next pick."""
        self._active = None
        self.quality.forget()

    def _active_packs(self, tx: SyncTx) -> list[PackInfo]:
        # Read at most once a second: a pack loaded, paused or closed from the CLI (another
        # process) is seen within that second, and the answer path saves a query.
        now = time.monotonic()
        if self._active is None or now - self._active[0] >= ACTIVE_PACKS_TTL:
            rows = packs_db.active_packs(tx)
            self._active = (now, [self._pack_from_row(row) for row in rows])
        return self._active[1]

    def _pack(self, tx: SyncTx, pack_pk: int) -> PackInfo:
        cached = self._packs.get(pack_pk)
        if cached is not None:
            return cached[1]
        row = packs_db.get_pack_by_pk(tx, pack_pk)
        assert row is not None
        return self._pack_from_row(row)

    async def active_packs(self) -> list[PackInfo]:
        return await self.db.run_read(self._active_packs)

    async def claim_update(self, update_id: int) -> bool:
        """True the first time an update is seen; False when Telegram delivers it again."""
        return await self.db.run(updates_db.claim, update_id, to_db_time(self.clock.now()))

    # -- the loop
    async def meet(
        self,
        worker_id: int,
        *,
        first_name: str,
        username: str | None,
        language_code: str | None,
        default_language: str,
    ) -> tuple[WorkerView, list[PackSummary]]:
        """Registers or refreshes a worker (writing to us lifts a block); lists open work."""
        return await self.db.run(
            self._meet,
            worker_id,
            first_name,
            username,
            language_code,
            language_for(language_code, default_language),
        )

    def _meet(
        self,
        tx: SyncTx,
        worker_id: int,
        first_name: str,
        username: str | None,
        language_code: str | None,
        language: str,
    ) -> tuple[WorkerView, list[PackSummary]]:
        row = workers_db.upsert(
            tx,
            worker_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            language=language,
            now=to_db_time(self.clock.now()),
        )
        summaries = [
            PackSummary(p.id, p.title, p.description, p.reward_micros, p.currency)
            for p in self._active_packs(tx)
        ]
        return WorkerView.from_row(row), summaries

    async def worker(self, worker_id: int) -> WorkerView | None:
        row = await self.db.run_read(workers_db.get, worker_id)
        return None if row is None else WorkerView.from_row(row)

    async def consent(self, worker_id: int) -> tuple[WorkerView, Next | None] | None:
        """The worker agrees to the rules; their first task comes in the same unit of work.
        A second press (a stale button) changes nothing and hands out nothing: next is None."""
        return await self.db.run(self._consent, worker_id)

    def _consent(self, tx: SyncTx, worker_id: int) -> tuple[WorkerView, Next | None] | None:
        now = self.clock.now()
        before = workers_db.touch(tx, worker_id, to_db_time(now))
        if before is None:
            return None
        if before["consented_at"] is not None:
            return WorkerView.from_row(before), None
        workers_db.set_consented(tx, worker_id, to_db_time(now))
        row = workers_db.get(tx, worker_id)
        assert row is not None
        worker = WorkerView.from_row(row)
        return worker, self._next(tx, worker, now, check_open=True)

    async def resume(self, worker_id: int) -> tuple[WorkerView, Next] | None:
        """/task: pushes start again; the open task if there is one, else a new one."""
        return await self.db.run(self._resume, worker_id)

    def _resume(self, tx: SyncTx, worker_id: int) -> tuple[WorkerView, Next] | None:
        now = self.clock.now()
        row = workers_db.touch(tx, worker_id, to_db_time(now))
        if row is None:
            return None
        if row["paused"]:
            workers_db.set_paused(tx, worker_id, False)
        worker = replace(WorkerView.from_row(row), paused=False)
        return worker, self._next(tx, worker, now, check_open=True)

    @unit_of_work
    def pause(self, tx: SyncTx, worker_id: int) -> WorkerView | None:
        """/pause: no more pushes; an open task goes back to the pool at once."""
        now = to_db_time(self.clock.now())
        row = workers_db.touch(tx, worker_id, now)
        if row is None:
            return None
        workers_db.set_paused(tx, worker_id, True)
        workers_db.set_waiting(tx, worker_id, None)
        self._release_open(tx, worker_id, now)
        return replace(WorkerView.from_row(row), paused=True, waiting=False)

    async def set_language(self, worker_id: int, language: str) -> WorkerView | None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        return await self.db.run(self._set_language, worker_id, language)

    def _set_language(self, tx: SyncTx, worker_id: int, language: str) -> WorkerView | None:
        workers_db.set_language(tx, worker_id, language)
        row = workers_db.touch(tx, worker_id, to_db_time(self.clock.now()))
        return None if row is None else WorkerView.from_row(row)

    async def submit(
        self, *, worker_id: int, assignment_id: int, choice: int | None
    ) -> AnswerResult:
        """An answer (choice = option index) or a skip (None): stored once, credited once,
        and the next task handed out, all in one transaction. A redelivered or repeated press
        finds the assignment closed and changes nothing."""
        return await self.db.run(self._submit, worker_id, assignment_id, choice)

    def _submit(
        self, tx: SyncTx, worker_id: int, assignment_id: int, choice: int | None
    ) -> AnswerResult:
        now = self.clock.now()
        now_s = to_db_time(now)
        found = assignments_db.get_with_worker(tx, assignment_id, worker_id)
        if found is None:
            return AnswerResult(Outcome.UNKNOWN_WORKER)
        if found["blocked_at"] is not None:
            workers_db.touch(tx, worker_id, now_s)  # pressing proves they are back
        worker = WorkerView.from_row(found, worker_id)
        if found["id"] is None:
            return AnswerResult(Outcome.INVALID, worker)
        if found["worker_id"] != worker_id:
            return AnswerResult(Outcome.NOT_YOURS, worker)
        pack = self._pack(tx, found["pack_pk"])
        if choice is not None and not 0 <= choice < len(pack.options):
            return AnswerResult(Outcome.INVALID, worker)
        status = found["status"]
        if status in ("answered", "skipped"):
            # Show the worker where they are: after a double tap this is the screen they
            # already have (the edit is a no-op); after a crash between the commit and the
            # edit, it is the task they never saw.
            following = self._next(tx, worker, now, check_open=True)
            return AnswerResult(Outcome.ALREADY, worker, next=following)
        if status == "open" and from_db_time(found["expires_at"]) <= now:
            assignments_db.close_unanswered(tx, assignment_id, "expired", now_s)
            status = "expired"
        if status != "open":
            # A late press: not counted. Hand out work unless another task is already open.
            current = assignments_db.open_for(tx, worker_id)
            late_next = None if current is not None else self._next(tx, worker, now)
            return AnswerResult(Outcome.EXPIRED, worker, next=late_next)
        standing = self.quality.standing(tx, worker_id, pack)  # read once for the press
        if choice is None:
            assignments_db.close_unanswered(tx, assignment_id, "skipped", now_s)
            self.quality.count_draw(tx, standing)
            following = self._next(tx, worker, now, known=standing)
            return AnswerResult(Outcome.SKIPPED, worker, next=following)
        option = pack.options[choice]
        seconds = (now - from_db_time(found["delivered_at"])).total_seconds()
        assignments_db.record_answer(tx, assignment_id, option.id, now_s, seconds)
        reward = pack.reward_micros
        if found["is_gold"] and self.quality.unpaid_training(pack, standing):
            reward = 0
        else:
            ledger_db.credit(
                tx,
                worker_id=worker_id,
                kind="reward",
                amount_micros=reward,
                currency=pack.currency,
                reason=f"{pack.id}/{found['task_id']}",
                idempotency_key=f"reward:{assignment_id}",
                now=now_s,
                assignment_id=assignment_id,
                pack_pk=pack.pk,
            )
        answered = AnsweredTask(
            assignment_id=assignment_id,
            worker_id=worker_id,
            task_pk=found["task_pk"],
            is_gold=bool(found["is_gold"]),
            gold=found["gold"],
            explanation=found["explanation"],
            text=json.loads(found["content"])["text"],
            option_id=option.id,
            seconds=seconds,
        )
        news = self.quality.after_answer(tx, pack, answered, standing, now)
        return AnswerResult(
            Outcome.RECORDED,
            worker,
            option=option,
            reward_micros=reward,
            currency=pack.currency,
            next=self._next(tx, worker, now, known=standing),
            news=tuple(news),
        )

    def _next(
        self,
        tx: SyncTx,
        worker: WorkerView,
        now: datetime,
        *,
        check_open: bool = False,
        known: Standing | None = None,
    ) -> Next:
        if not worker.consented:
            return NoTask("consent")
        if worker.paused:
            return NoTask("paused")
        if check_open:
            current = assignments_db.open_for(tx, worker.id)
            if current is not None and from_db_time(current["expires_at"]) <= now:
                assignments_db.close_unanswered(tx, current["id"], "expired", to_db_time(now))
            elif current is not None:
                pack = self._pack(tx, current["pack_pk"])
                training = None
                if current["is_gold"]:
                    training = self.quality.training_position(tx, worker.id, pack)
                text = json.loads(current["content"])["text"]
                return TaskCard(current["id"], pack, text, training)
        news: list[News] = []
        held = False
        for pack in self._active_packs(tx):
            choice = self.quality.choose(tx, worker.id, pack, now, news, known)
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
        tx: SyncTx,
        worker: WorkerView,
        pack: PackInfo,
        choice: Choice,
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
        return TaskCard(assignment_id, pack, choice.text, choice.training, tuple(news))

    def _release_open(self, tx: SyncTx, worker_id: int, now: str) -> None:
        current = assignments_db.open_for(tx, worker_id)
        if current is not None:
            assignments_db.close_unanswered(tx, current["id"], "released", now)

    # -- scheduler and delivery faults
    async def expire_leases(self, batch: int = 1000) -> int:
        """Returns expired leases to the pool; a late press on them is then refused."""
        total = 0
        while True:
            count = await self.db.run(self._expire_leases, batch)
            total += count
            if count < batch:
                return total

    def _expire_leases(self, tx: SyncTx, batch: int) -> int:
        now = to_db_time(self.clock.now())
        rows = assignments_db.expired(tx, now, batch)
        for row in rows:
            assignments_db.close_unanswered(tx, row["id"], "expired", now)
        return len(rows)

    async def mark_blocked(self, worker_id: int) -> None:
        """Telegram said 403: push nothing more until they write to us again."""
        await self.db.run(self._mark_blocked, worker_id)

    def _mark_blocked(self, tx: SyncTx, worker_id: int) -> None:
        now = to_db_time(self.clock.now())
        workers_db.set_blocked(tx, worker_id, now)
        self._release_open(tx, worker_id, now)

    async def workers_to_tell_of_new_work(self, limit: int = 200) -> list[WorkerView]:
        """Waiting workers for whom a task is now available (nothing is leased here)."""
        return await self.db.run_read(self._workers_to_tell, limit)

    def _workers_to_tell(self, tx: SyncTx, limit: int) -> list[WorkerView]:
        packs = self._active_packs(tx)
        now = self.clock.now()
        return [
            WorkerView.from_row(row)
            for row in workers_db.waiting(tx, limit)
            if any(self.quality.available(tx, row["id"], pack, now) for pack in packs)
        ]

    async def told_of_new_work(self, worker_id: int) -> None:
        await self.db.run(workers_db.set_waiting, worker_id, None)

    async def prune_processed_updates(self, keep: timedelta = timedelta(days=2)) -> int:
        return await self.db.run(updates_db.prune, to_db_time(self.clock.now() - keep))
