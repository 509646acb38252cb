"""Assignments: a task handed to a worker under a lease, then answered, skipped or expired.

Slots: `tasks.remaining` = overlap - answers - open leases, kept in step by two triggers on this
table (migration 001), so the next-task pick reads one partial index and never counts.
"""

from __future__ import annotations

import sqlite3

from db.core import SyncTx

PICK_SQL = """
SELECT t.pk, t.task_id, t.content
FROM tasks AS t
WHERE t.pack_pk = ? AND t.remaining > 0
  AND NOT EXISTS (SELECT 1 FROM assignments AS a WHERE a.worker_id = ? AND a.task_pk = t.pk)
ORDER BY t.remaining, t.pk
LIMIT 1
"""


def pick(tx: SyncTx, pack_pk: int, worker_id: int) -> sqlite3.Row | None:
    """The task of this pack nearest to completion that the worker has never seen."""
    return tx.one(PICK_SQL, (pack_pk, worker_id))


def lease(
    tx: SyncTx,
    *,
    worker_id: int,
    task_pk: int,
    pack_pk: int,
    now: str,
    expires_at: str,
    is_gold: bool = False,
) -> int:
    """Hands a task out; a gold task takes no slot (gold has no overlap limit)."""
    return tx.insert(
        "INSERT INTO assignments (worker_id, task_pk, pack_pk, status, delivered_at, expires_at,"
        " is_gold) VALUES (?, ?, ?, 'open', ?, ?, ?)",
        (worker_id, task_pk, pack_pk, now, expires_at, int(is_gold)),
    )


def get(tx: SyncTx, assignment_id: int) -> sqlite3.Row | None:
    return tx.one(
        """
        SELECT a.*, t.task_id, t.content FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.id = ?
        """,
        (assignment_id,),
    )


def get_with_worker(tx: SyncTx, assignment_id: int, worker_id: int) -> sqlite3.Row | None:
    """The presser's row with the assignment they pressed (its columns NULL if there is none);
    None if the presser is not a known worker. One query for the answer path."""
    return tx.one(
        """
        SELECT w.language, w.consented_at, w.paused, w.waiting_since, w.blocked_at,
               a.id, a.worker_id, a.pack_pk, a.status, a.expires_at, t.task_id,
               a.task_pk, a.is_gold, a.delivered_at, t.gold, t.explanation, t.content
        FROM workers AS w
        LEFT JOIN assignments AS a ON a.id = ?
        LEFT JOIN tasks AS t ON t.pk = a.task_pk
        WHERE w.id = ?
        """,
        (assignment_id, worker_id),
    )


def open_for(tx: SyncTx, worker_id: int) -> sqlite3.Row | None:
    return tx.one(
        """
        SELECT a.*, t.task_id, t.content FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.worker_id = ? AND a.status = 'open'
        """,
        (worker_id,),
    )


def record_answer(
    tx: SyncTx, assignment_id: int, answer: str, now: str, seconds: float | None = None
) -> bool:
    """Closes an open assignment with its answer; False if it was not open (nothing changed)."""
    changed = tx.execute(
        "UPDATE assignments SET status = 'answered', answer = ?, closed_at = ?, seconds = ?"
        " WHERE id = ? AND status = 'open'",
        (answer, now, seconds, assignment_id),
    )
    return bool(changed)


def close_unanswered(tx: SyncTx, assignment_id: int, status: str, now: str) -> bool:
    """Skipped, expired or released: the slot goes back to the pool (a retired task stays out)."""
    changed = tx.execute(
        "UPDATE assignments SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'",
        (status, now, assignment_id),
    )
    return bool(changed)


def expired(tx: SyncTx, now: str, limit: int = 1000) -> list[sqlite3.Row]:
    return tx.all(
        "SELECT id, task_pk, worker_id FROM assignments"
        " WHERE status = 'open' AND expires_at <= ? ORDER BY expires_at LIMIT ?",
        (now, limit),
    )


def counts_since(tx: SyncTx, worker_id: int, since: str) -> int:
    value = tx.value(
        "SELECT COUNT(*) FROM assignments"
        " WHERE worker_id = ? AND status = 'answered' AND closed_at >= ?",
        (worker_id, since),
    )
    return int(value or 0)
