"""What operators read and change from Telegram: workers' counts and details, workers barred
from tasks and let back (the Suspend and Reinstate buttons; the columns keep those words:
suspended_at, suspension_reason), broadcasts, and the figures behind /packs and /stats."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from db import outbox as outbox_db
from db.core import Tx

# Who a broadcast reaches: workers who agreed to the rules, did not block the bot and are not
# barred by an operator (a paused worker paused the tasks, not the news).
_REACHABLE = "consented_at IS NOT NULL AND blocked_at IS NULL AND suspended_at IS NULL"


@dataclass(frozen=True)
class WorkerCounts:
    total: int
    active: int  # consented, not blocked, not barred
    barred: int  # barred from tasks by an operator
    blocked: int
    answered_last_day: int  # workers with an answer in the last 24 hours


@dataclass(frozen=True)
class WorkerRow:
    id: int
    name: str
    username: str | None
    language: str
    consented: bool
    blocked: bool
    barred_at: str | None  # column suspended_at
    bar_reason: str | None  # column suspension_reason
    last_seen_at: str


@dataclass(frozen=True)
class WorkerPack:
    pack_id: str
    title: str
    answers: int
    last_answer_at: str | None
    trust: float | None  # smoothed accuracy on the pack's check questions, if any
    state: str | None  # the quality standing (training, qualified, ...), if any


def worker_counts(tx: Tx, day_ago: str) -> WorkerCounts:
    row = tx.one(
        f"""
        SELECT COUNT(*) AS total,
               COALESCE(SUM({_REACHABLE}), 0) AS active,
               COALESCE(SUM(suspended_at IS NOT NULL), 0) AS barred,
               COALESCE(SUM(blocked_at IS NOT NULL), 0) AS blocked
        FROM workers
        """
    )
    assert row is not None
    recent = tx.value(
        "SELECT COUNT(DISTINCT worker_id) FROM assignments"
        " WHERE status = 'answered' AND closed_at >= ?",
        (day_ago,),
    )
    return WorkerCounts(
        int(row["total"]),
        int(row["active"]),
        int(row["barred"]),
        int(row["blocked"]),
        int(recent or 0),
    )


def worker_row(tx: Tx, worker_id: int) -> WorkerRow | None:
    row = tx.one("SELECT * FROM workers WHERE id = ?", (worker_id,))
    if row is None:
        return None
    return WorkerRow(
        id=row["id"],
        name=row["first_name"] or "",
        username=row["username"],
        language=row["language"],
        consented=row["consented_at"] is not None,
        blocked=row["blocked_at"] is not None,
        barred_at=row["suspended_at"],
        bar_reason=row["suspension_reason"],
        last_seen_at=row["last_seen_at"],
    )


def worker_packs(tx: Tx, worker_id: int) -> list[WorkerPack]:
    """The packs the worker answered or has a standing on, with their answers and trust."""
    rows = tx.all(
        """
        SELECT p.id, p.title, COALESCE(a.answers, 0) AS answers, a.last_at,
               q.accuracy, q.state
        FROM packs AS p
        LEFT JOIN (SELECT pack_pk, COUNT(*) AS answers, MAX(closed_at) AS last_at
                   FROM assignments WHERE worker_id = :w AND status = 'answered'
                   GROUP BY pack_pk) AS a ON a.pack_pk = p.pk
        LEFT JOIN worker_quality AS q ON q.pack_pk = p.pk AND q.worker_id = :w
        WHERE a.answers IS NOT NULL OR q.state IS NOT NULL
        ORDER BY p.pk
        """,
        {"w": worker_id},
    )
    return [WorkerPack(row[0], row[1], int(row[2]), row[3], row[4], row[5]) for row in rows]


def last_answer_at(tx: Tx, worker_id: int) -> str | None:
    value = tx.value(
        "SELECT MAX(closed_at) FROM assignments WHERE worker_id = ? AND status = 'answered'",
        (worker_id,),
    )
    return None if value is None else str(value)


def set_bar(tx: Tx, worker_id: int, reason: str | None, now: str) -> None:
    """Bars the worker from tasks (a reason), or lets them back (None)."""
    if reason is None:
        tx.execute(
            "UPDATE workers SET suspended_at = NULL, suspension_reason = NULL WHERE id = ?",
            (worker_id,),
        )
    else:
        tx.execute(
            "UPDATE workers SET suspended_at = ?, suspension_reason = ?, waiting_since = NULL"
            " WHERE id = ?",
            (now, reason, worker_id),
        )


def record_action(
    tx: Tx, operator_id: int, worker_id: int, action: str, reason: str, now: str
) -> int:
    return tx.insert(
        "INSERT INTO operator_actions (operator_id, worker_id, action, reason, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (operator_id, worker_id, action, reason, now),
    )


def broadcast_audience(tx: Tx) -> int:
    return int(tx.value(f"SELECT COUNT(*) FROM workers WHERE {_REACHABLE}") or 0)


def queue_broadcast(tx: Tx, operator_id: int, text: str, now: str) -> tuple[int, int]:
    """Records a broadcast and queues it in the outbox's bulk lane for every reachable worker
    (one INSERT ... SELECT); returns (broadcast id, rows queued)."""
    broadcast_id = tx.insert(
        "INSERT INTO broadcasts (operator_id, text, recipients, created_at) VALUES (?, ?, 0, ?)",
        (operator_id, text, now),
    )
    queued = tx.execute(
        f"""
        INSERT INTO outbox (recipient, kind, params, dedupe_key, lane, due_at, created_at)
        SELECT id, 'op_broadcast', :params, 'broadcast:' || :id || ':' || id, 'bulk', :now, :now
        FROM workers WHERE {_REACHABLE}
        ON CONFLICT (dedupe_key) DO NOTHING
        """,
        {"params": json.dumps({"body": text}, ensure_ascii=False), "id": broadcast_id, "now": now},
    )
    tx.execute("UPDATE broadcasts SET recipients = ? WHERE id = ?", (queued, broadcast_id))
    if queued:
        outbox_db.notify_queued()
    return broadcast_id, queued


def active_workers_by_pack(tx: Tx, since: str) -> dict[int, int]:
    """Workers who answered on each pack since a moment."""
    rows = tx.all(
        "SELECT pack_pk, COUNT(DISTINCT worker_id) FROM assignments"
        " WHERE status = 'answered' AND closed_at >= ? GROUP BY pack_pk",
        (since,),
    )
    return {row[0]: int(row[1]) for row in rows}


def answers_per_hour(tx: Tx, pack_pk: int) -> list[tuple[str, int]]:
    """('2026-11-23T08', answers) for each hour of the pack's life that had answers."""
    rows = tx.all(
        "SELECT substr(closed_at, 1, 13) AS hour, COUNT(*) FROM assignments"
        " WHERE pack_pk = ? AND status = 'answered' GROUP BY hour ORDER BY hour",
        (pack_pk,),
    )
    return [(row[0], int(row[1])) for row in rows]


def trust_scores(tx: Tx, pack_pk: int) -> list[float]:
    """Each worker's smoothed accuracy on the pack's check questions (after some gold)."""
    rows: list[sqlite3.Row] = tx.all(
        "SELECT accuracy FROM worker_quality WHERE pack_pk = ? AND gold_total > 0"
        " ORDER BY accuracy",
        (pack_pk,),
    )
    return [float(row[0]) for row in rows]


def median_seconds_all_packs(tx: Tx) -> float | None:
    """The median answer time over every pack (the pace to expect of a new pack)."""
    count = int(
        tx.value(
            "SELECT COUNT(*) FROM assignments WHERE status = 'answered' AND seconds IS NOT NULL"
        )
        or 0
    )
    if count == 0:
        return None
    rows = tx.all(
        "SELECT seconds FROM assignments WHERE status = 'answered' AND seconds IS NOT NULL"
        f" ORDER BY seconds LIMIT {2 - count % 2} OFFSET {(count - 1) // 2}"
    )
    values = [float(row[0]) for row in rows]
    return sum(values) / len(values)
