"""A pack file sent in Telegram: checked as it arrives, then validated and loaded all or nothing.

The file is written to a temporary file as it downloads (`UploadCheck` sees every chunk: the size
limit, UTF-8, emptiness), never held whole in memory. Then `PackUploads.upload` loads it: a new
pack at once; an existing pack id only after the operator confirms (the file is first checked
against the pack, nothing changed, so the operator confirms a replace that is known to
succeed). The load reads and checks the file in a worker thread and writes in short steps
(tasks/packs/loading.py): the bot keeps answering workers meanwhile. The answer is
either every error with its line (nothing imported) or a `LoadSummary`: tasks, gold, overlap,
reward, the budget and the fair-pay figures.
"""

from __future__ import annotations

import codecs
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from db import Database
from db import operators as operators_db
from tasks.clock import Clock
from tasks.earnings import EarningsService, expected_hourly_rate
from tasks.packs import LoadReport, PackError, load_pack
from tasks.packs.csvpack import CSV_SUFFIXES, parse_settings
from tasks.packs.reader import JSONL_SUFFIXES

PACK_SUFFIXES = frozenset({".json", *JSONL_SUFFIXES, *CSV_SUFFIXES})


def upload_problem(file_name: str | None, file_size: int | None, max_bytes: int) -> str | None:
    """Why a document cannot be a pack, from what Telegram says of it before any download."""
    suffix = Path(file_name or "").suffix.lower()
    if suffix not in PACK_SUFFIXES:
        return "not_a_pack"
    if file_size is not None and file_size > max_bytes:
        return "too_big"
    if file_size == 0:
        return "empty"
    return None


class UploadCheck:
    """Watches a download chunk by chunk: its size against the limit, and that it is UTF-8
    (noting the line of the first byte that is not)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.lines = 1
        self.problem: str | None = None  # "too_big" | "not_utf8"
        self.bad_line: int | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes) -> bool:
        """Takes the next chunk; False once the file is refused (stop downloading)."""
        if self.problem is not None:
            return False
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.problem = "too_big"
            return False
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            self.problem = "not_utf8"
            self.bad_line = self.lines + chunk.count(b"\n", 0, max(exc.start, 0))
            return False
        self.lines += chunk.count(b"\n")
        return True

    def finish(self) -> str | None:
        """The problem with the whole file, if any (a file cut inside a character, empty)."""
        if self.problem is None:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.problem, self.bad_line = "not_utf8", self.lines
        if self.problem is None and self.size == 0:
            self.problem = "empty"
        return self.problem


@dataclass(frozen=True)
class LoadSummary:
    """What a loaded (or, before a confirmed replace, loadable) pack means in work and money."""

    pack_id: str
    replaced: bool
    tasks: int  # regular tasks (not check questions)
    gold: int
    overlap: int
    reward_micros: int
    currency: str
    answers: int  # tasks x overlap
    gold_answers: int  # expected answers to check questions, at the pack's gold rate
    budget_micros: int  # (answers + gold_answers) x reward
    median_seconds: Decimal | None  # the pack's, else the crowd's on other packs, else None
    median_from_pack: bool
    hours: Decimal | None  # (answers + gold_answers) x median
    hourly_micros: int | None  # implied hourly rate at that median
    min_hourly_micros: int
    break_even_seconds: Decimal  # above this time per task, the pay falls below the floor
    tasks_added: int
    tasks_updated: int
    tasks_retired: int
    warnings: tuple[str, ...]

    @property
    def below_floor(self) -> bool:
        return self.hourly_micros is not None and self.hourly_micros < self.min_hourly_micros


@dataclass(frozen=True)
class UploadOutcome:
    """`summary` set: loaded (or, with `needs_confirmation`, loadable over the existing pack);
    otherwise `errors` (nothing imported)."""

    pack_id: str
    summary: LoadSummary | None = None
    needs_confirmation: bool = False
    errors: tuple[PackError, ...] = ()
    error_count: int = 0


class PackUploads:
    def __init__(
        self, db: Database, clock: Clock, earnings: EarningsService, min_hourly_micros: int
    ) -> None:
        self.db = db
        self.clock = clock
        self.earnings = earnings
        self.min_hourly_micros = min_hourly_micros

    async def upload(
        self, path: Path, caption: str | None, *, confirmed: bool = False
    ) -> UploadOutcome:
        """Validates the file and loads it; an existing pack is replaced only once `confirmed`
        (before that, the file is checked against it, nothing changed: errors now, or a summary
        to confirm)."""
        settings, settings_errors = _settings(path, caption)
        report = await load_pack(
            self.db,
            path,
            replace=True,
            confirm_replace=not confirmed,
            clock=self.clock,
            settings=settings,
            settings_errors=settings_errors,
            media_files=False,  # a document has no folder: media by URL or file_id only
        )
        if not report.ok:
            return UploadOutcome(
                report.pack_id, errors=tuple(report.errors), error_count=report.error_count
            )
        summary = await self.summary(report)
        return UploadOutcome(report.pack_id, summary, needs_confirmation=report.dry_run)

    async def summary(self, report: LoadReport) -> LoadSummary:
        rates = {rate.pack_id: rate for rate in await self.earnings.pack_rates(fresh=True)}
        rate = rates.get(report.pack_id)
        median = rate.median_seconds if rate is not None else None
        from_pack = median is not None
        if median is None:
            crowd = await self.db.run_read(operators_db.median_seconds_all_packs)
            median = None if crowd is None else Decimal(str(round(crowd, 3)))
        tasks = report.tasks_total - report.gold_tasks
        answers = tasks * report.overlap
        gold_answers = 0
        if report.gold_tasks and 0 < report.gold_ratio < 1:
            gold_answers = math.ceil(answers * report.gold_ratio / (1 - report.gold_ratio))
        reward = report.reward_micros
        hours = None if median is None else (answers + gold_answers) * median / 3600
        return LoadSummary(
            pack_id=report.pack_id,
            replaced=report.replaced,
            tasks=tasks,
            gold=report.gold_tasks,
            overlap=report.overlap,
            reward_micros=reward,
            currency=report.currency,
            answers=answers,
            gold_answers=gold_answers,
            budget_micros=(answers + gold_answers) * reward,
            median_seconds=median,
            median_from_pack=from_pack,
            hours=hours,
            hourly_micros=expected_hourly_rate(reward, median),
            min_hourly_micros=self.min_hourly_micros,
            break_even_seconds=Decimal(reward) * 3600 / self.min_hourly_micros,
            tasks_added=report.tasks_added,
            tasks_updated=report.tasks_updated,
            tasks_retired=report.tasks_retired,
            warnings=tuple(report.warnings),
        )


def _settings(path: Path, caption: str | None) -> tuple[dict[str, Any] | None, list[PackError]]:
    """A CSV pack's header from the caption (None: its sidecar, which a chat upload lacks)."""
    if path.suffix.lower() not in CSV_SUFFIXES:
        return None, []
    if not caption or not caption.strip():
        message = (
            "a CSV pack needs its settings in the caption: key=value lines (id, title,"
            " instructions, type, options, reward, ...) or the header as a JSON object"
        )
        return {}, [PackError(None, None, None, message)]
    settings, errors = parse_settings(caption)
    return settings, errors
