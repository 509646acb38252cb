"""Packs as an operator follows them from the phone: progress, pay, who works on them now, the
figures behind /stats, and pausing, resuming, closing."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from db import Database, Tx, to_db_time
from db import operators as operators_db
from db import packs as packs_db
from tasks.clock import Clock
from tasks.earnings import EarningsService, PackRate
from tasks.packs import PackProgress, StatusChange, pack_progress, set_pack_status

ACTIVE_WINDOW = timedelta(hours=1)  # "active workers": answered in the last hour


@dataclass(frozen=True)
class PackLine:
    """One pack in /packs."""

    progress: PackProgress
    active_workers: int  # answered in the last hour
    median_seconds: Decimal | None
    hourly_micros: int | None
    below_floor: bool
    top_up: bool

    @property
    def id(self) -> str:
        return self.progress.id


@dataclass(frozen=True)
class PackStats:
    """What /stats draws: answers per hour over the pack's life, and workers' trust."""

    line: PackLine
    hours: list[tuple[datetime, int]]  # (start of the hour, answers), hours without any included
    trust: list[float]  # each worker's smoothed accuracy on the pack's check questions

    @property
    def peak_per_hour(self) -> int:
        return max((count for _, count in self.hours), default=0)

    @property
    def median_trust(self) -> float | None:
        return statistics.median(self.trust) if self.trust else None


class PackDesk:
    def __init__(self, db: Database, clock: Clock, earnings: EarningsService) -> None:
        self.db = db
        self.clock = clock
        self.earnings = earnings

    async def overview(self) -> list[PackLine]:
        """Every pack, in load order: progress, spend, pace and who works on it."""
        progress = await pack_progress(self.db)
        rates = {rate.pack_id: rate for rate in await self.earnings.pack_rates(fresh=True)}
        since = to_db_time(self.clock.now() - ACTIVE_WINDOW)
        active = await self.db.run_read(operators_db.active_workers_by_pack, since)
        lines = []
        for row in progress:
            rate = rates.get(row.id)
            lines.append(_line(row, rate, active.get(rate.pack_pk, 0) if rate else 0))
        return lines

    async def line(self, pack_id: str) -> PackLine | None:
        return next((line for line in await self.overview() if line.id == pack_id), None)

    async def set_status(self, pack_id: str, action: str) -> StatusChange:
        return await set_pack_status(self.db, pack_id, action, clock=self.clock)

    async def stats(self, pack_id: str) -> PackStats | None:
        line = await self.line(pack_id)
        if line is None:
            return None

        def read(tx: Tx) -> tuple[list[tuple[str, int]], list[float]]:
            pack = packs_db.pack_by_id(tx, pack_id)
            assert pack is not None
            return operators_db.answers_per_hour(tx, pack.pk), operators_db.trust_scores(
                tx, pack.pk
            )

        hours, trust = await self.db.run_read(read)
        return PackStats(line, fill_hours(hours), trust)


def fill_hours(hours: list[tuple[str, int]]) -> list[tuple[datetime, int]]:
    """('2026-11-23T08', n) rows as a continuous series of hours (the quiet ones at 0)."""
    if not hours:
        return []
    counts = {datetime.fromisoformat(f"{hour}:00:00+00:00"): count for hour, count in hours}
    start, end = min(counts), max(counts)
    series = []
    moment = start
    while moment <= end:
        series.append((moment, counts.get(moment, 0)))
        moment += timedelta(hours=1)
    return series


def _line(progress: PackProgress, rate: PackRate | None, active: int) -> PackLine:
    return PackLine(
        progress=progress,
        active_workers=active,
        median_seconds=rate.median_seconds if rate else None,
        hourly_micros=rate.hourly_micros if rate else None,
        below_floor=rate.below_floor if rate else False,
        top_up=rate.top_up if rate else False,
    )
