"""Weekly statements: computed once per week in bulk, each queued in the outbox once.

The `statements` table (UNIQUE(worker_id, week)) is the truth of what a week says; a scheduler
job only triggers `compute_due`, at start-up and every minute, so a week missed while the bot
was down is computed late, once. Each statement is queued in the outbox (dedupe key
`statement:<week>:<worker>`, bulk lane) in the same transaction as its row, due at the
statement day and time in the worker's zone; the outbox's sender delivers it at least once
(tasks/outbox.py, docs/earnings.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from db import Database, Tx, from_db_time, read_only, to_db_time, unit_of_work
from db import activity as activity_db
from db import ledger as ledger_db
from db import outbox as outbox_db
from db import statements as statements_db
from db import workers as workers_db
from db.statements import WeekFigures
from tasks.clock import Clock, zone_or
from tasks.earnings import (
    EarningsConfig,
    PackRate,
    _pack_rates,
    hourly_micros,
    next_payout,
    shift_week,
    week_bounds,
    week_monday,
    week_of,
)

CHUNK_WORKERS = 2000  # workers per transaction when computing a week (answers go in between)


class WeekNotOver(ValueError):
    """A week's statements are computed once it has ended; this one has not."""


@dataclass(frozen=True)
class StatementLine:
    """One currency of a statement (micro-units; active time in milliseconds)."""

    earned: int
    top_up: int
    unpaid: int
    active_ms: int

    @property
    def hourly(self) -> int | None:
        return hourly_micros(self.earned, self.active_ms)


@dataclass(frozen=True)
class Statement:
    worker_id: int
    week: str
    tasks: int
    checks: int
    correct: int
    lines: dict[str, StatementLine]
    next_payout: date

    @classmethod
    def of(cls, stored: WeekFigures, payout: date) -> Statement:
        return cls(
            worker_id=stored.worker_id,
            week=stored.week,
            tasks=stored.tasks,
            checks=stored.checks,
            correct=stored.correct,
            lines={cur: StatementLine(**values) for cur, values in sorted(stored.figures.items())},
            next_payout=payout,
        )


@dataclass(frozen=True)
class TopUpPack:
    pack_pk: int
    pack_id: str
    currency: str


@dataclass(frozen=True)
class Preview:
    week: str
    workers: int
    earned: dict[str, int]
    unpaid: dict[str, int]
    top_ups: dict[str, int]  # top-ups the week would add (not yet in the ledger)
    samples: list[Statement]
    counts: dict[str, int]  # the week's statements already queued, by delivery status
    names: dict[int, str]  # the samples' workers' names, as they wrote them (not escaped)
    ended: bool  # False: the week is still running, its figures are so far


class StatementService:
    def __init__(self, db: Database, config: EarningsConfig, clock: Clock | None = None) -> None:
        self.db = db
        self.config = config
        self.clock = clock or Clock()

    def zone_of(self, name: str | None) -> tzinfo:
        """A worker's own time zone when known and valid, else TIMEZONE."""
        return zone_or(name, self.config.zone)

    # -- computing ------------------------------------------------------------------------------

    async def due_weeks(self) -> list[str]:
        """Closed weeks not computed yet: the last one at first, then every week since the last
        computed one (a week missed during downtime is caught up)."""
        last_closed = shift_week(week_of(self.clock.now(), self.config.zone), -1)
        done = await self.db.run_read(statements_db.computed_weeks)
        if not done:
            return [last_closed]
        weeks = []
        week = shift_week(done[-1], 1)
        while week <= last_closed:
            weeks.append(week)
            week = shift_week(week, 1)
        return weeks

    async def compute_due(self) -> dict[str, int]:
        """Computes every due week; returns the statements inserted per week."""
        return {week: await self.compute_week(week) for week in await self.due_weeks()}

    def due_at(self, week: str, zone: tzinfo) -> datetime:
        """When the week's statement goes out in `zone`: STATEMENT_DAY STATEMENT_TIME of the next
        week there, not before the week has ended in TIMEZONE, and not in quiet hours."""
        day = week_monday(week) + timedelta(days=7 + self.config.statement_weekday)
        moment = datetime.combine(day, self.config.statement_time, tzinfo=zone)
        moment = max(moment, week_bounds(week, self.config.zone)[1])
        if self.config.quiet_hours is not None:
            moment = self.config.quiet_hours.next_allowed(moment, zone)
        return moment

    async def compute_week(self, week: str) -> int:
        """Top-ups, then one statement per worker who earned that week or is owed money; in
        chunks of workers, each one transaction; rows already there are kept (idempotent)."""
        start, end = week_bounds(week, self.config.zone)
        if end > self.clock.now():
            raise WeekNotOver(
                f"week {week} has not ended yet (it ends {end:%Y-%m-%d %H:%M} {self.config.zone})"
            )
        zones = await self.db.run_read(workers_db.timezones)
        due = {name: to_db_time(self.due_at(week, self.zone_of(name))) for name in zones}
        top_up_packs = await self._top_up_packs(end)
        workers = await self.db.run_read(ledger_db.workers_with_entries)
        params: dict[str, Any] = {
            "week": week,
            "start": to_db_time(start),
            "end": to_db_time(end),
            "break_ms": self.config.break_ms,
            "zones": json.dumps(due),
            "default_due": to_db_time(self.due_at(week, self.config.zone)),
        }
        inserted = 0
        for chunk in range(0, len(workers), CHUNK_WORKERS):
            ids = workers[chunk : chunk + CHUNK_WORKERS]
            params.update(lo=ids[0], hi=ids[-1], now=to_db_time(self.clock.now()))
            inserted += await self.compute_chunk(params, top_up_packs)
        await self.db.run(statements_db.record_week, week, inserted, to_db_time(self.clock.now()))
        return inserted

    async def _top_up_packs(self, end: datetime) -> list[TopUpPack]:
        """Packs with `top_up: true` whose implied hourly rate is below MIN_HOURLY_RATE."""
        rates: list[PackRate] = await self.db.run_read(_pack_rates, self.config, to_db_time(end))
        return [
            TopUpPack(rate.pack_pk, rate.pack_id, rate.currency)
            for rate in rates
            if rate.top_up and rate.below_floor
        ]

    @unit_of_work
    def compute_chunk(self, tx: Tx, params: dict[str, Any], top_up_packs: list[TopUpPack]) -> int:
        """One range of workers of a week: their top-ups, statements and outbox rows."""
        for pack in top_up_packs:
            for worker_id, amount in self._top_ups(tx, params, pack):
                ledger_db.credit(
                    tx,
                    worker_id=worker_id,
                    kind="top_up",
                    amount_micros=amount,
                    currency=pack.currency,
                    reason=f"fair-pay top-up: {pack.pack_id}, week {params['week']}",
                    idempotency_key=f"top_up:{worker_id}:{pack.pack_id}:{params['week']}",
                    pack_pk=pack.pack_pk,
                    now=top_up_time(params["end"]),
                )
        inserted = statements_db.insert_week(tx, params)
        outbox_db.enqueue_statements(tx, params)
        return inserted

    def _top_ups(self, tx: Tx, params: dict[str, Any], pack: TopUpPack) -> list[tuple[int, int]]:
        """(worker, amount) bringing each worker's rate on the pack that week up to the floor."""
        rows = activity_db.pack_week_activity(tx, {**params, "pack": pack.pack_pk})
        owed = []
        for row in rows:
            floor = -(-self.config.min_hourly_micros * int(row["active_ms"]) // 3_600_000)
            missing = floor - int(row["earned"])
            if missing > 0:
                owed.append((int(row["worker_id"]), missing))
        return owed

    async def preview(self, week: str, samples: int = 3) -> Preview:
        """What the week's statements say (and the top-ups it would add), writing nothing."""
        start, end = week_bounds(week, self.config.zone)
        top_up_packs = await self._top_up_packs(end)
        payout = self.next_payout()
        return await self._preview(week, start, end, top_up_packs, samples, payout)

    @read_only
    def _preview(
        self,
        tx: Tx,
        week: str,
        start: datetime,
        end: datetime,
        top_up_packs: list[TopUpPack],
        samples: int,
        payout: date,
    ) -> Preview:
        params: dict[str, Any] = {
            "week": week,
            "start": to_db_time(start),
            "end": to_db_time(end),
            "break_ms": self.config.break_ms,
            "lo": -(2**63),
            "hi": 2**63 - 1,
        }
        top_ups: dict[str, int] = {}
        for pack in top_up_packs:
            for worker_id, amount in self._top_ups(tx, params, pack):
                key = f"top_up:{worker_id}:{pack.pack_id}:{week}"
                if not ledger_db.has_key(tx, key):
                    top_ups[pack.currency] = top_ups.get(pack.currency, 0) + amount
        earned: dict[str, int] = {}
        unpaid: dict[str, int] = {}
        shown: list[Statement] = []
        rows = statements_db.week_figures(tx, params)
        for row in rows:
            statement = Statement.of(row, payout)
            for currency, line in statement.lines.items():
                earned[currency] = earned.get(currency, 0) + line.earned
                unpaid[currency] = unpaid.get(currency, 0) + line.unpaid
            if len(shown) < samples:
                shown.append(statement)
        counts = outbox_db.counts_by_status(tx, "statement", week_key_prefix(week))
        names = workers_db.display_names(tx, [sample.worker_id for sample in shown])
        ended = end <= self.clock.now()
        return Preview(week, len(rows), earned, unpaid, top_ups, shown, counts, names, ended)

    @unit_of_work
    def make_due_now(self, tx: Tx, week: str) -> int:
        """An operator's `statements send --week`: the week's statements still waiting for
        their time are due now (quiet hours still hold them); returns how many."""
        now = to_db_time(self.clock.now())
        return outbox_db.make_due(tx, "statement", week_key_prefix(week), now)

    @read_only
    def week_counts(self, tx: Tx, week: str) -> dict[str, int]:
        """The week's statements in the outbox, by delivery status."""
        return outbox_db.counts_by_status(tx, "statement", week_key_prefix(week))

    def next_payout(self) -> date:
        today = self.clock.now().astimezone(self.config.zone).date()
        return next_payout(today, self.config.payout_day)


def top_up_time(week_end: str) -> str:
    """A top-up is dated at the last instant of the week it makes up for, so that week's sums,
    its statement and /balance's "last week" include it."""
    return to_db_time(from_db_time(week_end) - timedelta(microseconds=1))


def week_key_prefix(week: str) -> str:
    """The dedupe keys of a week's statements in the outbox start with this."""
    return f"statement:{week}:"
