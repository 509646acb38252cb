"""Earnings derived from the ledger: exact sums, weeks in the worker's time zone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from db import Database, Tx
from tasks.clock import FakeClock
from tasks.earnings import EarningsService
from tasks.work import WorkService
from tasks.work_results import TaskCard
from tests.helpers import enrol, press_card

Loader = Callable[..., Any]


async def test_balance_sums_are_exact_per_week(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    from zoneinfo import ZoneInfo

    await load(tasks=5, overlap=1, reward="0.005")
    card = await enrol(work, 1)
    for _ in range(3):
        assert isinstance(card, TaskCard)
        card = (await press_card(work, 1, card)).next
    clock.advance(days=7)
    resumed = await work.resume(1)  # the lease ran out meanwhile: a fresh task
    assert resumed is not None and isinstance(resumed[1], TaskCard)
    assert resumed[1].assignment_id != getattr(card, "assignment_id", None)
    await press_card(work, 1, resumed[1])
    balance = await EarningsService(db, clock).balance(1, ZoneInfo("Europe/Paris"))
    assert balance.tasks_this_week == 1 and balance.tasks_total == 4
    assert balance.earned_this_week == {"EUR": 5_000}
    assert balance.earned_total == {"EUR": 20_000}


async def test_balance_shows_last_week_owed_paid_accuracy_and_hourly_rate(
    work: WorkService, load: Loader, clock: FakeClock, db: Database
) -> None:
    from zoneinfo import ZoneInfo

    from handlers.earnings import balance_screen
    from tasks.earnings import next_payout
    from tasks.payouts import export_payouts, mark_paid

    await load(tasks=5, overlap=1, reward="0.05")
    card = await enrol(work, 1)
    for choice in (0, 1):  # 45 s on each task
        assert isinstance(card, TaskCard)
        clock.advance(seconds=45)
        card = (await press_card(work, 1, card, choice)).next
    # both were checks: "pos" is right, so one of two
    await db.run(Tx.execute, "UPDATE tasks SET gold = 'pos' WHERE task_id IN ('t000', 't001')")
    clock.advance(days=7)
    export = await export_payouts(db, 1, clock=clock)  # 0.10 EUR owed: 0.04 paid
    await mark_paid(db, [replace(export.rows[0], amount_micros=40_000)], clock)
    balance = await EarningsService(db, clock).balance(1, ZoneInfo("Europe/Paris"))
    assert (balance.tasks_this_week, balance.tasks_last_week) == (0, 2)
    assert balance.earned_last_week == {"EUR": 100_000}
    assert (balance.unpaid, balance.paid) == ({"EUR": 60_000}, {"EUR": 40_000})
    assert (balance.checks, balance.correct) == (2, 1)
    assert balance.hourly("EUR") == 4_000_000  # 0.10 EUR in 90 s: 4.00 EUR/h
    payout = next_payout(clock.now().date(), 1)
    french, _ = balance_screen(balance, "fr", payout)
    assert "Semaine dernière : 2 tâches, 0,10 EUR" in french
    assert "Solde à payer : 0,06 EUR" in french and "Déjà payé : 0,04 EUR" in french
    assert "50 % (1 sur 2)" in french and "4,00 EUR/h" in french
    english, _ = balance_screen(balance, "en", payout)
    assert "Accuracy on checks: 50% (1 of 2)" in english and "Next payout: 2026-12-01" in english


def test_workers_read_each_packs_expected_hourly_rate_before_they_consent() -> None:
    from handlers.earnings import expected_rate_text
    from handlers.render import welcome_screen
    from tasks.work_results import PackSummary

    packs = [PackSummary("reviews", "Reviews <fast>", None, 20_000, "EUR")]
    rate = expected_rate_text(12_400_000, "EUR", "en")
    assert rate is not None
    text, keyboard = welcome_screen("Awa", packs, 5, "en", {"reviews": rate})
    assert "Reviews &lt;fast&gt;</b>: 0.02 EUR per task (about 12.40 EUR/h)" in text
    assert keyboard == ((("✅ I agree", "consent"),),)
    unmeasured, _ = welcome_screen("Awa", packs, 5, "fr", {})
    assert "EUR/h" not in unmeasured and "0,02 EUR par tâche" in unmeasured
