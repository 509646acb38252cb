"""The quality outbox: messages the quality features queue for the bot to send.

The rest of quality's SQL lives by table: db/gold.py, db/answers.py, db/standings.py,
db/disputes.py, db/pending_input.py, db/exports.py.
"""

from __future__ import annotations

import sqlite3

from db.core import SyncTx

# -- the outbox and pending input ----------------------------------------------------------


def add_message(
    tx: SyncTx,
    worker_id: int | None,
    text_key: str,
    params: str,
    now: str,
    dedupe_key: str | None = None,
) -> bool:
    """Queues a message (worker_id None: every operator); False if its dedupe key was used."""
    return bool(
        tx.execute(
            "INSERT INTO outbox (worker_id, text_key, params, dedupe_key, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
            (worker_id, text_key, params, dedupe_key, now),
        )
    )


def pending_messages(tx: SyncTx, limit: int) -> list[sqlite3.Row]:
    return tx.all(
        "SELECT o.*, w.language FROM outbox AS o LEFT JOIN workers AS w ON w.id = o.worker_id"
        " WHERE o.sent_at IS NULL ORDER BY o.id LIMIT ?",
        (limit,),
    )


def mark_sent(tx: SyncTx, message_id: int, now: str) -> None:
    tx.execute("UPDATE outbox SET sent_at = ? WHERE id = ?", (now, message_id))
