"""The `packs` figures say what they count: regular answers against the answers wanted, check
answers apart, complete tasks only regular ones with all their answers, and a complete count
that never goes back for a pack that does not change."""

from __future__ import annotations

from db import Database, Tx
from db import answers as answers_db
from tasks.clock import FakeClock
from tasks.packs import pack_progress
from tasks.work import WorkService
from tests.helpers import GoldPack, honest, newcomer, work_on


async def test_check_answers_are_counted_apart_and_complete_tasks_stay_complete(
    db: Database, work: WorkService, clock: FakeClock, gold_pack: GoldPack
) -> None:
    # 4 regular tasks, 2 gold: each worker trains on both gold tasks, then no checks (rate 0).
    truth = await gold_pack(tasks=4, gold=2, quality={"qualification": 2, "gold_ratio": 0})
    for worker in (1, 2):
        card = await newcomer(work, worker)
        await work_on(work, clock, worker, card, honest(truth), answers=6)

    (row,) = await pack_progress(db)
    # Two agreeing workers close each task (dynamic overlap: min_overlap 2; both right on both
    # training questions, so the label's posterior is 0.98, above the 0.9 target).
    assert (row.tasks, row.tasks_complete) == (4, 4)  # the 2 gold tasks are not tasks to do
    assert (row.answers, row.answers_wanted) == (8, 12)  # 4 training answers not among them
    assert (row.gold_tasks, row.gold_answers) == (2, 4)
    assert row.percent == 100.0  # complete: all their answers, fewer than the overlap
    assert row.spent_micros == 12 * 20_000  # every answer paid, training included

    # A suspended worker's answers stop counting: results reopen the task (done = 0) and it
    # gets its slots back. It was complete: it stays counted as such.
    task_pk = await db.value("SELECT pk FROM tasks WHERE task_id = 't000'")

    def reopen(tx: Tx) -> None:
        answers_db.set_task_result(tx, task_pk, None, 0.5, 1, False)

    await db.run(reopen)
    (after,) = await pack_progress(db)
    assert (after.tasks_complete, after.percent) == (4, 100.0)
    assert (after.answers, after.gold_answers) == (8, 4)
