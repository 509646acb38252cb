"""Weekly statements and notices: set-based figures for a week, and delivery states.

Every figure is derived from the ledger and the assignments in one SQL statement per range of
worker ids, so a week for 100,000 workers is a few statements, not 100,000 round trips.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from db.core import SyncTx

DeliveryTable = Literal["statements", "notices"]

# Seconds between delivery and answer, in milliseconds, capped at the break threshold: a longer
# gap was a break, not work (tasks/earnings.py, BREAK_SECONDS).
ACTIVE_MS = (
    "MAX(0, MIN(CAST(ROUND((julianday(a.closed_at) - julianday(a.delivered_at)) * 86400000)"
    " AS INTEGER), :break_ms))"
)

WEEK_FIGURES_SQL = f"""
WITH money AS (
    SELECT worker_id, currency,
           SUM(CASE WHEN created_at >= :start AND kind != 'payout' THEN amount_micros ELSE 0 END)
               AS earned,
           SUM(CASE WHEN created_at >= :start AND kind = 'top_up' THEN amount_micros ELSE 0 END)
               AS top_up,
           SUM(amount_micros) AS unpaid
    FROM ledger
    WHERE worker_id BETWEEN :lo AND :hi AND created_at < :end
    GROUP BY worker_id, currency
),
work AS (
    SELECT a.worker_id, p.currency, COUNT(*) AS tasks,
           SUM(t.gold IS NOT NULL) AS checks,
           SUM(t.gold IS NOT NULL AND a.answer = t.gold) AS correct,
           SUM({ACTIVE_MS}) AS active_ms
    FROM assignments AS a
    JOIN tasks AS t ON t.pk = a.task_pk
    JOIN packs AS p ON p.pk = a.pack_pk
    WHERE a.worker_id BETWEEN :lo AND :hi AND a.status = 'answered'
      AND a.closed_at >= :start AND a.closed_at < :end
    GROUP BY a.worker_id, p.currency
),
lines AS (
    SELECT m.worker_id, m.currency, m.earned, m.top_up, m.unpaid,
           COALESCE(w.active_ms, 0) AS active_ms, COALESCE(w.tasks, 0) AS tasks,
           COALESCE(w.checks, 0) AS checks, COALESCE(w.correct, 0) AS correct
    FROM money AS m
    LEFT JOIN work AS w ON w.worker_id = m.worker_id AND w.currency = m.currency
    WHERE m.earned != 0 OR m.unpaid != 0
)
SELECT worker_id, SUM(tasks) AS tasks, SUM(checks) AS checks, SUM(correct) AS correct,
       json_group_object(currency, json_object('earned', earned, 'top_up', top_up,
                                               'unpaid', unpaid, 'active_ms', active_ms))
           AS figures
FROM lines
GROUP BY worker_id
HAVING MAX(earned) > 0 OR MAX(unpaid) > 0
"""


def week_figures(tx: SyncTx, params: dict[str, Any], limit: int = -1) -> list[sqlite3.Row]:
    """The statement figures of a week for workers lo..hi (nothing written: the preview)."""
    return tx.all(f"{WEEK_FIGURES_SQL} ORDER BY worker_id LIMIT {int(limit)}", params)


def insert_week(tx: SyncTx, params: dict[str, Any]) -> int:
    """Inserts the week's statements of workers lo..hi (due at their zone's statement time,
    :zones maps a zone name to its due time, :default_due for the rest); existing rows kept."""
    return tx.execute(
        f"""
        INSERT INTO statements (worker_id, week, tasks, checks, correct, figures, status,
                                due_at, created_at)
        SELECT f.worker_id, :week, f.tasks, f.checks, f.correct, f.figures, 'due',
               COALESCE(z.value, :default_due), :now
        FROM ({WEEK_FIGURES_SQL}) AS f
        JOIN workers AS w ON w.id = f.worker_id
        LEFT JOIN json_each(:zones) AS z ON z.key = w.timezone
        WHERE true
        ON CONFLICT (worker_id, week) DO NOTHING
        """,
        params,
    )


def ledger_workers(tx: SyncTx) -> list[int]:
    """Every worker with a ledger entry: the only ones who can have a statement."""
    return [row[0] for row in tx.all("SELECT DISTINCT worker_id FROM ledger ORDER BY worker_id")]


def worker_zones(tx: SyncTx) -> list[str]:
    return [
        row[0] for row in tx.all("SELECT DISTINCT timezone FROM workers WHERE timezone IS NOT NULL")
    ]


def computed_weeks(tx: SyncTx) -> list[str]:
    return [row[0] for row in tx.all("SELECT week FROM statement_weeks ORDER BY week")]


def record_week(tx: SyncTx, week: str, workers: int, now: str) -> None:
    tx.execute(
        "INSERT INTO statement_weeks (week, workers, computed_at) VALUES (?, ?, ?)"
        " ON CONFLICT (week) DO UPDATE SET workers = excluded.workers",
        (week, workers, now),
    )


def count_week(tx: SyncTx, week: str) -> dict[str, int]:
    rows = tx.all("SELECT status, COUNT(*) FROM statements WHERE week = ? GROUP BY status", (week,))
    return {row[0]: row[1] for row in rows}


def make_due_now(tx: SyncTx, week: str, now: str) -> int:
    """An operator's `statements send --week`: the week's waiting statements are due now."""
    return tx.execute(
        "UPDATE statements SET due_at = ? WHERE week = ? AND status = 'due' AND due_at > ?",
        (now, week, now),
    )


# -- top-ups (fair pay) -----------------------------------------------------------------------

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


def pack_week_activity(tx: SyncTx, params: dict[str, Any]) -> list[sqlite3.Row]:
    """Per worker lo..hi on one pack in one week: active milliseconds and rewards earned."""
    return tx.all(PACK_ACTIVE_SQL, params)


def pack_task_times(tx: SyncTx, pack_pk: int, break_ms: int, before: str) -> tuple[int, int | None]:
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


# -- delivery (statements and notices) --------------------------------------------------------


def pending(tx: SyncTx, table: DeliveryTable, now: str, limit: int) -> list[sqlite3.Row]:
    """Rows to look at now: due, or claimed by a sender whose claim ran out (it crashed)."""
    return tx.all(
        f"""
        SELECT d.*, w.language, w.timezone, w.blocked_at FROM {_table(table)} AS d
        JOIN workers AS w ON w.id = d.worker_id
        WHERE d.status IN ('due', 'sending') AND d.due_at <= ?
        ORDER BY d.due_at, d.id LIMIT ?
        """,
        (now, limit),
    )


def claim(tx: SyncTx, table: DeliveryTable, row_id: int, until: str) -> None:
    tx.execute(
        f"UPDATE {_table(table)} SET status = 'sending', attempts = attempts + 1, due_at = ?"
        " WHERE id = ?",
        (until, row_id),
    )


def postpone(tx: SyncTx, table: DeliveryTable, row_id: int, until: str) -> None:
    tx.execute(
        f"UPDATE {_table(table)} SET status = 'due', due_at = ? WHERE id = ?", (until, row_id)
    )


def finish(
    tx: SyncTx, table: DeliveryTable, row_id: int, status: str, now: str, error: str | None = None
) -> None:
    tx.execute(
        f"UPDATE {_table(table)} SET status = ?, sent_at = CASE WHEN ? = 'sent' THEN ? END,"
        " last_error = COALESCE(?, last_error) WHERE id = ?",
        (status, status, now, error, row_id),
    )


def retry_later(tx: SyncTx, table: DeliveryTable, row_id: int, until: str, error: str) -> None:
    tx.execute(
        f"UPDATE {_table(table)} SET status = 'due', due_at = ?, last_error = ? WHERE id = ?",
        (until, error, row_id),
    )


def _table(table: DeliveryTable) -> str:
    if table not in ("statements", "notices"):
        raise ValueError(f"not a delivery table: {table!r}")
    return table


def release(tx: SyncTx, table: DeliveryTable, row_id: int, now: str) -> None:
    """A claimed row not sent (the sender is stopping): due again at once, attempt undone."""
    tx.execute(
        f"UPDATE {_table(table)} SET status = 'due', due_at = ?, attempts = attempts - 1"
        " WHERE id = ? AND status = 'sending'",
        (now, row_id),
    )


def worker_work(tx: SyncTx, worker_id: int, last_start: str, this_start: str) -> sqlite3.Row:
    """A worker's answered tasks: this week, last week, in all, and on check questions."""
    row = tx.one(
        """
        SELECT SUM(a.closed_at >= :this) AS this_week,
               SUM(a.closed_at >= :last AND a.closed_at < :this) AS last_week,
               COUNT(*) AS total,
               SUM(t.gold IS NOT NULL) AS checks,
               SUM(t.gold IS NOT NULL AND a.answer = t.gold) AS correct
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.worker_id = :worker AND a.status = 'answered'
        """,
        {"this": this_start, "last": last_start, "worker": worker_id},
    )
    assert row is not None
    return row


def active_ms_by_currency(tx: SyncTx, worker_id: int, break_ms: int) -> dict[str, int]:
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
