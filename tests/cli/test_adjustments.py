"""Money an operator grants or takes back by hand: bounded, once per key, told to the worker,
and counted everywhere the worker's money shows (balance, statement, payout list)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from db import Database, Tx, to_db_time
from handlers.earnings import notice_screen
from tasks.clock import FakeClock
from tasks.earnings import EarningsConfig, EarningsService
from tasks.outbox import OutboxService
from tasks.payouts import Notice, PayoutError, adjust, grant_bonus, unpaid_at_least
from tasks.statements import StatementService
from tests.helpers import cli

PARIS = ZoneInfo("Europe/Paris")


async def worker_who_earned(db: Database, clock: FakeClock, worker: int, micros: int) -> None:
    def seed(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
            " VALUES (?, 'Ana', 'fr', 'x', 'x')",
            (worker,),
        )
        tx.execute(
            "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
            " idempotency_key, created_at) VALUES (?, 'reward', ?, 'EUR', 'r', ?, ?)",
            (worker, micros, f"seed:{worker}", to_db_time(clock.now())),
        )

    await db.run(seed)


async def test_a_mistaken_bonus_taken_back_shows_in_balance_statement_and_payouts(
    db: Database, clock: FakeClock
) -> None:
    await worker_who_earned(db, clock, 1, 1_000_000)
    await grant_bonus(db, 1, 50_000_000, "EUR", "Gold streak", zone=PARIS, clock=clock)
    taken = await adjust(
        db, 1, -50_000_000, "EUR", "Bonus sent by mistake", zone=PARIS, clock=clock
    )
    assert taken.created and taken.key.startswith("adjustment:1:-50000000:EUR:")

    balance = await EarningsService(db, clock).balance(1, PARIS)
    assert balance.unpaid == {"EUR": 1_000_000}
    assert balance.earned_this_week == {"EUR": 1_000_000}
    assert [row.amount_micros for row in await unpaid_at_least(db, 500_000)] == [1_000_000]
    clock.advance(days=7)
    preview = await StatementService(db, EarningsConfig(zone=PARIS), clock).preview("2026-W48")
    assert (preview.earned, preview.unpaid) == ({"EUR": 1_000_000}, {"EUR": 1_000_000})

    outbox = OutboxService(db, EarningsConfig(zone=PARIS), clock)
    claimed, _ = await outbox.claim("interactive", 10)
    notices = [item.content for item in claimed if isinstance(item.content, Notice)]
    assert [notice.kind for notice in notices] == ["bonus", "adjustment"]
    assert notice_screen(notices[1], "fr")[0].startswith(
        "🧾 <b>Correction de votre solde : -50,00 EUR</b>\nMotif : Bonus sent by mistake"
    )
    assert "Balance correction: -50.00 EUR" in notice_screen(notices[1], "en")[0]


async def test_the_same_adjustment_run_twice_the_same_day_is_one_entry(
    db: Database, clock: FakeClock
) -> None:
    await worker_who_earned(db, clock, 1, 1_000_000)
    first = await adjust(db, 1, 2_500_000, "EUR", "Missed task", zone=PARIS, clock=clock)
    again = await adjust(db, 1, 2_500_000, "EUR", " Missed task ", zone=PARIS, clock=clock)
    clock.advance(days=1)
    next_day = await adjust(db, 1, 2_500_000, "EUR", "Missed task", zone=PARIS, clock=clock)
    assert first.created and not again.created and first.key == again.key
    assert next_day.created and next_day.key != first.key
    assert await db.value("SELECT COUNT(*) FROM ledger WHERE kind = 'adjustment'") == 2
    assert await db.value("SELECT COUNT(*) FROM outbox WHERE kind = 'adjustment'") == 2


async def test_an_adjustment_needs_an_amount_a_reason_and_a_known_worker(
    db: Database, clock: FakeClock
) -> None:
    await worker_who_earned(db, clock, 1, 1_000_000)
    with pytest.raises(PayoutError, match="of 0 changes nothing"):
        await adjust(db, 1, 0, "EUR", "x", zone=PARIS, clock=clock)
    with pytest.raises(PayoutError, match="needs a reason"):
        await adjust(db, 1, -1, "EUR", "  ", zone=PARIS, clock=clock)
    with pytest.raises(PayoutError, match="worker 2: unknown"):
        await adjust(db, 2, -1, "EUR", "x", zone=PARIS, clock=clock)
    with pytest.raises(PayoutError, match="at most 10,000"):
        await adjust(db, 1, -10_000_000_001, "EUR", "x", zone=PARIS, clock=clock)
    assert await db.value("SELECT COUNT(*) FROM ledger WHERE kind = 'adjustment'") == 0


def refused(result: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        (["bonus", "1000", "999999999999"], "too large: '999999999999' (at most 10,000)"),
        (["bonus", "1001", "1e13"], "too large: '1e13' (at most 10,000)"),
        (["bonus", "1001", "1e400"], "too large: '1e400' (at most 10,000)"),
        (["adjust", "1001", "-10000.01"], "too large: '-10000.01' (at most 10,000)"),
        (["adjust", "1001", "-1.0000001"], "at most 6 decimal places"),
    ],
)
def test_a_bonus_or_adjustment_beyond_the_bound_is_refused_in_one_line(
    tmp_path: Path, command: list[str], fragment: str
) -> None:
    result = cli(*command, "--reason", "x", db=tmp_path / "bot.sqlite3")
    refused(result, 1, fragment)
    assert result.stderr.count("\n") == 1


def test_a_payout_floor_beyond_any_amount_is_refused_in_one_line(tmp_path: Path) -> None:
    result = cli("payouts", "export", "--min", "1e30", db=tmp_path / "bot.sqlite3")
    refused(result, 1, "error: --min: too large: '1e30'")
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_a_worker_id_beyond_sqlites_integers_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    for command in ("bonus", "adjust"):
        result = cli(command, "1" * 21, "1", "--reason", "x", db=tmp_path / "bot.sqlite3")
        refused(result, 2, "not a worker's Telegram id")


async def test_adjust_from_the_shell_records_once_and_says_what_is_now_owed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        await worker_who_earned(db, FakeClock(), 8, 4_000_000)
    first = cli("adjust", "8", "-1.50", "--reason", "Bonus granted twice", db=path)
    assert first.returncode == 0, first.stderr
    recorded, owed = first.stdout.splitlines()
    assert recorded.startswith("adjustment recorded (key adjustment:8:-1500000:EUR:")
    assert owed == "worker 8 is now owed 2.50 EUR"
    again = cli("adjust", "8", "-1.50", "--reason", "Bonus granted twice", db=path)
    assert "already recorded" in again.stdout and "now owed 2.50 EUR" in again.stdout
    async with Database(path) as db:
        rows = await db.query("SELECT recipient, kind, params FROM outbox")
    assert [(row[0], row[1]) for row in rows] == [(8, "adjustment")]


async def seeded(tmp_path: Path) -> Path:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        await worker_who_earned(db, FakeClock(), 8, 4_000_000)
    return path


async def nothing_recorded_but_the_seed(path: Path) -> None:
    async with Database(path) as db:
        assert await db.value("SELECT COUNT(*) FROM ledger") == 1
        assert await db.value("SELECT COUNT(*) FROM outbox") == 0


@pytest.mark.parametrize(
    ("command", "currency"),
    [("bonus", "EURO"), ("bonus", "eur"), ("adjust", "978"), ("adjust", "<b>")],
)
async def test_a_bonus_or_adjustment_in_a_currency_that_is_not_a_code_records_nothing(
    tmp_path: Path, command: str, currency: str
) -> None:
    path = await seeded(tmp_path)
    result = cli(command, "8", "2.50", "--reason", "x", "--currency", currency, db=path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"error: not a currency code: {currency!r} (an ISO 4217 code: 3 capital letters,"
        " e.g. EUR)\n"
    )
    await nothing_recorded_but_the_seed(path)


async def test_a_reason_longer_than_a_suspensions_bound_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    path = await seeded(tmp_path)
    for command in ("bonus", "adjust"):
        result = cli(command, "8", "1", "--reason", "é" * 5000, db=path)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == (
            "error: the reason has 5,000 characters, at most 500 (the worker reads it in one"
            " Telegram message)\n"
        )
    await nothing_recorded_but_the_seed(path)
    at_the_bound = cli("bonus", "8", "1", "--reason", "é" * 500, db=path)
    assert at_the_bound.returncode == 0, at_the_bound.stderr


async def test_an_old_balance_in_a_currency_that_is_not_a_code_blocks_no_payout_file(
    tmp_path: Path,
) -> None:
    """Entries recorded before currencies were checked: left out of the export (and said),
    so the rest is paid; a negative adjustment, and only one, clears them."""
    path = await seeded(tmp_path)
    async with Database(path) as db:

        def before_the_check(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
                " idempotency_key, created_at) VALUES (8, 'bonus', 5000000, 'EURO', 'r', 'old',"
                " '2026-11-18T10:00:00.000000Z')"
            )

        await db.run(before_the_check)
    out = tmp_path / "payouts.csv"
    export = cli("payouts", "export", "--min", "1", "--out", str(out), db=path)
    assert export.returncode == 0, export.stderr
    left_out, summary = export.stderr.splitlines()
    assert left_out == (
        "left out: worker 8 (Ana) is owed 5 in 'EURO', not a currency code (recorded before"
        " currencies were checked); to clear it: python -m bot adjust 8 -5 --currency EURO"
        " --reason '...', then grant it again in a currency"
    )
    assert summary.endswith(f": 1 worker written to {out}")
    assert [line.split(",")[2:4] for line in out.read_text().splitlines()[1:]] == [["4", "EUR"]]
    paid = cli("payouts", "mark-paid", str(out), db=path)
    assert paid.returncode == 0 and "1 payouts recorded (4.00 EUR)" in paid.stdout
    too_much = cli("adjust", "8", "-6", "--currency", "EURO", "--reason", "wrong", db=path)
    assert too_much.returncode == 1
    assert too_much.stderr.endswith(
        "3 capital letters, e.g. EUR): only the 5 recorded in it before currencies were checked"
        " can be taken back\n"
    )
    bonus = cli("bonus", "8", "5", "--currency", "EURO", "--reason", "wrong", db=path)
    assert bonus.returncode == 1
    cleared = cli("adjust", "8", "-5", "--currency", "EURO", "--reason", "in EUR now", db=path)
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout.splitlines()[-1] == "worker 8 is now owed 0.00 EUR"
    again = cli("payouts", "export", "--min", "1", db=path)
    assert again.returncode == 0 and "left out" not in again.stderr


def test_a_payout_export_for_a_currency_that_is_not_a_code_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    result = cli("payouts", "export", "--min", "1", "--currency", "euro", db=tmp_path / "b.db")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "error: --currency: not a currency code: 'euro' (an ISO 4217 code: 3 capital letters,"
        " e.g. EUR)\n"
    )
