"""Loading a pack file into the database: validated and written all or nothing, in short steps.

The bot keeps answering while a pack loads (docs/packs.md, "How a load runs"):

- The file is read and validated in a worker thread (`asyncio.to_thread`), a batch of tasks at
  a time: neither the event loop nor the database thread parses anything.
- Each batch is written in its own short transaction (`Database.run`), into a packs row of the
  load's own (migration 016: the "staged" pack) that nothing lists or serves: the units of work
  waiting for the single writer (answers first of all) get it between two batches.
- All or nothing: a file with errors is thrown away, a step at a time, and nothing of it was
  ever visible. A new pack becomes visible in one short transaction at the end, when its staged
  row is made the pack.
- A replace compares the staged tasks with the pack's. Its commit point is one short
  transaction: the checks again, the new header, and the pack withheld (nothing new is handed
  out from it; open tasks can still be answered). Then, a range of primary keys a step: the
  tasks the file lacks are retired, the file's tasks applied (rewritten where they differ, moved
  in where new), the operators' gold decisions put back, the slots recomputed; then the pack is
  handed out again. No worker gets a task of a pack half replaced. A crash before the commit
  point leaves the pack as it was; after it, the replace is finished by whoever finds it first
  (the next load, or the bot within a minute: `recover_loads`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from db import gold as gold_db
from db import media as media_db
from db import packs as db_packs
from db.core import Database, Tx, to_db_time
from db.packs import Option, PackColumns, PackInfo
from tasks.clock import Clock
from tasks.packs.errors import PackError
from tasks.packs.format import PackHeader
from tasks.packs.load_checks import (
    PENDING_DUPLICATE,
    LoadReport,
    check_replace,
    load_warnings,
    name_first_lines,
    ok_report,
    quality_block,
)
from tasks.packs.reader import BATCH_SIZE, PackReader, TaskBatch
from tasks.packs.replacing import (
    ABANDONED_AFTER,
    LoadGone,
    apply_replace,
    compare_staged,
    discard_staged,
    recover_loads,
)
from tasks.quality import rules

log = logging.getLogger(__name__)
T = TypeVar("T")

# The page cache (KiB) while a load runs: the unique (pack_pk, task_id) index of a big pack with
# ids in random order would otherwise be read back from disk for most rows.
LOAD_CACHE_KIB = 64 * 1024
# A replace waits this long after withholding the pack before it changes any task: longer than
# ACTIVE_PACKS_TTL (tasks/pack_cache.py), the most a process (the bot, while the CLI loads) goes
# on handing out tasks from a pack it read as active.
WITHHOLD_SECONDS = 1.25
# A load touches its pack_loads row with every batch and step, and every HEARTBEAT_SECONDS while
# it reads (a batch of big media files can take a while); one untouched for ABANDONED_AFTER was
# left by a crash.
HEARTBEAT_SECONDS = 20.0

# Tasks written per transaction. In the bot, a batch of 5,000 holds the single writer about 30 ms
# (an answer waits at most that). The CLI writes 50,000 a transaction: a pack with ids in random
# order rewrites most pages of the (pack_pk, task_id) index at every commit, so fewer commits are
# much faster there (1,000,000 tasks: 28 s at 5,000, 13 s at 50,000; bench/bench_import.py
# --random-ids); a bot sharing the database waits up to about half a second per transaction.
STEP_ROWS = BATCH_SIZE
CLI_STEP_ROWS = 50_000

# While a load runs, a thread waiting for the GIL gets it within this many seconds (Python's
# default switch interval is 5 ms). The reader's thread parses without a pause; the database
# thread releases the GIL for each SQLite call and must take it back after: a unit of work of
# 20 statements waited up to 20 x 5 ms behind a JSON pack being parsed (bench/bench_operator.py
# measured answers at p95 465 ms during a 20 MB JSON upload; 1 ms: see docs/packs.md).
SWITCH_INTERVAL = 0.001

# In the bot, the reader's thread reads at most READ_SECONDS at a time, then sleeps REST_SECONDS
# (GIL and core released): on a 2-core machine it otherwise takes the GIL from the answers half
# the time (see docs/packs.md for the figures). The CLI reads without a pause.
READ_SECONDS = 0.004
REST_SECONDS = 0.002

# on_progress(bytes_read, total_bytes, tasks_read), called after every batch, on the event loop.
ProgressCallback = Callable[[int, int, int], None]


async def load_pack(
    db: Database,
    source: Path,
    *,
    replace: bool = False,
    clock: Clock,
    on_progress: ProgressCallback | None = None,
    settings: dict[str, Any] | None = None,
    settings_errors: Sequence[PackError] = (),
    dry_run: bool = False,
    confirm_replace: bool = False,
    media_files: bool = True,
    step_rows: int | None = None,
    paced: bool = True,
) -> LoadReport:
    """Validates and loads a pack file, all or nothing, in short steps (see the module).

    A JSONL or CSV pack is streamed (bounded memory); a JSON pack is read whole (keep those
    small). On any error nothing is imported and the report lists the errors (the first
    MAX_ERRORS: reading stops after them). An existing pack id is refused unless `replace`:
    then the header is updated, tasks are matched by id (answers kept), tasks missing from the
    file are retired, and each task's remaining slots are recomputed. A replace cannot remove an
    option that stored answers chose, nor change the type of a pack with answers.

    With `dry_run`, everything is checked and nothing loaded: the report (`dry_run` set) says
    what the load would do. With `confirm_replace` (and `replace`), only a replace is a dry run:
    a new pack loads, an existing one is checked for the caller to confirm.

    `step_rows` tasks are written per transaction (default STEP_ROWS; the CLI: CLI_STEP_ROWS).
    `paced`: the reader pauses (READ_SECONDS, REST_SECONDS) to leave the GIL to the answers
    (the CLI, with nothing else to run, passes False).
    `on_progress(bytes_read, total_bytes, tasks_read)` is called after every batch. When the
    caller is cancelled (Ctrl-C), what was written is thrown away (a replace past its commit
    point is finished instead) before the cancellation goes on.

    A CSV pack takes its header fields from `settings` (a Telegram caption, with the problems
    found reading it in `settings_errors`), else from its sidecar file.

    Media paths (tasks/media.py) are relative to the pack file and must stay inside its folder;
    with `media_files` False (a pack sent in a chat, which has no folder) only URLs and file_ids
    are accepted. A replace writes every task's media anew: tasks held or out of service for
    their media are back in service.
    """
    await recover_loads(db, clock)
    with (
        _gil_handed_over_often(),
        PackReader(source, settings, settings_errors, media_files=media_files) as reader,
    ):
        if step_rows is not None:
            reader.batch_size = step_rows
        if paced:
            reader.pause = _Pace(READ_SECONDS, REST_SECONDS)
        load = _Load(db, reader, clock, replace, dry_run, confirm_replace, on_progress)
        return await load.run()


class _Pace:
    """A reader's pause: after `read` seconds of reading, sleep `rest` seconds."""

    def __init__(self, read: float, rest: float) -> None:
        self.read = read
        self.rest = rest
        self.since = time.perf_counter()

    def __call__(self) -> None:
        if time.perf_counter() - self.since >= self.read:
            time.sleep(self.rest)
            self.since = time.perf_counter()


_loads_running = 0
_switch_interval_before = 0.0


@contextlib.contextmanager
def _gil_handed_over_often() -> Iterator[None]:
    """SWITCH_INTERVAL while at least one load of this process runs (the previous interval
    back after the last)."""
    global _loads_running, _switch_interval_before
    if _loads_running == 0:
        _switch_interval_before = sys.getswitchinterval()
        sys.setswitchinterval(min(SWITCH_INTERVAL, _switch_interval_before))
    _loads_running += 1
    try:
        yield
    finally:
        _loads_running -= 1
        if _loads_running == 0:
            sys.setswitchinterval(_switch_interval_before)


class _Load:
    def __init__(
        self,
        db: Database,
        reader: PackReader,
        clock: Clock,
        replace: bool,
        dry_run: bool,
        confirm_replace: bool,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.db = db
        self.reader = reader
        self.clock = clock
        self.replace = replace
        self.dry_run = dry_run
        self.confirm_replace = confirm_replace and replace
        self.on_progress = on_progress
        self.header: PackHeader | None = None
        self.staged: int | None = None
        self.committed = False  # a replace past its commit point: finished, never undone
        self.pack_pk = 0  # the pack a replace applies to
        self.written = 0  # tasks staged (duplicates not counted)
        self.cache: int | None = None

    def now(self) -> str:
        return to_db_time(self.clock.now())

    async def run(self) -> LoadReport:
        reader = self.reader
        self.header = header = await asyncio.to_thread(reader.read_header)
        if not reader.readable:
            return self._refused()
        if header is not None and not self.replace:
            if await self.db.run_read(db_packs.pack_by_id, header.id) is not None:
                _exists_error(reader, header)
                return self._refused()
        pack_id = header.id if header else (reader.raw_id or "")
        columns = _columns(header) if header else None
        token = secrets.token_hex(8)
        self.staged = await self.db.run(_start, pack_id, columns, self.now(), token)
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            report = await self._load()
        except BaseException as exc:
            heartbeat.cancel()
            try:
                await asyncio.shield(asyncio.ensure_future(self._clean_up()))
            except BaseException:  # cancelled again: left to recover_loads
                log.exception("pack load of %s: cleaning up failed", reader.source.name)
            if isinstance(exc, LoadGone):
                reader.errors.add(None, None, None, _GONE)
                return self._refused()
            raise
        heartbeat.cancel()
        return report

    async def _heartbeat(self) -> None:
        assert self.staged is not None
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.db.run(db_packs.touch_load, self.staged, self.now())

    async def _clean_up(self) -> None:
        """After a failure or a cancellation: a replace past its commit point is finished, any
        other load's rows are thrown away."""
        assert self.staged is not None
        if self.committed:
            await apply_replace(self.db, self.staged, self.pack_pk, self.clock)
        await discard_staged(self.db, self.staged)

    async def _load(self) -> LoadReport:
        reader, header, staged = self.reader, self.header, self.staged
        assert staged is not None
        self.cache = await self.db.run(_enlarge_cache)
        try:
            await self._stage(staged)
        finally:
            await self.db.run(_restore_cache, self.cache)
            self.cache = None
        await asyncio.to_thread(name_first_lines, reader)
        existing = await self.db.run_read(db_packs.pack_by_id, header.id) if header else None
        if existing is not None and not self.replace:  # loaded meanwhile
            assert header is not None
            _exists_error(reader, header)
        if existing is not None and header is not None:
            await self.db.run_read(check_replace, reader, header, existing)
        if reader.errors or header is None:
            await discard_staged(self.db, staged)
            return self._refused()
        if existing is None:
            return await self._create(staged, header)
        self.pack_pk = existing.pk
        if self.dry_run or self.confirm_replace:
            return await self._preview(staged, header, existing)
        return await self._replace(staged, header, existing)

    async def _stage(self, staged: int) -> None:
        """Reads the batches in a thread and writes each in its own transaction."""
        reader = self.reader
        remaining = self.header.overlap if self.header else 1
        batches = reader.batches()
        while (batch := await asyncio.to_thread(next, batches, None)) is not None:
            refused = await self.db.run(_write_batch, staged, remaining, batch, self.now())
            self.written += len(batch.rows) - len(refused)
            # The reader's thread is idle now: its error list is this thread's to add to.
            for index in refused:
                reader.errors.add(batch.lines[index], batch.rows[index][0], "id", PENDING_DUPLICATE)
            if self.on_progress is not None:
                self.on_progress(reader.bytes_read, reader.total_bytes, reader.tasks_read)

    async def _create(self, staged: int, header: PackHeader) -> LoadReport:
        dry_run = self.dry_run
        report = await self.db.run(
            _make_pack, staged, header, self.reader, self.written, dry_run, self.now()
        )
        if report is None or dry_run:
            await discard_staged(self.db, staged)
        if report is None:
            return self._refused()
        return report

    async def _preview(self, staged: int, header: PackHeader, existing: PackInfo) -> LoadReport:
        """What the replace would do, read a step at a time; nothing changes."""
        had, added, retired = await compare_staged(self.db, staged, existing.pk)
        outcome = await self.db.run_read(_replace_checks, staged, existing.pk, header, self.reader)
        await discard_staged(self.db, staged)
        if outcome is None:
            return self._refused()
        needs, kept, gold = outcome
        return ok_report(
            header,
            replaced=True,
            counts=(added, had, retired),
            gold=gold,
            warnings=load_warnings(needs, kept, header),
            dry_run=True,
        )

    async def _replace(self, staged: int, header: PackHeader, existing: PackInfo) -> LoadReport:
        outcome = await self.db.run(
            _commit_replace, staged, existing.pk, header, self.reader, self.now()
        )
        if outcome is None:
            await discard_staged(self.db, staged)
            return self._refused()
        self.committed = True
        needs, kept, _ = outcome
        await asyncio.sleep(WITHHOLD_SECONDS)  # every process has stopped handing it out
        applied = await apply_replace(self.db, staged, existing.pk, self.clock)
        await discard_staged(self.db, staged)
        return ok_report(
            header,
            replaced=True,
            counts=(applied.moved, applied.had, applied.retired),
            gold=applied.gold,
            warnings=load_warnings(needs, kept, header),
        )

    def _refused(self) -> LoadReport:
        reader, header = self.reader, self.header
        return LoadReport(
            header.id if header else (reader.raw_id or reader.source.stem),
            ok=False,
            errors=reader.errors.as_list(),
            error_count=reader.errors.total,
            stopped_at_line=reader.errors.stopped_at,
            currency=header.currency if header else "EUR",
        )


_GONE = (
    "the load was stopped: another process took it for abandoned (no sign of life for"
    f" {ABANDONED_AFTER.seconds // 60} minutes) and threw it away; nothing was imported,"
    " load the pack again"
)


# -- the steps, each one transaction ------------------------------------------------------------


def _start(tx: Tx, pack_id: str, columns: PackColumns | None, now: str, token: str) -> int:
    return db_packs.start_load(tx, pack_id, columns, now, token)


def _enlarge_cache(tx: Tx) -> int | None:
    """The page cache enlarged for the load; the value to put back after (None: another load
    of this connection enlarged it and puts it back)."""
    previous = db_packs.set_cache_size(tx, LOAD_CACHE_KIB)
    return None if previous == -LOAD_CACHE_KIB else previous


def _restore_cache(tx: Tx, previous: int | None) -> None:
    if previous is not None:
        db_packs.restore_cache_size(tx, previous)


def _write_batch(tx: Tx, staged: int, remaining: int, batch: TaskBatch, now: str) -> list[int]:
    if not db_packs.touch_load(tx, staged, now):
        raise LoadGone
    refused = db_packs.write_tasks(tx, staged, remaining, batch.rows)
    if batch.media:
        media_db.write(
            tx,
            staged,
            [(task_id, m.kind, m.source, m.ref, m.key, m.size) for task_id, m in batch.media],
        )
    return refused


def _make_pack(
    tx: Tx,
    staged: int,
    header: PackHeader,
    reader: PackReader,
    tasks: int,
    dry_run: bool,
    now: str,
) -> LoadReport | None:
    """A new pack's last step: its checks, then its staged row made the pack (unless a dry
    run). None (errors in reader.errors) when it is refused."""
    if db_packs.pack_by_id(tx, header.id) is not None:  # loaded meanwhile by another load
        _exists_error(reader, header)
        return None
    gold, _, _ = gold_db.span(tx, staged)
    quality = quality_block(header)
    needs = rules.gold_needs(gold, rules.QualitySettings.from_header(quality))
    if needs.refused is not None:
        line = reader.header_lines.get("quality", reader.header_line)
        reader.errors.add(line, None, "quality.qualification", needs.refused)
        return None
    if not dry_run:
        if not db_packs.touch_load(tx, staged, now):
            raise LoadGone
        db_packs.make_pack(tx, staged, header.id, now)
    return ok_report(
        header,
        replaced=False,
        counts=(tasks, 0, 0),
        gold=gold,
        warnings=load_warnings(needs, [], header),
        dry_run=dry_run,
    )


def _exists_error(reader: PackReader, header: PackHeader) -> None:
    reader.errors.add(
        reader.header_lines.get("id", reader.header_line),
        None,
        "id",
        f'pack "{header.id}" already exists; use --replace to update it'
        " (answers already given are kept)",
    )


def _replace_checks(
    tx: Tx, staged: int, pack_pk: int, header: PackHeader, reader: PackReader
) -> tuple[rules.GoldNeeds, list[gold_db.KeptDecision], int] | None:
    """What a replace is checked for at its commit point: the gold it leaves (enough for the
    qualification), and the operators' decisions it keeps. None (errors in reader.errors): it
    is refused."""
    existing = db_packs.pack_by_pk(tx, pack_pk)
    assert existing is not None
    check_replace(tx, reader, header, existing)
    gold = db_packs.gold_after_replace(tx, staged, pack_pk)
    needs = rules.gold_needs(gold, rules.QualitySettings.from_header(quality_block(header)))
    if needs.refused is not None:
        line = reader.header_lines.get("quality", reader.header_line)
        reader.errors.add(line, None, "quality.qualification", needs.refused)
    if reader.errors:
        return None
    return needs, gold_db.decisions_a_replace_keeps(tx, pack_pk, staged), gold


def _commit_replace(
    tx: Tx, staged: int, pack_pk: int, header: PackHeader, reader: PackReader, now: str
) -> tuple[rules.GoldNeeds, list[gold_db.KeptDecision], int] | None:
    """A replace's commit point: checked again (answers may have come meanwhile), the new
    header written, and the pack withheld until the file's tasks are applied."""
    if db_packs.replace_under_way(tx, pack_pk):
        reader.errors.add(None, None, None, _ANOTHER_REPLACE)
        return None
    outcome = _replace_checks(tx, staged, pack_pk, header, reader)
    if outcome is None:
        return None
    if not db_packs.touch_load(tx, staged, now):
        raise LoadGone
    db_packs.update_pack(tx, pack_pk, _columns(header), now)
    db_packs.set_load_phase(tx, staged, "retiring", now, replaces=pack_pk)
    return outcome


_ANOTHER_REPLACE = (
    "another replace of this pack is being applied: send the file again in a few seconds"
)


def _columns(header: PackHeader) -> PackColumns:
    return PackColumns(
        id=header.id,
        title=header.title,
        instructions=header.instructions,
        type=header.type,
        options=tuple(Option(option.id, option.label) for option in header.options),
        reward_micros=header.reward_micros,
        currency=header.currency,
        overlap=header.overlap,
        lease_seconds=header.lease_seconds,
        header=header.to_json(),
    )
