"""Earnings: what a worker has earned, derived from the ledger (exact, per currency)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, tzinfo

from db import Database, SyncTx, to_db_time
from db import assignments as assignments_db
from db import ledger as ledger_db
from tasks.clock import Clock


@dataclass(frozen=True)
class Balance:
    tasks_this_week: int
    tasks_total: int
    earned_this_week: dict[str, int]
    earned_total: dict[str, int]


class EarningsService:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or Clock()

    async def balance(self, worker_id: int, zone: tzinfo) -> Balance:
        """Tasks and earnings this week (from Monday 00:00 in the worker's zone) and in all."""
        local = self.clock.now().astimezone(zone)
        monday = (local - timedelta(days=local.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return await self.db.run_read(self._balance, worker_id, to_db_time(monday))

    def _balance(self, tx: SyncTx, worker_id: int, week_start: str) -> Balance:
        return Balance(
            tasks_this_week=assignments_db.counts_since(tx, worker_id, week_start),
            tasks_total=assignments_db.counts_since(tx, worker_id, ""),
            earned_this_week=ledger_db.earned(tx, worker_id, week_start),
            earned_total=ledger_db.earned(tx, worker_id),
        )
