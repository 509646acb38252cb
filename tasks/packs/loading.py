"""Loading a pack file into the database: validated and written all or nothing.

The whole load is one unit of work run on the database thread (`Database.run`): the file is
read there, a batch at a time, and each batch is written as it is read, so a JSONL pack of
millions of tasks loads in bounded memory. It holds the write lock throughout (a load is the
CLI's, not the bot's). On any error in the file the unit raises and is rolled back: nothing is
imported, and the report lists every error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db import gold as gold_db
from db import media as media_db
from db import packs as db_packs
from db.core import Database, Tx, to_db_time
from db.packs import Option, PackColumns, PackInfo
from tasks import answer_types
from tasks.answer_types import multi_choice
from tasks.clock import Clock
from tasks.packs.errors import PackError
from tasks.packs.format import PackHeader
from tasks.packs.reader import PackReader
from tasks.quality import rules

# The page cache (KiB) while a load runs: the unique (pack_pk, task_id) index of a big pack with
# ids in random order would otherwise be read back from disk for most rows.
LOAD_CACHE_KIB = 64 * 1024

# on_progress(bytes_read, total_bytes, tasks_read), called after every batch.
ProgressCallback = Callable[[int, int, int], None]


@dataclass(frozen=True)
class LoadReport:
    """The outcome of load_pack. When not ok, nothing was imported and the counts are 0."""

    pack_id: str
    ok: bool
    created: bool = False
    replaced: bool = False
    tasks_added: int = 0
    tasks_updated: int = 0
    tasks_retired: int = 0
    tasks_total: int = 0  # the tasks of the file, now in service
    errors: list[PackError] = field(default_factory=list)
    budget_micros: int = 0  # tasks_total * overlap * reward
    currency: str = "EUR"
    overlap: int = 0
    reward_micros: int = 0
    error_count: int = 0  # all errors found, including those past the MAX_ERRORS listed
    # Reading stopped after this line, with more than MAX_ERRORS errors (None: read to the end).
    stopped_at_line: int | None = None
    warnings: list[str] = field(default_factory=list)  # loaded, but the operator should know
    gold_tasks: int = 0  # check questions among tasks_total
    gold_ratio: float = 0.0  # the share of check questions a worker is shown (quality block)


class _Refused(Exception):
    """Raised inside the load's unit of work to roll it back; carries the report to return."""

    def __init__(self, report: LoadReport) -> None:
        super().__init__(report.pack_id)
        self.report = report


class _Stopped(Exception):
    """Raised inside the load's unit of work when its caller was cancelled (Ctrl-C)."""


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
    media_files: bool = True,
) -> LoadReport:
    """Validates and loads a pack file, all or nothing, in one transaction.

    A JSONL pack is streamed (bounded memory); a JSON pack is read whole (keep those small).
    Validation happens while the tasks are written; on any error the transaction is rolled back
    and the report lists the errors (the first MAX_ERRORS: reading stops after them). An
    existing pack id is refused unless `replace`: then the header is updated, tasks are upserted
    by id (answers kept), tasks missing from the file are retired, and each task's remaining
    slots are recomputed. A replace cannot remove an option that stored answers chose.

    `on_progress(bytes_read, total_bytes, tasks_read)` is called after every batch, on the
    database thread (the event loop is not blocked meanwhile, but the database is: meant for the
    CLI). When the caller is cancelled, the load stops after the batch it is writing and is
    rolled back: nothing is imported.

    A CSV pack takes its header fields from `settings` (a Telegram caption, with the problems
    found reading it in `settings_errors`), else from its sidecar file. With `dry_run` the
    whole load is done and rolled back: the report says what a load would do.

    Media paths (tasks/media.py) are relative to the pack file and must stay inside its folder;
    with `media_files` False (a pack sent in a chat, which has no folder) only URLs and file_ids
    are accepted. A replace writes every task's media anew: tasks held or out of service for
    their media are back in service.
    """
    stop = threading.Event()
    reading = _Reading(source, settings, settings_errors, dry_run, media_files)
    try:
        return await db.run(_load, reading, replace, to_db_time(clock.now()), on_progress, stop)
    except _Refused as refused:
        return refused.report
    except asyncio.CancelledError:
        # The unit of work goes on running on the database thread: tell it to roll back.
        stop.set()
        raise


@dataclass(frozen=True)
class _Reading:
    source: Path
    settings: dict[str, Any] | None
    settings_errors: Sequence[PackError]
    dry_run: bool
    media_files: bool = True


def _load(
    tx: Tx,
    reading: _Reading,
    replace: bool,
    now: str,
    on_progress: ProgressCallback | None,
    stop: threading.Event,
) -> LoadReport:
    source = reading.source
    with PackReader(
        source, reading.settings, reading.settings_errors, media_files=reading.media_files
    ) as reader:
        header = reader.read_header()
        report = None
        if reader.readable:
            report = _write(tx, reader, header, replace, now, on_progress, stop)
        if report is None or reader.errors:
            raise _Refused(
                LoadReport(
                    header.id if header else (reader.raw_id or source.stem),
                    ok=False,
                    errors=reader.errors.as_list(),
                    error_count=reader.errors.total,
                    stopped_at_line=reader.errors.stopped_at,
                    currency=header.currency if header else "EUR",
                )
            )
        if reading.dry_run:
            raise _Refused(report)
        return report


def _write(
    tx: Tx,
    reader: PackReader,
    header: PackHeader | None,
    replace: bool,
    now: str,
    on_progress: ProgressCallback | None,
    stop: threading.Event,
) -> LoadReport | None:
    """Writes the pack and its tasks; None (or errors in reader.errors) when it is refused."""
    errors = reader.errors
    existing = db_packs.pack_by_id(tx, header.id) if header else None
    tasks_before = 0
    if header is None:
        pack_pk = db_packs.insert_scratch_pack(tx, now)
    elif existing is None:
        pack_pk = db_packs.insert_pack(tx, _columns(header), now)
    elif not replace:
        errors.add(
            reader.header_lines.get("id", reader.header_line),
            None,
            "id",
            f'pack "{header.id}" already exists; use --replace to update it'
            " (answers already given are kept)",
        )
        return None
    else:
        pack_pk = existing.pk
        _check_replace(tx, reader, header, existing)
        db_packs.update_pack(tx, pack_pk, _columns(header), now)
        tasks_before = db_packs.count_tasks(tx, pack_pk)
        db_packs.mark_tasks_unseen(tx, pack_pk)
        media_db.clear_pack(tx, pack_pk)

    writer = db_packs.TaskWriter(tx, pack_pk, remaining=header.overlap if header else 1)
    tasks_total = 0
    previous_cache = db_packs.set_cache_size(tx, LOAD_CACHE_KIB)
    try:
        for batch in reader.batches():
            if stop.is_set():
                raise _Stopped
            refused = writer.write(batch.rows)
            tasks_total += len(batch.rows) - len(refused)
            if batch.media:
                media_db.write(
                    tx,
                    pack_pk,
                    [
                        (task_id, m.kind, m.source, m.ref, m.key, m.size)
                        for task_id, m in batch.media
                    ],
                )
            for index in refused:
                errors.add(batch.lines[index], batch.rows[index][0], "id", _PENDING_DUPLICATE)
            if on_progress is not None:
                on_progress(reader.bytes_read, reader.total_bytes, reader.tasks_read)
    finally:
        db_packs.restore_cache_size(tx, previous_cache)
    _name_first_lines(reader)
    if errors or header is None:
        return None

    retired = 0
    added = tasks_total
    kept: list[gold_db.KeptDecision] = []
    if existing is not None:
        kept = gold_db.reapply_decisions(tx, pack_pk)
        _rescore_gold_answers(tx, pack_pk)
        retired = db_packs.retire_unseen_tasks(tx, pack_pk)
        db_packs.recompute_remaining(tx, pack_pk, header.overlap)
        db_packs.recompute_completed(tx, pack_pk, header.overlap)
        added = db_packs.count_tasks(tx, pack_pk) - tasks_before
    gold, _, _ = gold_db.span(tx, pack_pk)
    quality = header.quality.model_dump(exclude_unset=True) if header.quality else None
    needs = rules.gold_needs(gold, rules.QualitySettings.from_header(quality))
    if needs.refused is not None:
        line = reader.header_lines.get("quality", reader.header_line)
        errors.add(line, None, "quality.qualification", needs.refused)
        return None
    return LoadReport(
        header.id,
        ok=True,
        created=existing is None,
        replaced=existing is not None,
        tasks_added=added,
        tasks_updated=tasks_total - added,
        tasks_retired=retired,
        tasks_total=tasks_total,
        budget_micros=tasks_total * header.overlap * header.reward_micros,
        currency=header.currency,
        overlap=header.overlap,
        reward_micros=header.reward_micros,
        warnings=([needs.warning] if needs.warning else []) + _kept_warnings(kept, quality),
        gold_tasks=gold,
        gold_ratio=rules.QualitySettings.from_header(quality).gold_ratio,
    )


def _kept_warnings(
    kept: list[gold_db.KeptDecision], quality: dict[str, object] | None
) -> list[str]:
    """What the operator is told: gold decisions the file disagrees with (kept), and quality
    fields of the superseded window rule (accepted, unused)."""
    notes = []
    for item in kept:
        if item.action == "correct":
            notes.append(
                f"task {item.task_id}: the file says gold {item.file_gold!r}, but it was"
                f" corrected to {item.gold!r} after a dispute; the correction is kept (fix the"
                " file, or review the item again: python -m bot disputes review)"
            )
        else:
            notes.append(
                f"task {item.task_id}: the file still has this gold item, but it was retired"
                " after a dispute; it stays retired"
            )
    old = [name for name in rules.SUPERSEDED if quality and name in quality]
    if old:
        notes.append(
            f"quality.{', quality.'.join(old)}: superseded by the sequential test"
            ' (docs/quality.md, "The test"); accepted, and no longer used'
        )
    return notes


# A duplicate is found when the database refuses its row; the line of the first occurrence is
# looked up at the end, for the duplicates among the errors kept (rereads the file: errors only).
_PENDING_DUPLICATE = "duplicate task id"


def _duplicate(first_line: int | None) -> str:
    where = f" (first on line {first_line})" if first_line is not None else ""
    return f"duplicate task id{where}"


def _name_first_lines(reader: PackReader) -> None:
    errors = reader.errors
    pending = {e.task_id for e in errors.items if e.message == _PENDING_DUPLICATE and e.task_id}
    if not pending:
        return
    first = reader.first_lines(pending)

    def name_first_line(error: PackError) -> PackError:
        if error.message != _PENDING_DUPLICATE or error.task_id is None:
            return error
        return dataclasses.replace(error, message=_duplicate(first.get(error.task_id)))

    errors.rewrite(name_first_line)


def _check_replace(tx: Tx, reader: PackReader, header: PackHeader, existing: PackInfo) -> None:
    """A replace must keep every option that stored answers chose, and the answer type."""
    used = db_packs.answers_by_option(tx, existing.pk)
    if not used:
        return
    line = reader.header_lines.get("options", reader.header_line)
    if existing.type != header.type:
        reader.errors.add(
            reader.header_lines.get("type", reader.header_line),
            None,
            "type",
            f'the pack has answers of type "{existing.type}"; a replace cannot change it',
        )
        return
    if header.type == "text":
        return  # a text answer names no option
    kept = set(header.option_ids)
    if header.type == "multi_choice":  # answers are sets of options: count each option
        chosen: dict[str, int] = {}
        for answer, count in used.items():
            for option in multi_choice.decode(answer):
                chosen[option] = chosen.get(option, 0) + count
        used = chosen
    removed = {answer: count for answer, count in sorted(used.items()) if answer not in kept}
    if removed:
        listed = ", ".join(f'"{answer}" ({count} answers)' for answer, count in removed.items())
        reader.errors.add(
            line,
            None,
            "options",
            f"a replace cannot remove options that stored answers chose: {listed}",
        )


def _rescore_gold_answers(tx: Tx, pack_pk: int) -> None:
    """A replace may change gold keys (or a rating's tolerance, a text's max_cer): the verdicts
    stored with the answers (assignments.correct) follow the gold as it now is."""
    pack = db_packs.pack_by_pk(tx, pack_pk)
    assert pack is not None
    changed = []
    for assignment_id, answer, gold, stored in gold_db.pack_gold_verdicts(tx, pack_pk):
        right = answer_types.gold_score(pack, answer, gold) >= 1
        if stored is None or bool(stored) != right:
            changed.append((right, assignment_id))
    if changed:
        gold_db.set_correct(tx, changed)


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
