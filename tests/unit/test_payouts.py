"""Payouts and bonuses as an operator runs them: export who is owed, mark the file paid (twice
by mistake: paid once), grant a bonus whose reason the worker reads."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from db import Database, Tx
from tasks.clock import FakeClock
from tasks.payouts import (
    EXPORT_ID,
    PayoutError,
    PayoutRow,
    adjust,
    export_payouts,
    grant_bonus,
    mark_paid,
    read_csv,
    write_csv,
)


async def owed(db: Database, worker: int, micros: int, currency: str = "EUR") -> None:
    def seed(tx: Tx) -> None:
        tx.execute(
            "INSERT OR IGNORE INTO workers (id, first_name, language, created_at, last_seen_at)"
            " VALUES (?, ?, 'fr', 'x', 'x')",
            (worker, f"Worker {worker}"),
        )
        tx.execute(
            "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
            " idempotency_key, created_at) VALUES (?, 'reward', ?, ?, 'r', ?, 'x')",
            (worker, micros, currency, f"seed:{worker}:{currency}:{micros}"),
        )

    await db.run(seed)


async def value(db: Database, sql: str) -> object:
    return (await db.query(sql))[0][0]


async def test_export_lists_who_is_owed_at_least_the_minimum_in_exact_amounts(
    db: Database, tmp_path: Path
) -> None:
    await owed(db, 1, 12_345_678)
    await owed(db, 2, 3_000_000)
    await owed(db, 1, 10_000_000, "USD")
    export = await export_payouts(db, 10_000_000)
    assert EXPORT_ID.fullmatch(export.id)
    out = io.StringIO()
    write_csv(export.rows, out)
    assert out.getvalue().splitlines() == [
        "id,name,amount,currency,export",
        f"1,Worker 1,12.345678,EUR,{export.id}",
        f"1,Worker 1,10,USD,{export.id}",
    ]
    path = tmp_path / "pay.csv"
    path.write_text(out.getvalue())
    assert read_csv(path) == [
        PayoutRow(1, "Worker 1", 12_345_678, "EUR", export.id),
        PayoutRow(1, "Worker 1", 10_000_000, "USD", export.id),
    ]
    assert await value(db, "SELECT lines FROM payout_exports") == 2


async def test_marking_the_same_file_paid_twice_pays_once(db: Database) -> None:
    await owed(db, 1, 20_000_000)
    export = await export_payouts(db, 1)
    batch = [replace(export.rows[0], amount_micros=15_000_000)]  # paid part of it
    first = await mark_paid(db, batch, FakeClock())
    second = await mark_paid(db, batch, FakeClock())
    assert (len(first.recorded), len(second.recorded), len(second.already)) == (1, 0, 1)
    assert await value(db, "SELECT SUM(amount_micros) FROM ledger WHERE worker_id = 1") == (
        5_000_000
    )
    assert await value(db, "SELECT COUNT(*) FROM outbox WHERE kind = 'payout'") == 1


async def test_a_file_paying_more_than_is_owed_is_refused_whole(
    db: Database, clock: FakeClock
) -> None:
    await owed(db, 1, 20_000_000)
    await owed(db, 2, 2_000_000)
    export = await export_payouts(db, 1, clock=clock)
    zone = clock.now().tzinfo
    assert zone is not None
    await adjust(db, 2, -1_500_000, "EUR", "counted twice", zone=zone, clock=clock)
    with pytest.raises(PayoutError) as refused:
        await mark_paid(db, export.rows, clock)
    assert str(refused.value) == "worker 2: 2 EUR is more than the 0.5 EUR owed"
    assert await value(db, "SELECT COUNT(*) FROM ledger WHERE kind = 'payout'") == 0


async def test_the_same_bonus_run_twice_by_mistake_pays_once(db: Database) -> None:
    await owed(db, 1, 1)
    clock = FakeClock()
    zone = clock.now().tzinfo
    assert zone is not None
    first = await grant_bonus(db, 1, 2_000_000, "EUR", "Gold streak", zone=zone, clock=clock)
    again = await grant_bonus(db, 1, 2_000_000, "EUR", "Gold streak", zone=zone, clock=clock)
    assert first.created and not again.created and first.key == again.key
    keyed = await grant_bonus(db, 1, 2_000_000, "EUR", "Gold streak", zone=zone, key="extra-1")
    assert keyed.created
    assert await value(db, "SELECT COUNT(*) FROM ledger WHERE kind = 'bonus'") == 2
    assert await value(db, "SELECT COUNT(*) FROM outbox WHERE kind = 'bonus'") == 2


def cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_PATH": str(db), "PTB_TIMEDELTA": "1"}
    env.pop("BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=db.parent,
    )


async def test_the_payout_commands_from_export_to_mark_paid_twice(tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite3"
    async with Database(path) as db:
        await owed(db, 7, 25_500_000)
        await owed(db, 8, 4_000_000)
    export = cli("payouts", "export", "--min", "10", "--out", str(tmp_path / "p.csv"), db=path)
    assert export.returncode == 0, export.stderr
    export_id = export.stderr.split()[1].rstrip(":")
    assert export.stderr == f"export {export_id}: 1 worker written to {tmp_path / 'p.csv'}\n"
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[1:] == [f"7,Worker 7,25.5,EUR,{export_id}"]
    first = cli("payouts", "mark-paid", str(tmp_path / "p.csv"), db=path)
    second = cli("payouts", "mark-paid", str(tmp_path / "p.csv"), db=path)
    assert first.stdout.startswith(f"{export_id}: 1 payouts recorded (25.50 EUR), 0 already")
    assert second.stdout.splitlines() == [
        f"{export_id}: 0 payouts recorded (0.00 EUR), 1 already recorded before (not recorded"
        " again); each worker paid is told by the bot",
        f"the one line of {tmp_path / 'p.csv'} was recorded before: nothing recorded twice",
    ]
    bonus = cli("bonus", "8", "1.50", "--reason", "Thanks", db=path)
    assert bonus.returncode == 0 and "key bonus:8:1500000:EUR:" in bonus.stdout
    assert "already recorded" in cli("bonus", "8", "1.50", "--reason", "Thanks", db=path).stdout
    bad = cli("bonus", "8", "1.5x", "--reason", "Thanks", db=path)
    assert bad.returncode == 1 and "not a decimal amount" in bad.stderr
    preview = cli("statements", "preview", "--week", "2026-W48", db=path)
    assert preview.returncode == 0 and "week 2026-W48" in preview.stdout
    send = cli("statements", "send", "--week", "2026-W48", db=path)  # no BOT_TOKEN needed
    assert send.returncode == 0, send.stderr
    assert "week 2026-W48: no statement waiting for a later time" in send.stdout
    assert "the bot sends them" in send.stdout
    bad_setting = subprocess.run(
        [sys.executable, "-m", "bot", "packs"],
        env={**os.environ, "DATABASE_PATH": str(path), "QUIET_HOURS": "late"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad_setting.returncode == 2
    assert bad_setting.stderr.strip().splitlines() == [
        "error: setting QUIET_HOURS: not a range of hours: 'late' (e.g. 22:00-08:00, or off)"
    ]
