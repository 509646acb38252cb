"""Payout exports: what each `payouts export` listed, so that `payouts mark-paid` can tell a
line it wrote from one it did not (db/migrations/015_payout_exports.sql)."""

from __future__ import annotations

from db.core import Tx


def record(
    tx: Tx,
    export_id: str,
    lines: list[tuple[int, str, int]],
    *,
    min_micros: int,
    currency: str | None,
    now: str,
) -> None:
    """One export and its lines: (worker_id, currency, amount_micros)."""
    tx.execute(
        "INSERT INTO payout_exports (id, created_at, min_micros, currency, lines)"
        " VALUES (?, ?, ?, ?, ?)",
        (export_id, now, min_micros, currency, len(lines)),
    )
    tx.conn.executemany(
        "INSERT INTO payout_export_lines (export_id, worker_id, currency, amount_micros)"
        " VALUES (?, ?, ?, ?)",
        [(export_id, worker, cur, micros) for worker, cur, micros in lines],
    )


def created_at(tx: Tx, export_id: str) -> str | None:
    """When the export was made (None: no such export)."""
    value: str | None = tx.value("SELECT created_at FROM payout_exports WHERE id = ?", (export_id,))
    return value


def listed(tx: Tx, export_id: str, worker_id: int, currency: str) -> int | None:
    """The amount the export listed for the worker in that currency (None: no such line)."""
    value = tx.value(
        "SELECT amount_micros FROM payout_export_lines"
        " WHERE export_id = ? AND worker_id = ? AND currency = ?",
        (export_id, worker_id, currency),
    )
    return None if value is None else int(value)
