"""The ledger: append-only money movements, each unique on its idempotency key."""

from __future__ import annotations

from db.core import SyncTx


def credit(
    tx: SyncTx,
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


def earned(tx: SyncTx, worker_id: int, since: str = "") -> dict[str, int]:
    """What the worker earned (every entry but payouts) per currency, in micro-units."""
    rows = tx.all(
        "SELECT currency, SUM(amount_micros) FROM ledger"
        " WHERE worker_id = ? AND created_at >= ? AND kind != 'payout'"
        " GROUP BY currency ORDER BY currency",
        (worker_id, since),
    )
    return {row[0]: int(row[1]) for row in rows}
