"""Earnings: what a worker has earned, derived from the ledger (exact, per currency).

Active time: a task counts as work from its delivery to its answer, at most BREAK_SECONDS; a
longer gap was a break. The effective hourly rate is earnings over that active time. A pack's
implied hourly rate is its reward over the median active time of its answers.
"""

from __future__ import annotations

import time as monotonic
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from db import Database, Tx, to_db_time
from db import activity as activity_db
from db import ledger as ledger_db
from db import packs as packs_db
from tasks.clock import Clock
from tasks.money import MICROS

BREAK_SECONDS = 300
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PACK_RATES_TTL = 60.0  # seconds a pack's median is reused (the consent screen asks often)


@dataclass(frozen=True)
class QuietHours:
    """Local hours when nothing is pushed; may wrap midnight (22:00-08:00)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime, zone: tzinfo) -> datetime:
        """`moment` if it is outside quiet hours in `zone`, else when they end (aware UTC)."""
        local = moment.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return moment
        end_day = local.date()
        if self.start > self.end and local.time() >= self.start:
            end_day += timedelta(days=1)
        return datetime.combine(end_day, self.end, tzinfo=zone).astimezone(moment.tzinfo)


@dataclass(frozen=True)
class EarningsConfig:
    """The settings the earnings features run on (bot/settings.py builds it)."""

    zone: tzinfo
    min_hourly_micros: int = 12 * MICROS
    statement_weekday: int = 0  # Monday
    statement_time: time = time(9, 0)
    quiet_hours: QuietHours | None = field(default_factory=lambda: QuietHours(time(22), time(8)))
    payout_day: int = 1
    break_seconds: int = BREAK_SECONDS

    @property
    def break_ms(self) -> int:
        return self.break_seconds * 1000


# -- weeks: ISO weeks ('2026-W48') in the operator's TIMEZONE ---------------------------------


def week_of(moment: datetime, zone: tzinfo) -> str:
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> str:
    """'2026-W48' checked and normalised; ValueError with the expected shape otherwise."""
    try:
        year, _, week = text.strip().upper().partition("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise ValueError(f"not an ISO week: {text!r} (YYYY-Www, e.g. 2026-W48)") from None
    return week_label(monday)


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    year, _, number = week.partition("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def week_bounds(week: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) in `zone`, as aware datetimes."""
    monday = week_monday(week)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return start, end


def shift_week(week: str, weeks: int) -> str:
    return week_label(week_monday(week) + timedelta(weeks=weeks))


def next_payout(today: date, payout_day: int) -> date:
    """The next payout date: this month's `payout_day` if still ahead, else next month's."""
    if today.day < payout_day:
        return today.replace(day=payout_day)
    first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_next.replace(day=payout_day)


# -- rates -------------------------------------------------------------------------------------


def hourly_micros(earned_micros: int, active_ms: int) -> int | None:
    """Earnings over active time, in micro-units per hour (None without active time)."""
    if active_ms <= 0:
        return None
    return earned_micros * 3_600_000 // active_ms


def expected_hourly_rate(reward_micros: int, median_seconds: Decimal | None) -> int | None:
    """A pack's implied hourly rate in micro-units: its reward over the median time per task.
    None while nobody has answered it (no median yet)."""
    if median_seconds is None or median_seconds <= 0:
        return None
    return int(Decimal(reward_micros) * 3600 / median_seconds)


def round_to_cents(micros: int) -> int:
    """For showing a rate (a derived figure, never booked): to the nearest cent."""
    return int((Decimal(micros) / 10_000).quantize(Decimal(1)) * 10_000)


@dataclass(frozen=True)
class PackRate:
    pack_pk: int
    pack_id: str
    title: str
    status: str
    reward_micros: int
    currency: str
    answers: int
    median_seconds: Decimal | None
    hourly_micros: int | None  # implied hourly rate, None until someone answered
    top_up: bool
    below_floor: bool


@dataclass(frozen=True)
class Balance:
    tasks_this_week: int
    tasks_last_week: int
    tasks_total: int
    earned_this_week: dict[str, int]
    earned_last_week: dict[str, int]
    earned_total: dict[str, int]
    unpaid: dict[str, int]
    paid: dict[str, int]
    checks: int
    correct: int
    active_ms: dict[str, int]  # all time, per currency of the packs worked on

    def hourly(self, currency: str) -> int | None:
        return hourly_micros(self.earned_total.get(currency, 0), self.active_ms.get(currency, 0))


class EarningsService:
    def __init__(
        self, db: Database, clock: Clock | None = None, config: EarningsConfig | None = None
    ) -> None:
        self.db = db
        self.clock = clock or Clock()
        self.config = config
        self._rates: tuple[float, list[PackRate]] | None = None

    def settings(self, zone: tzinfo) -> EarningsConfig:
        """The configuration, or the defaults in `zone` when the wiring gave none."""
        if self.config is None:
            self.config = EarningsConfig(zone=zone)
        return self.config

    async def balance(self, worker_id: int, zone: tzinfo) -> Balance:
        """This week and last week (from Monday 00:00 in `zone`), in all, owed and paid."""
        week = week_of(self.clock.now(), zone)
        this_start, this_end = week_bounds(week, zone)
        last_start, _ = week_bounds(shift_week(week, -1), zone)
        break_ms = self.settings(zone).break_ms
        return await self.db.run_read(
            _balance,
            worker_id,
            to_db_time(last_start),
            to_db_time(this_start),
            to_db_time(this_end),
            break_ms,
        )

    async def pack_rates(self, fresh: bool = False) -> list[PackRate]:
        """Every pack's median time per task and implied hourly rate, against MIN_HOURLY_RATE.
        Cached for a minute (the median moves slowly; the consent screen asks at each /start)."""
        cached = self._rates
        if not fresh and cached is not None and monotonic.monotonic() - cached[0] < PACK_RATES_TTL:
            return cached[1]
        config = self.settings(UTC)
        now = to_db_time(self.clock.now())
        rates = await self.db.run_read(_pack_rates, config, now)
        self._rates = (monotonic.monotonic(), rates)
        return rates

    async def expected_hourly_rate(self, pack_pk: int) -> int | None:
        """The hourly rate a worker can expect on a pack (micro-units of its currency), for the
        consent screen; None while the pack has no answers to measure."""
        for rate in await self.pack_rates():
            if rate.pack_pk == pack_pk:
                return rate.hourly_micros
        return None


def _balance(
    tx: Tx, worker_id: int, last_start: str, this_start: str, this_end: str, break_ms: int
) -> Balance:
    work = activity_db.worker_work(tx, worker_id, last_start, this_start)
    active = activity_db.active_ms_by_currency(tx, worker_id, break_ms)
    return Balance(
        tasks_this_week=int(work["this_week"] or 0),
        tasks_last_week=int(work["last_week"] or 0),
        tasks_total=int(work["total"] or 0),
        earned_this_week=ledger_db.earned_between(tx, worker_id, this_start, this_end),
        earned_last_week=ledger_db.earned_between(tx, worker_id, last_start, this_start),
        earned_total=ledger_db.earned(tx, worker_id),
        unpaid=ledger_db.unpaid(tx, worker_id),
        paid=ledger_db.paid(tx, worker_id),
        checks=int(work["checks"] or 0),
        correct=int(work["correct"] or 0),
        active_ms=active,
    )


def _pack_rates(tx: Tx, config: EarningsConfig, now: str) -> list[PackRate]:
    rates = []
    for pack in packs_db.all_packs(tx):
        answers, median_ms = activity_db.pack_task_times(tx, pack.pk, config.break_ms, now)
        median = None if median_ms is None else Decimal(median_ms) / 1000
        hourly = expected_hourly_rate(pack.reward_micros, median)
        rates.append(
            PackRate(
                pack_pk=pack.pk,
                pack_id=pack.id,
                title=pack.title,
                status=pack.status,
                reward_micros=pack.reward_micros,
                currency=pack.currency,
                answers=answers,
                median_seconds=median,
                hourly_micros=hourly,
                top_up=bool(pack.header.get("top_up", False)),
                below_floor=hourly is not None and hourly < config.min_hourly_micros,
            )
        )
    return rates
