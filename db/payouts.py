"""Notices a command-line process leaves for the bot to send (payouts, bonuses)."""

from __future__ import annotations

import json
from typing import Any

from db.core import SyncTx


def add_notice(
    tx: SyncTx, *, worker_id: int, key: str, kind: str, params: dict[str, Any], now: str
) -> bool:
    """One notice per key (the ledger entry it tells of); False if it was already there."""
    changed = tx.execute(
        "INSERT INTO notices (worker_id, key, kind, params, status, due_at, created_at)"
        " VALUES (?, ?, ?, ?, 'due', ?, ?) ON CONFLICT (key) DO NOTHING",
        (worker_id, key, kind, json.dumps(params, ensure_ascii=False), now, now),
    )
    return bool(changed)


def worker_exists(tx: SyncTx, worker_id: int) -> bool:
    return bool(tx.value("SELECT 1 FROM workers WHERE id = ?", (worker_id,)) == 1)
