"""The storage layer's guarantees: migrations, one-trip units of work, rollback on failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from db import Database, Tx
from db.core import available_migrations


async def test_migrations_apply_once_and_are_recorded(tmp_path: Path) -> None:
    async with Database(tmp_path / "m.sqlite3") as db:
        assert await db.migrate() == []  # already applied by open()
        versions = [row[0] for row in await db.query("SELECT version FROM schema_migrations")]
        mode = await db.value("PRAGMA journal_mode")
    assert versions == [version for version, _, _ in available_migrations()]
    assert mode == "wal"


async def test_a_unit_of_work_is_all_or_nothing(db: Database) -> None:
    def add_worker_then_fail(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO workers (id, language, created_at, last_seen_at) VALUES (1, 'fr', '', '')"
        )
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await db.run(add_worker_then_fail)

    def count(tx: Tx) -> int:
        return int(tx.value("SELECT COUNT(*) FROM workers"))

    assert await db.run_read(count) == 0

    def add_worker(tx: Tx, worker_id: int) -> int:
        return tx.insert(
            "INSERT INTO workers (id, language, created_at, last_seen_at) VALUES (?, 'fr', '', '')",
            (worker_id,),
        )

    assert await db.run(add_worker, 7) == 7
    assert await db.run_read(count) == 1


async def test_the_ledger_refuses_a_second_entry_with_the_same_key(db: Database) -> None:
    from db import ledger

    def setup_and_credit(tx: Tx) -> tuple[bool, bool]:
        tx.execute(
            "INSERT INTO workers (id, language, created_at, last_seen_at) VALUES (1, 'fr', '', '')"
        )
        entry = {
            "worker_id": 1,
            "kind": "bonus",
            "amount_micros": 5_000,
            "currency": "EUR",
            "reason": "thanks",
            "idempotency_key": "bonus:1",
            "now": "",
        }
        return ledger.credit(tx, **entry), ledger.credit(tx, **entry)  # type: ignore[arg-type]

    assert await db.run(setup_and_credit) == (True, False)
