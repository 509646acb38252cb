"""What a load checks beyond the file itself (a replace keeps the options stored answers chose,
and the answer type), what it tells the operator (warnings, duplicate ids with the line of the
first), and its report (LoadReport)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from db import gold as gold_db
from db import packs as db_packs
from db.core import Tx
from db.packs import PackInfo
from tasks.answer_types import multi_choice
from tasks.packs.errors import PackError
from tasks.packs.format import PackHeader
from tasks.packs.reader import PackReader
from tasks.quality import rules


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
    dry_run: bool = False  # checked, not loaded: what a load (or a replace) would do


def ok_report(
    header: PackHeader,
    *,
    replaced: bool,
    counts: tuple[int, int, int],
    gold: int,
    warnings: list[str],
    dry_run: bool = False,
) -> LoadReport:
    added, updated, retired = counts
    total = added + updated
    return LoadReport(
        header.id,
        ok=True,
        created=not replaced,
        replaced=replaced,
        tasks_added=added,
        tasks_updated=updated,
        tasks_retired=retired,
        tasks_total=total,
        budget_micros=total * header.overlap * header.reward_micros,
        currency=header.currency,
        overlap=header.overlap,
        reward_micros=header.reward_micros,
        warnings=warnings,
        gold_tasks=gold,
        gold_ratio=rules.QualitySettings.from_header(quality_block(header)).gold_ratio,
        dry_run=dry_run,
    )


def quality_block(header: PackHeader) -> dict[str, Any] | None:
    return header.quality.model_dump(exclude_unset=True) if header.quality else None


def load_warnings(
    needs: rules.GoldNeeds, kept: list[gold_db.KeptDecision], header: PackHeader
) -> list[str]:
    return ([needs.warning] if needs.warning else []) + kept_warnings(kept, quality_block(header))


def kept_warnings(kept: list[gold_db.KeptDecision], quality: dict[str, object] | None) -> list[str]:
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
PENDING_DUPLICATE = "duplicate task id"


def duplicate(first_line: int | None) -> str:
    where = f" (first on line {first_line})" if first_line is not None else ""
    return f"duplicate task id{where}"


def name_first_lines(reader: PackReader) -> None:
    errors = reader.errors
    pending = {e.task_id for e in errors.items if e.message == PENDING_DUPLICATE and e.task_id}
    if not pending:
        return
    first = reader.first_lines(pending)

    def name_first_line(error: PackError) -> PackError:
        if error.message != PENDING_DUPLICATE or error.task_id is None:
            return error
        return dataclasses.replace(error, message=duplicate(first.get(error.task_id)))

    errors.rewrite(name_first_line)


def check_replace(tx: Tx, reader: PackReader, header: PackHeader, existing: PackInfo) -> None:
    """A replace must keep every option that stored answers chose, and the answer type."""
    if existing.type != header.type:
        if db_packs.has_answers(tx, existing.pk):
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
    removed = [option.id for option in existing.options if option.id not in kept]
    if not removed:
        return
    if header.type == "multi_choice":  # answers are sets of options: count each option
        used: dict[str, int] = {}
        for answer, count in db_packs.answers_by_option(tx, existing.pk).items():
            for option in multi_choice.decode(answer):
                used[option] = used.get(option, 0) + count
    else:
        used = db_packs.answers_by_option(tx, existing.pk, removed)
    gone = {answer: count for answer, count in sorted(used.items()) if answer not in kept}
    if gone:
        listed = ", ".join(f'"{answer}" ({count} answers)' for answer, count in gone.items())
        reader.errors.add(
            reader.header_lines.get("options", reader.header_line),
            None,
            "options",
            f"a replace cannot remove options that stored answers chose: {listed}",
        )
