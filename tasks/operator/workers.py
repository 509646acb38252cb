"""Workers as operators see and steer them: counts, one worker's record, barring a worker from
tasks and letting them back (the Suspend and Reinstate buttons) with a reason the worker is
told, and broadcasts.

What a worker is told of an operator's action goes through the one outbox, queued in the unit
of work that makes the change (so it is sent exactly when the change happened, paced, and held
by the worker's quiet hours). A barred worker gets no task (tasks/work.py) until unbarred;
their open task goes back to the others at once. ("Suspended" is the quality test's word:
tasks/quality/.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from db import Database, Tx, read_only, to_db_time, unit_of_work
from db import assignments as assignments_db
from db import ledger as ledger_db
from db import operators as operators_db
from db import outbox as outbox_db
from db.operators import WorkerCounts, WorkerPack, WorkerRow
from tasks.clock import Clock

__all__ = ["Broadcasts", "SteerResult", "WorkerCounts", "WorkerDesk", "WorkerRecord"]

MAX_REASON = 500  # characters of an operator's reason (it is sent to the worker)
MAX_BROADCAST = 3000  # characters of a broadcast (a Telegram message holds 4,096)
# An operator's actions on a worker as operator_actions.action stores them (migration 010).
BAR, UNBAR = "suspend", "reinstate"
# What the worker is told of them, as outbox kinds (and catalogue keys).
BARRED, UNBARRED = "op_suspended", "op_reinstated"


@dataclass(frozen=True)
class WorkerRecord:
    """One worker as /worker ID shows them."""

    worker: WorkerRow
    packs: list[WorkerPack]
    earned: dict[str, int]  # currency -> micro-units, all time
    unpaid: dict[str, int]
    last_answer_at: str | None


class SteerResult(StrEnum):
    DONE = "done"
    UNKNOWN = "unknown"  # no such worker
    ALREADY = "already"  # already barred / not barred
    NO_REASON = "no_reason"


class WorkerDesk:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @read_only
    def counts(self, tx: Tx) -> WorkerCounts:
        return operators_db.worker_counts(tx, to_db_time(self.clock.now() - timedelta(days=1)))

    @read_only
    def record(self, tx: Tx, worker_id: int) -> WorkerRecord | None:
        worker = operators_db.worker_row(tx, worker_id)
        if worker is None:
            return None
        return WorkerRecord(
            worker=worker,
            packs=operators_db.worker_packs(tx, worker_id),
            earned=ledger_db.earned(tx, worker_id),
            unpaid=ledger_db.unpaid(tx, worker_id),
            last_answer_at=operators_db.last_answer_at(tx, worker_id),
        )

    @unit_of_work
    def bar(self, tx: Tx, operator_id: int, worker_id: int, reason: str) -> SteerResult:
        """No more tasks for the worker, who is told why (their open task is released)."""
        return self._steer(tx, operator_id, worker_id, BAR, reason)

    @unit_of_work
    def unbar(self, tx: Tx, operator_id: int, worker_id: int, reason: str) -> SteerResult:
        """Tasks again for a barred worker, who is told (with the operator's words)."""
        return self._steer(tx, operator_id, worker_id, UNBAR, reason)

    def _steer(
        self, tx: Tx, operator_id: int, worker_id: int, action: str, reason: str
    ) -> SteerResult:
        reason = reason.strip()[:MAX_REASON]
        if not reason:
            return SteerResult.NO_REASON
        worker = operators_db.worker_row(tx, worker_id)
        if worker is None:
            return SteerResult.UNKNOWN
        barring = action == BAR
        if (worker.barred_at is not None) == barring:
            return SteerResult.ALREADY
        now = to_db_time(self.clock.now())
        operators_db.set_bar(tx, worker_id, reason if barring else None, now)
        if barring:
            current = assignments_db.open_for(tx, worker_id)
            if current is not None:
                assignments_db.close_unanswered(tx, current.id, "released", now)
        action_id = operators_db.record_action(tx, operator_id, worker_id, action, reason, now)
        outbox_db.enqueue(
            tx,
            recipient=worker_id,
            kind=BARRED if barring else UNBARRED,
            params={"reason": reason},
            dedupe_key=f"operator_action:{action_id}",
            now=now,
        )
        return SteerResult.DONE


class Broadcasts:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @read_only
    def audience(self, tx: Tx) -> int:
        """How many workers a broadcast reaches now: consented, not blocked, not barred."""
        return operators_db.broadcast_audience(tx)

    @unit_of_work
    def send(self, tx: Tx, operator_id: int, text: str) -> int:
        """Queues the text for every worker it reaches (bulk lane: paced behind what people are
        waiting for, held by each worker's quiet hours); returns how many were queued."""
        _, queued = operators_db.queue_broadcast(
            tx, operator_id, text[:MAX_BROADCAST], to_db_time(self.clock.now())
        )
        return queued
