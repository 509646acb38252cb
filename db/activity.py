"""Work and active time, read from the assignments: a worker's answered tasks and active time
(/balance), a pack's median time per task (fair pay) and its workers' week (top-ups)."""

from __future__ import annotations

import sqlite3
from typing import Any

from db.core import Tx

# Seconds between delivery and answer, in milliseconds, capped at the break threshold: a longer
# gap was a break, not work (tasks/earnings.py, BREAK_SECONDS).
ACTIVE_MS = (
    "MAX(0, MIN(CAST(ROUND((julianday(a.closed_at) - julianday(a.delivered_at)) * 86400000)"
    " AS INTEGER), :break_ms))"
)

PACK_ACTIVE_SQL = f"""
SELECT a.worker_id, SUM({ACTIVE_MS}) AS active_ms,
       (SELECT COALESCE(SUM(l.amount_micros), 0) FROM ledger AS l
        WHERE l.worker_id = a.worker_id AND l.pack_pk = :pack AND l.kind = 'reward'
          AND l.created_at >= :start AND l.created_at < :end) AS earned
FROM assignments AS a
WHERE a.pack_pk = :pack AND a.status = 'answered' AND a.worker_id BETWEEN :lo AND :hi
  AND a.closed_at >= :start AND a.closed_at < :end
GROUP BY a.worker_id
"""


def pack_week_activity(tx: Tx, params: dict[str, Any]) -> list[sqlite3.Row]:
    """Per worker lo..hi on one pack in one week: active milliseconds and rewards earned."""
    return tx.all(PACK_ACTIVE_SQL, params)


def pack_task_times(tx: Tx, pack_pk: int, break_ms: int, before: str) -> tuple[int, int | None]:
    """How many answers a pack has (before a moment) and their median active milliseconds."""
    where = "a.pack_pk = :pack AND a.status = 'answered' AND a.closed_at < :before"
    params = {"pack": pack_pk, "break_ms": break_ms, "before": before}
    count = int(tx.value(f"SELECT COUNT(*) FROM assignments AS a WHERE {where}", params))
    if count == 0:
        return 0, None
    middle = tx.all(
        f"SELECT {ACTIVE_MS} AS ms FROM assignments AS a WHERE {where}"
        f" ORDER BY ms LIMIT {2 - count % 2} OFFSET {(count - 1) // 2}",
        params,
    )
    values = [int(row[0]) for row in middle]
    return count, sum(values) // len(values)


def worker_work(tx: Tx, worker_id: int, last_start: str, this_start: str) -> sqlite3.Row:
    """A worker's answered tasks: this week, last week, in all, and on check questions."""
    row = tx.one(
        """
        SELECT SUM(a.closed_at >= :this) AS this_week,
               SUM(a.closed_at >= :last AND a.closed_at < :this) AS last_week,
               COUNT(*) AS total,
               SUM(t.gold IS NOT NULL) AS checks,
               SUM(t.gold IS NOT NULL AND COALESCE(a.correct, a.answer = t.gold)) AS correct
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.worker_id = :worker AND a.status = 'answered'
        """,
        {"this": this_start, "last": last_start, "worker": worker_id},
    )
    assert row is not None
    return row


def active_ms_by_currency(tx: Tx, worker_id: int, break_ms: int) -> dict[str, int]:
    """A worker's active time (milliseconds, breaks left out) per currency of the packs."""
    rows = tx.all(
        f"""
        SELECT p.currency, SUM({ACTIVE_MS})
        FROM assignments AS a JOIN packs AS p ON p.pk = a.pack_pk
        WHERE a.worker_id = :worker AND a.status = 'answered'
        GROUP BY p.currency
        """,
        {"worker": worker_id, "break_ms": break_ms},
    )
    return {row[0]: int(row[1]) for row in rows if row[1]}
