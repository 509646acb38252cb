"""Earnings derived from the ledger: exact sums, weeks in the worker's time zone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from db import Database
from tasks.clock import FakeClock
from tasks.earnings import EarningsService
from tasks.work import TaskCard, WorkService
from tests.test_work import answer, join

Loader = Callable[..., Any]


async def test_balance_sums_are_exact_per_week(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    from zoneinfo import ZoneInfo

    await load(tasks=5, overlap=1, reward="0.005")
    card = await join(work, 1)
    for _ in range(3):
        assert isinstance(card, TaskCard)
        card = (await answer(work, 1, card)).next
    clock.advance(days=7)
    resumed = await work.resume(1)  # the lease ran out meanwhile: a fresh task
    assert resumed is not None and isinstance(resumed[1], TaskCard)
    assert resumed[1].assignment_id != getattr(card, "assignment_id", None)
    await answer(work, 1, resumed[1])
    balance = await EarningsService(db, clock).balance(1, ZoneInfo("Europe/Paris"))
    assert balance.tasks_this_week == 1 and balance.tasks_total == 4
    assert balance.earned_this_week == {"EUR": 5_000}
    assert balance.earned_total == {"EUR": 20_000}
