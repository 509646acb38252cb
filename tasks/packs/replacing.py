"""A replace past its commit point, applied a step at a time (each step one transaction, each
one safe to run again), and the loads a crash left: finished (a replace past its commit point)
or thrown away. tasks/packs/loading.py runs a load up to that point; docs/packs.md tells the
whole story."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from db import gold as gold_db
from db import packs as db_packs
from db.core import Database, Tx, to_db_time
from db.packs import LOAD_STEP
from tasks import answer_types
from tasks.clock import Clock

log = logging.getLogger(__name__)
T = TypeVar("T")

# A load touches its pack_loads row with every batch and step (tasks/packs/loading.py); one
# untouched for ABANDONED_AFTER was left by a crash.
ABANDONED_AFTER = timedelta(minutes=2)


class LoadGone(Exception):
    """The load's staged row was thrown away under it (taken for abandoned)."""


@dataclass
class _Applied:
    had: int = 0  # the file's tasks the pack had (updated where they differed)
    moved: int = 0  # the file's tasks it had not (added)
    retired: int = 0
    gold: int = 0


async def apply_replace(db: Database, staged: int, pack_pk: int, clock: Clock) -> _Applied:
    """Applies a committed replace, a step at a time; every step can run again (a replace a
    crash interrupted is finished by running this again). The pack is withheld throughout and
    handed out again at the end."""
    applied = _Applied()
    load = await db.run_read(db_packs.load_of, staged)
    if load is None:
        return applied
    if load.phase == "retiring":
        low, high = await db.run_read(db_packs.pack_span, pack_pk)
        applied.retired = await _steps(db, staged, clock, db_packs.retire_step, pack_pk, low, high)
        await db.run(_set_phase, staged, "applying", to_db_time(clock.now()))
        load = dataclasses.replace(load, phase="applying")
    if load.phase == "applying":
        low, high = await db.run_read(db_packs.pack_span, staged)
        for start in range(low, high + 1, LOAD_STEP):
            had, moved = await db.run(
                _step, staged, to_db_time(clock.now()), db_packs.apply_step, pack_pk, start
            )
            applied.had += had
            applied.moved += moved
        applied.gold, overlap = await db.run(_settle, pack_pk)
        low, high = await db.run_read(db_packs.pack_span, pack_pk)
        for start in range(low, high + 1, LOAD_STEP):
            await db.run(_recompute, staged, to_db_time(clock.now()), pack_pk, overlap, start)
        await db.run(_set_phase, staged, "discarding", to_db_time(clock.now()))
    return applied


async def _steps(
    db: Database,
    staged: int,
    clock: Clock,
    step: Callable[[Tx, int, int, int, int], int],
    pack_pk: int,
    low: int,
    high: int,
) -> int:
    total = 0
    for start in range(low, high + 1, LOAD_STEP):
        total += await db.run(_step, staged, to_db_time(clock.now()), step, pack_pk, start)
    return total


def _step(
    tx: Tx,
    staged: int,
    now: str,
    step: Callable[[Tx, int, int, int, int], T],
    pack_pk: int,
    low: int,
) -> T:
    if not db_packs.touch_load(tx, staged, now):
        raise LoadGone
    return step(tx, staged, pack_pk, low, low + LOAD_STEP - 1)


def _recompute(tx: Tx, staged: int, now: str, pack_pk: int, overlap: int, low: int) -> None:
    if not db_packs.touch_load(tx, staged, now):
        raise LoadGone
    db_packs.recompute_step(tx, pack_pk, overlap, low, low + LOAD_STEP - 1)


def _set_phase(tx: Tx, staged: int, phase: str, now: str) -> None:
    db_packs.set_load_phase(tx, staged, phase, now)


def _settle(tx: Tx, pack_pk: int) -> tuple[int, int]:
    """After the file's tasks are applied: the operators' gold decisions win over the file, the
    verdicts stored with gold answers follow the gold as it now is. Returns (gold tasks in
    service, the overlap)."""
    gold_db.reapply_decisions(tx, pack_pk)
    _rescore_gold_answers(tx, pack_pk)
    gold, _, _ = gold_db.span(tx, pack_pk)
    pack = db_packs.pack_by_pk(tx, pack_pk)
    assert pack is not None
    return gold, pack.overlap


async def compare_staged(db: Database, staged: int, pack_pk: int) -> tuple[int, int, int]:
    """(the file's tasks the pack has, those it has not, its tasks in service the file lacks),
    read a step at a time."""
    had = added = missing = 0
    low, high = await db.run_read(db_packs.pack_span, staged)
    for start in range(low, high + 1, LOAD_STEP):
        found, new = await db.run_read(
            db_packs.compare_step, staged, pack_pk, start, start + LOAD_STEP - 1
        )
        had, added = had + found, added + new
    low, high = await db.run_read(db_packs.pack_span, pack_pk)
    for start in range(low, high + 1, LOAD_STEP):
        missing += await db.run_read(
            db_packs.missing_step, staged, pack_pk, start, start + LOAD_STEP - 1
        )
    return had, added, missing


async def discard_staged(db: Database, staged: int) -> None:
    """Throws a staged pack away, a step at a time."""
    while not await db.run(db_packs.discard_step, staged):
        pass


async def recover_loads(
    db: Database, clock: Clock, *, older_than: timedelta = ABANDONED_AFTER
) -> int:
    """Finishes the replaces and throws away the other loads that a crash left (untouched for
    `older_than`); returns how many there were."""
    now = clock.now()
    loads = await db.run(
        db_packs.claim_abandoned_loads, to_db_time(now - older_than), to_db_time(now)
    )
    for load in loads:
        log.warning(
            "pack load of %r (phase %s) left since %s: %s",
            load.pack_id,
            load.phase,
            load.touched_at,
            "finishing it" if load.phase in ("retiring", "applying") else "throwing it away",
        )
        if load.phase in ("retiring", "applying") and load.replaces is not None:
            await apply_replace(db, load.staged_pk, load.replaces, clock)
        await discard_staged(db, load.staged_pk)
    return len(loads)


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
