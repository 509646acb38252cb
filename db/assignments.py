"""Assignments: a task handed to a worker under a lease, then answered, skipped or expired.

Slots: `tasks.remaining` = overlap - answers - open leases, kept in step by two triggers on this
table (migrations 001, 002), so the next-task pick reads one partial index and never counts.
Every writer of `remaining` and why: docs/worker-loop.md, "Who changes `tasks.remaining`, and why".
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from db.core import Tx
from db.media import has_media
from db.workers import Worker, worker_from


@dataclass(frozen=True)
class Assignment:
    """A task handed to a worker, with what the worker is shown and what it is checked against."""

    id: int
    worker_id: int
    pack_pk: int
    task_pk: int
    task_id: str
    status: str  # open | answered | skipped | expired | released
    delivered_at: str
    expires_at: str
    is_gold: bool
    text: str
    gold: str | None
    explanation: str | None
    selection: int = 0  # multi_choice: the options toggled on (a bit per option index)
    media: bool = False  # a task_media row to read (db/media.py has_media)


@dataclass(frozen=True)
class Press:
    """Who pressed, and the assignment their button names (None: no such assignment)."""

    worker: Worker
    assignment: Assignment | None


def _assignment(row: sqlite3.Row) -> Assignment:
    content = json.loads(row["content"])
    return Assignment(
        id=row["id"],
        worker_id=row["worker_id"],
        pack_pk=row["pack_pk"],
        task_pk=row["task_pk"],
        task_id=row["task_id"],
        status=row["status"],
        delivered_at=row["delivered_at"],
        expires_at=row["expires_at"],
        is_gold=bool(row["is_gold"]),
        text=content["text"],
        gold=row["gold"],
        explanation=row["explanation"],
        selection=row["selection"] or 0,
        media=has_media(content),
    )


PICK_SQL = """
SELECT t.pk, t.task_id, t.content
FROM tasks AS t
WHERE t.pack_pk = ? AND t.remaining > 0
  AND NOT EXISTS (SELECT 1 FROM assignments AS a WHERE a.worker_id = ? AND a.task_pk = t.pk)
ORDER BY t.remaining, t.pk
LIMIT 1
"""


# The same partial index read backwards: the task that wants the most answers (fresh first).
PICK_FRESH_SQL = PICK_SQL.replace(
    "ORDER BY t.remaining, t.pk", "ORDER BY t.remaining DESC, t.pk DESC"
)


def pick(tx: Tx, pack_pk: int, worker_id: int, fresh_first: bool = False) -> sqlite3.Row | None:
    """The task of this pack nearest to completion that the worker has never seen; with
    `fresh_first`, the one furthest from it (a task nobody has started, if any)."""
    return tx.one(PICK_FRESH_SQL if fresh_first else PICK_SQL, (pack_pk, worker_id))


def lease(
    tx: Tx,
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


def press(tx: Tx, assignment_id: int, worker_id: int) -> Press | None:
    """The presser with the assignment they pressed; None if the presser is not a known worker.
    One query for the answer path."""
    row = tx.one(
        """
        SELECT w.language, w.consented_at, w.paused, w.waiting_since, w.blocked_at,
               w.suspended_at,
               a.id, a.worker_id, a.pack_pk, a.status, a.expires_at, t.task_id,
               a.task_pk, a.is_gold, a.delivered_at, t.gold, t.explanation, t.content,
               a.selection
        FROM workers AS w
        LEFT JOIN assignments AS a ON a.id = ?
        LEFT JOIN tasks AS t ON t.pk = a.task_pk
        WHERE w.id = ?
        """,
        (assignment_id, worker_id),
    )
    worker = worker_from(row, worker_id)
    if row is None or worker is None:
        return None
    return Press(worker, None if row["id"] is None else _assignment(row))


def open_for(tx: Tx, worker_id: int) -> Assignment | None:
    """The worker's open assignment (at most one: a partial unique index)."""
    row = tx.one(
        """
        SELECT a.*, t.task_id, t.content, t.gold, t.explanation
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.worker_id = ? AND a.status = 'open'
        """,
        (worker_id,),
    )
    return None if row is None else _assignment(row)


def record_answer(
    tx: Tx,
    assignment_id: int,
    answer: str,
    now: str,
    seconds: float | None = None,
    correct: bool | None = None,
) -> bool:
    """Closes an open assignment with its answer (and, on gold, whether it is right); False if
    it was not open (nothing changed)."""
    changed = tx.execute(
        "UPDATE assignments SET status = 'answered', answer = ?, closed_at = ?, seconds = ?,"
        " correct = ? WHERE id = ? AND status = 'open'",
        (answer, now, seconds, None if correct is None else int(correct), assignment_id),
    )
    return bool(changed)


def close_unanswered(tx: Tx, assignment_id: int, status: str, now: str) -> bool:
    """Skipped, expired or released: the slot goes back to the pool (a retired task stays out)."""
    changed = tx.execute(
        "UPDATE assignments SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'",
        (status, now, assignment_id),
    )
    return bool(changed)


def expire(tx: Tx, now: str, limit: int = 1000) -> int:
    """Closes up to `limit` open assignments whose lease ran out; returns how many."""
    return tx.execute(
        "UPDATE assignments SET status = 'expired', closed_at = ?1 WHERE id IN ("
        " SELECT id FROM assignments WHERE status = 'open' AND expires_at <= ?1"
        " ORDER BY expires_at LIMIT ?2)",
        (now, limit),
    )


def set_selection(tx: Tx, assignment_id: int, selection: int) -> bool:
    """A multi_choice toggle on an open assignment (a bit per option index)."""
    changed = tx.execute(
        "UPDATE assignments SET selection = ? WHERE id = ? AND status = 'open'",
        (selection, assignment_id),
    )
    return bool(changed)


def latest_for(tx: Tx, worker_id: int) -> Assignment | None:
    """The worker's most recent assignment, whatever its status (a late text answer's task)."""
    row = tx.one(
        """
        SELECT a.*, t.task_id, t.content, t.gold, t.explanation
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.worker_id = ? ORDER BY a.id DESC LIMIT 1
        """,
        (worker_id,),
    )
    return None if row is None else _assignment(row)
