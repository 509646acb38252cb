"""Weekly statements (`statements`, `statement_weeks`): a week's figures, set-based.

Every figure is derived from the ledger and the assignments in one SQL statement per range of
worker ids, so a week for 100,000 workers is a few statements, not 100,000 round trips. Their
delivery is the outbox's (db/outbox.py).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from db.activity import ACTIVE_MS
from db.core import Tx

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
           SUM(t.gold IS NOT NULL AND COALESCE(a.correct, a.answer = t.gold)) AS correct,
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


@dataclass(frozen=True)
class WeekFigures:
    """What a worker's statement for a week says, as stored (micro-units, milliseconds)."""

    worker_id: int
    week: str
    tasks: int
    checks: int
    correct: int
    figures: dict[str, dict[str, int]]  # {currency: {earned, top_up, unpaid, active_ms}}


def _week_figures(row: sqlite3.Row, week: str) -> WeekFigures:
    return WeekFigures(
        worker_id=int(row["worker_id"]),
        week=week,
        tasks=int(row["tasks"]),
        checks=int(row["checks"]),
        correct=int(row["correct"]),
        figures=json.loads(row["figures"]),
    )


def week_figures(tx: Tx, params: dict[str, Any], limit: int = -1) -> list[WeekFigures]:
    """The statement figures of a week for workers lo..hi (nothing written: the preview)."""
    rows = tx.all(f"{WEEK_FIGURES_SQL} ORDER BY worker_id LIMIT {int(limit)}", params)
    return [_week_figures(row, params["week"]) for row in rows]


def insert_week(tx: Tx, params: dict[str, Any]) -> int:
    """Inserts the week's statements of workers lo..hi; rows already there are kept."""
    return tx.execute(
        f"""
        INSERT INTO statements (worker_id, week, tasks, checks, correct, figures, created_at)
        SELECT f.worker_id, :week, f.tasks, f.checks, f.correct, f.figures, :now
        FROM ({WEEK_FIGURES_SQL}) AS f
        WHERE true
        ON CONFLICT (worker_id, week) DO NOTHING
        """,
        params,
    )


def get(tx: Tx, statement_id: int) -> WeekFigures | None:
    row = tx.one("SELECT * FROM statements WHERE id = ?", (statement_id,))
    return None if row is None else _week_figures(row, row["week"])


def computed_weeks(tx: Tx) -> list[str]:
    return [row[0] for row in tx.all("SELECT week FROM statement_weeks ORDER BY week")]


def record_week(tx: Tx, week: str, workers: int, now: str) -> None:
    tx.execute(
        "INSERT INTO statement_weeks (week, workers, computed_at) VALUES (?, ?, ?)"
        " ON CONFLICT (week) DO UPDATE SET workers = excluded.workers",
        (week, workers, now),
    )


def latest_week(tx: Tx, worker_id: int) -> str | None:
    """The week of the worker's newest statement ('2026-W48'), if they have one."""
    week: str | None = tx.value(
        "SELECT max(week) FROM statements WHERE worker_id = ?", (worker_id,)
    )
    return week
