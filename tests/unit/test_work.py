"""The worker loop's rules, told as stories, on a real temporary SQLite and a still clock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from db import Database
from db.assignments import PICK_SQL
from tasks.clock import FakeClock
from tasks.work import WorkService, language_for
from tasks.work_results import NoTask, Outcome, TaskCard
from tests.helpers import enrol, press_card

Loader = Callable[..., Any]


def test_language_follows_the_phone_then_the_default() -> None:
    assert language_for("fr-CA", "en") == "fr"
    assert language_for("en", "fr") == "en"
    assert language_for("de", "fr") == "fr"
    assert language_for(None, "en") == "en"


async def test_no_task_before_consent(work: WorkService, load: Loader) -> None:
    await load()
    await enrol(work, 1, consent=False)
    resumed = await work.resume(1)
    assert resumed is not None
    assert resumed[1] == NoTask("consent")


async def test_an_answer_is_recorded_credited_and_the_next_task_follows(
    work: WorkService, load: Loader, db: Database
) -> None:
    await load(tasks=3)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    result = await press_card(work, 1, card, 1)
    assert result.outcome is Outcome.RECORDED
    assert result.option.id == "neg"
    assert isinstance(result.next, TaskCard)
    assert result.next.assignment_id != card.assignment_id
    entries = await db.query("SELECT kind, amount_micros, currency FROM ledger")
    assert [tuple(e) for e in entries] == [("reward", 20_000, "EUR")]


async def test_a_double_tap_stores_and_pays_once(work: WorkService, load: Loader, db: Database):
    await load(tasks=3)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    first = await press_card(work, 1, card, 0)
    second = await press_card(work, 1, card, 2)
    assert (first.outcome, second.outcome) == (Outcome.RECORDED, Outcome.ALREADY)
    assert second.next == first.next  # the screen they already have, nothing more leased
    assert await db.value("SELECT COUNT(*) FROM ledger") == 1
    assert (
        await db.value("SELECT answer FROM assignments WHERE id = ?", (card.assignment_id,))
        == "pos"
    )


async def test_a_press_delivered_again_after_a_crash_stores_nothing_more(
    work: WorkService, load: Loader, db: Database
) -> None:
    await load(tasks=3)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    kwargs = {"worker_id": 1, "assignment_id": card.assignment_id, "choice": 0}
    assert (await work.answer(**kwargs)).outcome is Outcome.RECORDED
    assert (await work.answer(**kwargs)).outcome is Outcome.ALREADY
    assert await db.value("SELECT COUNT(*) FROM ledger") == 1
    assert await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'open'") == 1


async def test_forged_presses_store_nothing(work: WorkService, load: Loader, db: Database) -> None:
    await load(tasks=3)
    mine = await enrol(work, 1)
    await enrol(work, 2)
    assert isinstance(mine, TaskCard)
    assert (await press_card(work, 2, mine)).outcome is Outcome.NOT_YOURS
    assert (await press_card(work, 1, mine, 3)).outcome is Outcome.INVALID  # 3 options: 0..2
    unknown = await work.answer(worker_id=1, assignment_id=999_999, choice=0)
    assert unknown.outcome is Outcome.INVALID
    stranger = await work.answer(worker_id=42, assignment_id=mine.assignment_id, choice=0)
    assert stranger.outcome is Outcome.UNKNOWN_WORKER
    assert await db.value("SELECT COUNT(*) FROM ledger") == 0
    assert await db.value("SELECT COUNT(*) FROM assignments WHERE status != 'open'") == 0


async def test_each_task_gets_overlap_answers_from_distinct_workers(
    work: WorkService, load: Loader, db: Database
) -> None:
    await load(tasks=4, overlap=2)
    seen: dict[int, set[str]] = {}
    for worker_id in range(1, 6):
        card = await enrol(work, worker_id)
        while isinstance(card, TaskCard):
            seen.setdefault(worker_id, set())
            assert card.text not in seen[worker_id], "a worker saw a task twice"
            seen[worker_id].add(card.text)
            card = (await press_card(work, worker_id, card)).next
        assert card == NoTask("empty")
    answers = await db.query("SELECT answers, remaining FROM tasks")
    pairs = await db.value(
        "SELECT COUNT(*) FROM (SELECT worker_id, task_pk FROM assignments"
        " GROUP BY worker_id, task_pk HAVING COUNT(*) > 1)"
    )
    assert [tuple(r) for r in answers] == [(2, 0)] * 4
    assert pairs == 0


async def test_a_skip_counts_as_seen_and_frees_the_slot(work: WorkService, load: Loader) -> None:
    await load(tasks=1, overlap=1)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    skipped = await press_card(work, 1, card, None)
    assert skipped.outcome is Outcome.SKIPPED
    assert skipped.next == NoTask("empty")  # the only task, already seen
    other = await enrol(work, 2)
    assert isinstance(other, TaskCard) and other.text == card.text


async def test_an_expired_lease_returns_the_task_and_a_late_press_is_not_counted(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    await load(tasks=1, overlap=1, lease_seconds=60)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    assert await enrol(work, 2) == NoTask("empty")
    clock.advance(seconds=61)
    assert await work.expire_leases() == 1
    taken = await work.resume(2)
    assert taken is not None and isinstance(taken[1], TaskCard)
    late = await press_card(work, 1, card)
    assert late.outcome is Outcome.EXPIRED
    assert await db.value("SELECT COUNT(*) FROM ledger") == 0


async def test_a_press_after_the_lease_ran_out_is_refused_even_before_the_job_runs(
    work: WorkService, load: Loader, clock: FakeClock
) -> None:
    await load(tasks=2, overlap=1, lease_seconds=60)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    clock.advance(seconds=60)
    late = await press_card(work, 1, card)
    assert late.outcome is Outcome.EXPIRED
    assert isinstance(late.next, TaskCard)  # the other task; the expired one was seen


async def test_tasks_nearer_completion_come_first(work: WorkService, load: Loader) -> None:
    await load(tasks=3, overlap=3)
    first = await enrol(work, 1)
    assert isinstance(first, TaskCard)
    await press_card(work, 1, first)
    # Task t000 has one answer; a new worker gets it before the untouched t001 and t002.
    second = await enrol(work, 2)
    assert isinstance(second, TaskCard) and second.text == first.text


async def test_pause_releases_the_open_task_and_stops_pushes(
    work: WorkService, load: Loader
) -> None:
    await load(tasks=1, overlap=1)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    await work.pause(1)
    other = await enrol(work, 2)
    assert isinstance(other, TaskCard)
    late = await press_card(work, 1, card)
    assert late.outcome is Outcome.EXPIRED
    assert late.next == NoTask("paused")


async def test_two_hundred_workers_at_once_never_pass_the_overlap(
    work: WorkService, load: Loader, db: Database
) -> None:
    await load(tasks=10, overlap=3)
    cards = await asyncio.gather(*(enrol(work, w) for w in range(1, 201)))
    leased = [c for c in cards if isinstance(c, TaskCard)]
    assert len(leased) == 30
    results = await asyncio.gather(
        *(press_card(work, w, c) for w, c in enumerate(cards, 1) if isinstance(c, TaskCard))
    )
    assert Counter(r.outcome for r in results) == {Outcome.RECORDED: 30}
    counts = await db.query("SELECT answers, remaining FROM tasks")
    paid = await db.value("SELECT SUM(amount_micros) FROM ledger")
    assert all(tuple(r) == (3, 0) for r in counts)
    assert paid == 30 * 20_000


async def test_a_blocked_worker_gets_nothing_until_they_write_again(
    work: WorkService, load: Loader
) -> None:
    await load(tasks=2, overlap=1)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    await work.mark_blocked(1)
    other = await enrol(work, 2)
    assert isinstance(other, TaskCard) and other.text == card.text  # released at once
    await work.meet(1, first_name="W1", username=None, language_code="en", default_language="fr")
    assert await work.db.value("SELECT blocked_at FROM workers WHERE id = 1") is None


async def test_waiting_workers_hear_of_new_work_once(work: WorkService, load: Loader) -> None:
    await load(pack_id="first", tasks=1, overlap=1)
    card = await enrol(work, 1)
    assert isinstance(card, TaskCard)
    assert (await press_card(work, 1, card)).next == NoTask("empty")
    assert await work.workers_to_tell_of_new_work() == []
    await load(pack_id="second", tasks=1, overlap=1)
    work.forget_packs()  # in the bot, packs are read again within a second
    ready = await work.workers_to_tell_of_new_work()
    assert [w.id for w in ready] == [1]
    await work.told_of_new_work(1)
    assert await work.workers_to_tell_of_new_work() == []


async def test_the_next_task_pick_uses_the_index(db: Database, load: Loader) -> None:
    await load(tasks=50)
    plan = await db.query("EXPLAIN QUERY PLAN " + PICK_SQL, (1, 1))
    details = " | ".join(row["detail"] for row in plan)
    assert "USING INDEX tasks_pick" in details or "USING COVERING INDEX tasks_pick" in details
    assert "SCAN t " not in details + " " and "USE TEMP B-TREE" not in details
