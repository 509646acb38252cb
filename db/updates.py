"""Updates already handled: a redelivery after a crash is recognised and dropped."""

from __future__ import annotations

from db.core import Tx


def claim(tx: Tx, update_id: int, now: str) -> bool:
    """True the first time an update id is claimed, False for a redelivery."""
    changed = tx.execute(
        "INSERT INTO processed_updates (update_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (update_id, now),
    )
    return bool(changed)


def prune(tx: Tx, before: str) -> int:
    return tx.execute("DELETE FROM processed_updates WHERE at < ?", (before,))
