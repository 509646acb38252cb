"""The worker loop's use cases: each one unit of work, one transaction.

consent, next task, answer or skip (record, credit, hand out the next task), pause, expire
leases, blocked workers, telling waiting workers about new work, balance.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Literal

from db import Database, Tx, from_db_time, to_db_time
from db import assignments as assignments_db
from db import ledger as ledger_db
from db import packs as packs_db
from db import updates as updates_db
from db import workers as workers_db
from tasks.clock import Clock
from tasks.packs import Option, PackInfo

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
    def from_row(cls, row: object) -> WorkerView:
        r = row  # sqlite3.Row
        return cls(
            id=r["id"],  # type: ignore[index]
            language=r["language"],  # type: ignore[index]
            consented=r["consented_at"] is not None,  # type: ignore[index]
            paused=bool(r["paused"]),  # type: ignore[index]
            waiting=r["waiting_since"] is not None,  # type: ignore[index]
        )


@dataclass(frozen=True)
class TaskCard:
    """A task as the worker sees it: nothing here tells a gold task apart."""

    assignment_id: int
    pack: PackInfo
    text: str


@dataclass(frozen=True)
class NoTask:
    reason: Literal["empty", "paused", "consent"]


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


@dataclass(frozen=True)
class PackSummary:
    id: str
    title: str
    description: str | None
    reward_micros: int
    currency: str


@dataclass(frozen=True)
class Balance:
    tasks_this_week: int
    tasks_total: int
    earned_this_week: dict[str, int]
    earned_total: dict[str, int]


class WorkService:
    """The worker loop over one database; the clock is injected so tests can move time."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or Clock()
        self._packs: dict[int, tuple[str, PackInfo]] = {}
        self._active: tuple[float, list[PackInfo]] | None = None

    # -- packs, cached per version (a pack row changes only on load, replace or status change)
    def _pack_from_row(self, row: object) -> PackInfo:
        pk = row["pk"]  # type: ignore[index]
        # updated_at alone could repeat within one clock tick; the header says what changed.
        version = row["updated_at"] + row["status"] + row["header"]  # type: ignore[index]
        cached = self._packs.get(pk)
        if cached is None or cached[0] != version:
            cached = (version, PackInfo.from_row(row))  # type: ignore[arg-type]
            self._packs[pk] = cached
        return cached[1]

    def forget_packs(self) -> None:
        """Packs changed (loaded, paused, closed): read them again at the next pick."""
        self._active = None

    async def _active_packs(self, tx: Tx) -> list[PackInfo]:
        # Read at most once a second: a pack loaded, paused or closed from the CLI (another
        # process) is seen within that second, and the answer path saves a query.
        now = time.monotonic()
        if self._active is None or now - self._active[0] >= ACTIVE_PACKS_TTL:
            rows = await packs_db.list_packs(tx, "active")
            self._active = (now, [self._pack_from_row(row) for row in rows])
        return self._active[1]

    async def _pack(self, tx: Tx, pack_pk: int) -> PackInfo:
        cached = self._packs.get(pack_pk)
        if cached is not None:
            return cached[1]
        row = await packs_db.get_pack_by_pk(tx, pack_pk)
        assert row is not None
        return self._pack_from_row(row)

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
        now = to_db_time(self.clock.now())
        async with self.db.transaction() as tx:
            row = await workers_db.upsert(
                tx,
                worker_id,
                first_name=first_name,
                username=username,
                language_code=language_code,
                language=language_for(language_code, default_language),
                now=now,
            )
            packs = await self._active_packs(tx)
        summaries = [
            PackSummary(p.id, p.title, p.description, p.reward_micros, p.currency) for p in packs
        ]
        return WorkerView.from_row(row), summaries

    async def active_packs(self) -> list[PackInfo]:
        async with self.db.read() as tx:
            return await self._active_packs(tx)

    async def claim_update(self, update_id: int) -> bool:
        """True the first time an update is seen; False when Telegram delivers it again."""
        async with self.db.transaction() as tx:
            return await updates_db.claim(tx, update_id, to_db_time(self.clock.now()))

    async def worker(self, worker_id: int) -> WorkerView | None:
        async with self.db.read() as tx:
            row = await workers_db.get(tx, worker_id)
        return None if row is None else WorkerView.from_row(row)

    async def consent(self, worker_id: int) -> tuple[WorkerView, Next | None] | None:
        """The worker agrees to the rules; their first task comes in the same unit of work.
        A second press (a stale button) changes nothing and hands out nothing: next is None."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            before = await workers_db.touch(tx, worker_id, to_db_time(now))
            if before is None:
                return None
            if before["consented_at"] is not None:
                return WorkerView.from_row(before), None
            await workers_db.set_consented(tx, worker_id, to_db_time(now))
            row = await workers_db.get(tx, worker_id)
            worker = WorkerView.from_row(row)
            return worker, await self._next(tx, worker, now, check_open=True)

    async def resume(self, worker_id: int) -> tuple[WorkerView, Next] | None:
        """/task: pushes start again; the open task if there is one, else a new one."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            row = await workers_db.touch(tx, worker_id, to_db_time(now))
            if row is None:
                return None
            if row["paused"]:
                await workers_db.set_paused(tx, worker_id, False)
            worker = WorkerView.from_row(row)
            worker = WorkerView(worker.id, worker.language, worker.consented, False, worker.waiting)
            return worker, await self._next(tx, worker, now, check_open=True)

    async def pause(self, worker_id: int) -> WorkerView | None:
        """/pause: no more pushes; an open task goes back to the pool at once."""
        now = to_db_time(self.clock.now())
        async with self.db.transaction() as tx:
            row = await workers_db.touch(tx, worker_id, now)
            if row is None:
                return None
            await workers_db.set_paused(tx, worker_id, True)
            await workers_db.set_waiting(tx, worker_id, None)
            await self._release_open(tx, worker_id, now)
            worker = WorkerView.from_row(row)
        return WorkerView(worker.id, worker.language, worker.consented, True, False)

    async def set_language(self, worker_id: int, language: str) -> WorkerView | None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        now = to_db_time(self.clock.now())
        async with self.db.transaction() as tx:
            await workers_db.set_language(tx, worker_id, language)
            row = await workers_db.touch(tx, worker_id, now)
        return None if row is None else WorkerView.from_row(row)

    async def submit(
        self, *, worker_id: int, assignment_id: int, choice: int | None
    ) -> AnswerResult:
        """An answer (choice = option index) or a skip (None): stored once, credited once,
        and the next task handed out, all in one transaction. A redelivered or repeated press
        finds the assignment closed and changes nothing."""
        now = self.clock.now()
        now_s = to_db_time(now)
        async with self.db.transaction() as tx:
            found = await assignments_db.get_with_worker(tx, assignment_id, worker_id)
            if found is None:
                return AnswerResult(Outcome.UNKNOWN_WORKER)
            if found["blocked_at"] is not None:
                await workers_db.touch(tx, worker_id, now_s)  # pressing proves they are back
            worker = WorkerView(
                id=worker_id,
                language=found["language"],
                consented=found["consented_at"] is not None,
                paused=bool(found["paused"]),
                waiting=found["waiting_since"] is not None,
            )
            if found["id"] is None:
                return AnswerResult(Outcome.INVALID, worker)
            if found["worker_id"] != worker_id:
                return AnswerResult(Outcome.NOT_YOURS, worker)
            pack = await self._pack(tx, found["pack_pk"])
            if choice is not None and not 0 <= choice < len(pack.options):
                return AnswerResult(Outcome.INVALID, worker)
            status = found["status"]
            if status in ("answered", "skipped"):
                # Show the worker where they are: after a double tap this is the screen they
                # already have (the edit is a no-op); after a crash between the commit and the
                # edit, it is the task they never saw.
                following = await self._next(tx, worker, now, check_open=True)
                return AnswerResult(Outcome.ALREADY, worker, next=following)
            if status == "open" and from_db_time(found["expires_at"]) <= now:
                await assignments_db.close_unanswered(tx, assignment_id, "expired", now_s)
                status = "expired"
            if status != "open":
                # A late press: not counted. Hand out work unless another task is already open.
                current = await assignments_db.open_for(tx, worker_id)
                late_next = None if current is not None else await self._next(tx, worker, now)
                return AnswerResult(Outcome.EXPIRED, worker, next=late_next)
            if choice is None:
                await assignments_db.close_unanswered(tx, assignment_id, "skipped", now_s)
                return AnswerResult(Outcome.SKIPPED, worker, next=await self._next(tx, worker, now))
            option = pack.options[choice]
            await assignments_db.record_answer(tx, assignment_id, option.id, now_s)
            await ledger_db.credit(
                tx,
                worker_id=worker_id,
                kind="reward",
                amount_micros=pack.reward_micros,
                currency=pack.currency,
                reason=f"{pack.id}/{found['task_id']}",
                idempotency_key=f"reward:{assignment_id}",
                now=now_s,
                assignment_id=assignment_id,
                pack_pk=pack.pk,
            )
            return AnswerResult(
                Outcome.RECORDED,
                worker,
                option=option,
                reward_micros=pack.reward_micros,
                currency=pack.currency,
                next=await self._next(tx, worker, now),
            )

    async def _next(
        self, tx: Tx, worker: WorkerView, now: datetime, *, check_open: bool = False
    ) -> Next:
        if not worker.consented:
            return NoTask("consent")
        if worker.paused:
            return NoTask("paused")
        if check_open:
            current = await assignments_db.open_for(tx, worker.id)
            if current is not None and from_db_time(current["expires_at"]) <= now:
                await assignments_db.close_unanswered(tx, current["id"], "expired", to_db_time(now))
            elif current is not None:
                pack = await self._pack(tx, current["pack_pk"])
                return TaskCard(current["id"], pack, json.loads(current["content"])["text"])
        for pack in await self._active_packs(tx):
            task = await assignments_db.pick(tx, pack.pk, worker.id)
            if task is None:
                continue
            assignment_id = await assignments_db.lease(
                tx,
                worker_id=worker.id,
                task_pk=task["pk"],
                pack_pk=pack.pk,
                now=to_db_time(now),
                expires_at=to_db_time(now + timedelta(seconds=pack.lease_seconds)),
            )
            if worker.waiting:
                await workers_db.set_waiting(tx, worker.id, None)
            return TaskCard(assignment_id, pack, json.loads(task["content"])["text"])
        if not worker.waiting:
            await workers_db.set_waiting(tx, worker.id, to_db_time(now))
        return NoTask("empty")

    async def _release_open(self, tx: Tx, worker_id: int, now: str) -> None:
        current = await assignments_db.open_for(tx, worker_id)
        if current is not None:
            await assignments_db.close_unanswered(tx, current["id"], "released", now)

    # -- scheduler and delivery faults
    async def expire_leases(self, batch: int = 1000) -> int:
        """Returns expired leases to the pool; a late press on them is then refused."""
        total = 0
        while True:
            now = to_db_time(self.clock.now())
            async with self.db.transaction() as tx:
                rows = await assignments_db.expired(tx, now, batch)
                for row in rows:
                    await assignments_db.close_unanswered(tx, row["id"], "expired", now)
            total += len(rows)
            if len(rows) < batch:
                return total

    async def mark_blocked(self, worker_id: int) -> None:
        """Telegram said 403: push nothing more until they write to us again."""
        now = to_db_time(self.clock.now())
        async with self.db.transaction() as tx:
            await workers_db.set_blocked(tx, worker_id, now)
            await self._release_open(tx, worker_id, now)

    async def workers_to_tell_of_new_work(self, limit: int = 200) -> list[WorkerView]:
        """Waiting workers for whom a task is now available (nothing is leased here)."""
        async with self.db.read() as tx:
            rows = await workers_db.waiting(tx, limit)
            packs = await self._active_packs(tx)
            ready = []
            for row in rows:
                for pack in packs:
                    if await assignments_db.pick(tx, pack.pk, row["id"]) is not None:
                        ready.append(WorkerView.from_row(row))
                        break
        return ready

    async def told_of_new_work(self, worker_id: int) -> None:
        async with self.db.transaction() as tx:
            await workers_db.set_waiting(tx, worker_id, None)

    async def balance(self, worker_id: int, zone: tzinfo) -> Balance:
        """Tasks and earnings this week (from Monday 00:00 in the worker's zone) and in all."""
        local = self.clock.now().astimezone(zone)
        monday = (local - timedelta(days=local.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        week_start = to_db_time(monday)
        async with self.db.read() as tx:
            return Balance(
                tasks_this_week=await assignments_db.counts_since(tx, worker_id, week_start),
                tasks_total=await assignments_db.counts_since(tx, worker_id, ""),
                earned_this_week=await ledger_db.earned(tx, worker_id, week_start),
                earned_total=await ledger_db.earned(tx, worker_id),
            )

    async def prune_processed_updates(self, keep: timedelta = timedelta(days=2)) -> int:
        before = to_db_time(self.clock.now() - keep)
        async with self.db.transaction() as tx:
            return await updates_db.prune(tx, before)
