"""The ledger: append-only money movements, each unique on its idempotency key."""

from __future__ import annotations

import sqlite3

from db.core import Tx


def credit(
    tx: Tx,
    *,
    worker_id: int,
    kind: str,
    amount_micros: int,
    currency: str,
    reason: str,
    idempotency_key: str,
    now: str,
    assignment_id: int | None = None,
    pack_pk: int | None = None,
) -> bool:
    """Appends one entry; False (and nothing written) if its key is already in the ledger."""
    changed = tx.execute(
        """
        INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason, idempotency_key,
                            assignment_id, pack_pk, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (idempotency_key) DO NOTHING
        """,
        (
            worker_id,
            kind,
            amount_micros,
            currency,
            reason,
            idempotency_key,
            assignment_id,
            pack_pk,
            now,
        ),
    )
    return bool(changed)


def earned(tx: Tx, worker_id: int, since: str = "") -> dict[str, int]:
    """What the worker earned (every entry but payouts) per currency, in micro-units."""
    rows = tx.all(
        "SELECT currency, SUM(amount_micros) FROM ledger"
        " WHERE worker_id = ? AND created_at >= ? AND kind != 'payout'"
        " GROUP BY currency ORDER BY currency",
        (worker_id, since),
    )
    return {row[0]: int(row[1]) for row in rows}


def _by_currency(rows: list[sqlite3.Row]) -> dict[str, int]:
    return {row[0]: int(row[1]) for row in rows if row[1]}


def earned_between(tx: Tx, worker_id: int, start: str, end: str) -> dict[str, int]:
    """Earned (every entry but payouts) in [start, end), per currency."""
    return _by_currency(
        tx.all(
            "SELECT currency, SUM(amount_micros) FROM ledger"
            " WHERE worker_id = ? AND created_at >= ? AND created_at < ? AND kind != 'payout'"
            " GROUP BY currency ORDER BY currency",
            (worker_id, start, end),
        )
    )


def unpaid(tx: Tx, worker_id: int, before: str | None = None) -> dict[str, int]:
    """What is owed: every entry summed (payouts are negative), per currency; zeros left out."""
    return _by_currency(
        tx.all(
            "SELECT currency, SUM(amount_micros) FROM ledger"
            " WHERE worker_id = ? AND (? IS NULL OR created_at < ?)"
            " GROUP BY currency ORDER BY currency",
            (worker_id, before, before),
        )
    )


def paid(tx: Tx, worker_id: int) -> dict[str, int]:
    """Paid out in all, per currency (a positive amount)."""
    return _by_currency(
        tx.all(
            "SELECT currency, -SUM(amount_micros) FROM ledger"
            " WHERE worker_id = ? AND kind = 'payout' GROUP BY currency ORDER BY currency",
            (worker_id,),
        )
    )


def has_key(tx: Tx, idempotency_key: str) -> bool:
    return bool(tx.value("SELECT 1 FROM ledger WHERE idempotency_key = ?", (idempotency_key,)))


def entry(tx: Tx, idempotency_key: str) -> sqlite3.Row | None:
    """The entry of that key: (amount_micros, currency, created_at), None if there is none."""
    return tx.one(
        "SELECT amount_micros, currency, created_at FROM ledger WHERE idempotency_key = ?",
        (idempotency_key,),
    )


def payout_after(tx: Tx, worker_id: int, currency: str, after: str) -> sqlite3.Row | None:
    """The first payout to the worker in that currency recorded after `after`:
    (idempotency_key, amount_micros, created_at), None if there is none."""
    return tx.one(
        "SELECT idempotency_key, amount_micros, created_at FROM ledger"
        " WHERE worker_id = ? AND kind = 'payout' AND currency = ? AND created_at > ?"
        " ORDER BY created_at LIMIT 1",
        (worker_id, currency, after),
    )


def unpaid_balances(tx: Tx, min_micros: int, currency: str | None) -> list[sqlite3.Row]:
    """Workers owed at least `min_micros` in a currency: (worker_id, name, currency, micros)."""
    return tx.all(
        """
        SELECT l.worker_id, COALESCE(NULLIF(w.first_name, ''), w.username, '') AS name, l.currency,
               SUM(l.amount_micros) AS micros
        FROM ledger AS l JOIN workers AS w ON w.id = l.worker_id
        WHERE (? IS NULL OR l.currency = ?)
        GROUP BY l.worker_id, l.currency
        HAVING SUM(l.amount_micros) >= ? AND SUM(l.amount_micros) > 0
        ORDER BY l.currency, l.worker_id
        """,
        (currency, currency, min_micros),
    )


def workers_with_entries(tx: Tx) -> list[int]:
    """Every worker with a ledger entry: the only ones who can have a statement."""
    return [row[0] for row in tx.all("SELECT DISTINCT worker_id FROM ledger ORDER BY worker_id")]
