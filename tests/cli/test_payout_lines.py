"""A line of a payout export is one transfer (its export, the worker, the currency), recorded
once: marking the file again after rows were edited or removed pays nothing twice and names the
lines already recorded; a line no export wrote, a recorded line with another amount or two
exports of the same money refuse the file whole; a file from before exports is accepted only as
the very file already marked."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest

from db import Database, Tx, to_db_time
from db import ledger as ledger_db
from tasks.clock import FakeClock
from tasks.payouts import (
    LEGACY_REFUSED,
    PayoutError,
    PayoutRow,
    export_payouts,
    file_digest,
    mark_paid,
    read_csv,
    write_csv,
)
from tests.helpers import cli

NAMES = {7: "Ana", 8: "Ben", 9: "Chloé"}


def seed_owed(
    tx: Tx, owed: dict[int, int], key: str, at: str = "2026-11-18T10:00:00.000000Z"
) -> None:
    """Workers of NAMES owed these micro-units of EUR (one reward each, keyed `key`)."""
    for worker, micros in owed.items():
        tx.execute(
            "INSERT OR IGNORE INTO workers (id, first_name, language, created_at, last_seen_at)"
            " VALUES (?, ?, 'en', 'x', 'x')",
            (worker, NAMES[worker]),
        )
        tx.execute(
            "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
            " idempotency_key, created_at) VALUES (?, 'reward', ?, 'EUR', 'r', ?, ?)",
            (worker, micros, f"{key}:{worker}", at),
        )


def rows_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, lineterminator="\n").writerows(rows)
    return path


async def payouts(db: Database) -> dict[int, list[int]]:
    """Each worker's payout entries (positive micro-units), in order."""
    out: dict[int, list[int]] = {}
    for row in await db.query(
        "SELECT worker_id, amount_micros FROM ledger WHERE kind = 'payout' ORDER BY id"
    ):
        out.setdefault(row[0], []).append(-row[1])
    return out


async def test_marking_an_edited_file_again_pays_no_line_twice_and_names_those_recorded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        await db.run(seed_owed, {7: 20_000_000, 8: 30_000_000, 9: 40_000_000}, "first")
    exported = tmp_path / "payouts.csv"
    assert cli("payouts", "export", "--min", "1", "--out", str(exported), db=path).returncode == 0
    header, *lines = rows_of(exported)
    assert header == ["id", "name", "amount", "currency", "export"]
    export_id = lines[0][4]
    # Chloé's transfer bounced: the operator removes her line and marks the rest paid.
    edited = write_rows(tmp_path / "edited.csv", [header, *lines[:2]])
    first = cli("payouts", "mark-paid", str(edited), db=path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"{export_id}: 2 payouts recorded (50.00 EUR), 0 already")
    async with Database(path) as db:  # they all earn more: they are owed enough to pay again
        await db.run(seed_owed, {7: 100_000_000, 8: 100_000_000, 9: 100_000_000}, "second")
    # Chloé paid at last: the whole export file is marked, its first two lines again.
    again = cli("payouts", "mark-paid", str(exported), db=path)
    assert again.returncode == 0, again.stderr
    said = again.stdout.splitlines()
    assert said[0] == (
        f"{export_id}: 1 payouts recorded (40.00 EUR), 2 already recorded before (not recorded"
        " again); each worker paid is told by the bot"
    )
    assert [line.rsplit(" on ", 1)[0] for line in said[1:]] == [
        "already recorded: line 2, worker 7 (Ana), 20.00 EUR",
        "already recorded: line 3, worker 8 (Ben), 30.00 EUR",
    ]
    assert all(line.endswith(" UTC") for line in said[1:])
    # A third time, Ana's line removed: nothing new, and it says so.
    third = cli(
        "payouts",
        "mark-paid",
        str(write_rows(tmp_path / "third.csv", [header, *lines[1:]])),
        db=path,
    )
    assert third.stdout.splitlines()[1] == (
        f"all 2 lines of {tmp_path / 'third.csv'} were recorded before: nothing recorded twice"
    )
    async with Database(path) as db:
        assert await payouts(db) == {7: [20_000_000], 8: [30_000_000], 9: [40_000_000]}
        assert await db.value("SELECT COUNT(*) FROM outbox WHERE kind = 'payout'") == 3


async def test_a_recorded_line_edited_to_another_amount_refuses_the_file_and_records_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        await db.run(seed_owed, {7: 20_000_000, 8: 30_000_000}, "first")
    exported = tmp_path / "payouts.csv"
    assert cli("payouts", "export", "--min", "1", "--out", str(exported), db=path).returncode == 0
    header, ana, ben = rows_of(exported)
    assert cli("payouts", "mark-paid", str(write_rows(tmp_path / "a.csv", [header, ana])), db=path)
    async with Database(path) as db:
        await db.run(seed_owed, {7: 100_000_000}, "second")
    ana[2] = "25"  # upward, after Ana's line was recorded: not a second transfer
    result = cli(
        "payouts", "mark-paid", str(write_rows(tmp_path / "b.csv", [header, ana, ben])), db=path
    )
    assert result.returncode == 1 and result.stdout == ""
    first, why = result.stderr.splitlines()
    assert first == "refused, nothing recorded:"
    assert why.startswith(
        f"line 2: worker 7: export {ana[4]}'s EUR line was recorded paid as 20 EUR on "
    )
    assert why.endswith(
        "; this file says 25 EUR: a line is one transfer, recorded once (to pay the rest,"
        " export again)"
    )
    async with Database(path) as db:
        assert await payouts(db) == {7: [20_000_000]}  # Ben's line was not recorded either


async def test_a_line_no_export_wrote_is_refused_with_the_whole_file(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await db.run(seed_owed, {7: 20_000_000, 8: 30_000_000}, "first")
    export = await export_payouts(db, 25_000_000, clock=clock)  # Ben only
    other = "exp-20260101-000000-abcdef"  # well formed, never made here
    made = write_rows(
        tmp_path / "p.csv",
        [
            ["id", "name", "amount", "currency", "export"],
            ["8", "Ben", "30", "EUR", export.id],
            ["7", "Ana", "20", "EUR", export.id],  # added by hand: not in that export
            ["8", "Ben", "30", "EUR", export.id],  # pasted twice
            ["8", "Ben", "30", "EUR", other],
            ["8", "Ben", "1", "USD", export.id],
        ],
    )
    clock.advance(minutes=1)
    with pytest.raises(PayoutError) as refused:
        await mark_paid(db, read_csv(made), clock)
    assert str(refused.value).splitlines() == [
        f"line 3: worker 7: export {export.id} has no EUR line for them",
        f"line 4: worker 8: EUR of export {export.id} listed twice (line 2 too)",
        f"line 6: worker 8: export {export.id} has no USD line for them",
        f"line 5: export {other} was not made by `payouts export` on this database",
    ]
    more = write_rows(
        tmp_path / "more.csv",
        [["id", "name", "amount", "currency", "export"], ["8", "Ben", "30.01", "EUR", export.id]],
    )
    with pytest.raises(PayoutError, match=f"30.01 EUR is more than the 30 EUR export {export.id}"):
        await mark_paid(db, read_csv(more), clock)
    assert await payouts(db) == {}


async def test_two_exports_of_the_same_money_pay_it_once(db: Database, clock: FakeClock) -> None:
    """An export made before another export's payouts were recorded counted the same money:
    once one is marked paid, the other is refused, however much more the worker earned since."""
    await db.run(seed_owed, {7: 20_000_000}, "first")
    monday = await export_payouts(db, 1, clock=clock)
    clock.advance(hours=1)
    again = await export_payouts(db, 1, clock=clock)  # run twice by mistake: the same 20 EUR
    assert monday.id != again.id and monday.rows[0].amount_micros == again.rows[0].amount_micros
    clock.advance(hours=1)
    assert len((await mark_paid(db, again.rows, clock)).recorded) == 1
    await db.run(seed_owed, {7: 100_000_000}, "second", to_db_time(clock.advance(hours=1)))
    with pytest.raises(PayoutError) as refused:
        await mark_paid(db, monday.rows, clock)
    assert str(refused.value) == (
        f"worker 7: 20 EUR was recorded paid to them on 2026-11-23 10:00 UTC (export"
        f" {again.id}), after export {monday.id} was made: its EUR amount counted money paid"
        " since (export again)"
    )
    clock.advance(hours=1)
    later = await export_payouts(db, 1, clock=clock)  # made after: only what is owed now
    assert [row.amount_micros for row in later.rows] == [100_000_000]
    assert len((await mark_paid(db, later.rows, clock)).recorded) == 1
    assert await payouts(db) == {7: [20_000_000, 100_000_000]}


async def test_a_file_from_before_exports_is_accepted_only_unchanged_from_one_already_marked(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await db.run(seed_owed, {7: 20_000_000, 8: 30_000_000}, "first")
    old = [PayoutRow(7, "Ana", 20_000_000, "EUR"), PayoutRow(8, "Ben", 30_000_000, "EUR")]
    digest = file_digest(old)

    def marked_before_the_upgrade(tx: Tx) -> None:  # as mark-paid keyed a file then
        for row in old:
            ledger_db.credit(
                tx,
                worker_id=row.worker_id,
                kind="payout",
                amount_micros=-row.amount_micros,
                currency="EUR",
                reason=f"payout batch {digest}",
                idempotency_key=f"payout:{digest}:{row.worker_id}:EUR",
                now=to_db_time(clock.now() - timedelta(days=3)),
            )

    await db.run(marked_before_the_upgrade)
    await db.run(seed_owed, {7: 100_000_000, 8: 100_000_000}, "second")
    file = tmp_path / "old.csv"
    with file.open("w", encoding="utf-8", newline="") as stream:
        write_csv(old, stream)
    old_file = [row[:4] for row in rows_of(file)]  # without the export column, as then
    same = await mark_paid(db, read_csv(write_rows(file, old_file)), clock)
    assert (len(same.recorded), [item.row.worker_id for item in same.already]) == (0, [7, 8])
    edited = write_rows(tmp_path / "edited.csv", old_file[:2])  # Ben's line removed
    with pytest.raises(PayoutError) as refused:
        await mark_paid(db, read_csv(edited), clock)
    assert str(refused.value) == LEGACY_REFUSED
    result = cli("payouts", "mark-paid", str(edited), db=tmp_path / "test.sqlite3")
    assert result.returncode == 1
    assert result.stderr == f"refused, nothing recorded:\n{LEGACY_REFUSED}\n"
    assert await payouts(db) == {7: [20_000_000], 8: [30_000_000]}


@pytest.mark.parametrize(
    ("cells", "error"),
    [
        (["7", "A", "1", "EUR", ""], "line 2: no export id: the export column is empty"),
        (["7", "A", "1", "EUR"], "line 2: no export id: the export column is empty"),
        (["7", "A", "1", "EUR", "march"], "line 2: not an export id: 'march'"),
        (["7", "A", "1", "euro", "exp-20260101-000000-abcdef"], "line 2: not a currency code"),
    ],
)
def test_a_line_without_a_proper_export_id_or_currency_is_named(
    tmp_path: Path, cells: list[str], error: str
) -> None:
    file = write_rows(tmp_path / "p.csv", [["id", "name", "amount", "currency", "export"], cells])
    result = cli("payouts", "mark-paid", str(file), db=tmp_path / "bot.sqlite3")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "refused, nothing recorded:"
    assert result.stderr.splitlines()[1].startswith(error)
    assert len(result.stderr.splitlines()) == 2


def test_a_file_with_no_line_records_nothing_and_says_so(tmp_path: Path) -> None:
    file = write_rows(tmp_path / "p.csv", [["id", "name", "amount", "currency", "export"]])
    result = cli("payouts", "mark-paid", str(file), db=tmp_path / "bot.sqlite3")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"{file} lists no payout: nothing recorded\n"
