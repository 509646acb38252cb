"""Workers: who they are, what they agreed to, whether we may write to them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from db.core import Tx


@dataclass(frozen=True)
class Worker:
    """A worker as the domain sees them: who, in which language, and what they agreed to."""

    id: int
    language: str
    consented: bool
    paused: bool
    waiting: bool  # ran out of work: told once when more arrives
    blocked: bool  # Telegram said 403: nothing is pushed until they write again
    # An operator barred them (the Suspend button; column suspended_at): no task is handed out.
    barred: bool = False


def worker_from(row: sqlite3.Row | None, worker_id: int | None = None) -> Worker | None:
    """A row of `workers` (or a query that selects its columns) as a Worker."""
    if row is None:
        return None
    return Worker(
        id=row["id"] if worker_id is None else worker_id,
        language=row["language"],
        consented=row["consented_at"] is not None,
        paused=bool(row["paused"]),
        waiting=row["waiting_since"] is not None,
        blocked=row["blocked_at"] is not None,
        barred=row["suspended_at"] is not None,
    )


def upsert(
    tx: Tx,
    worker_id: int,
    *,
    first_name: str,
    username: str | None,
    language_code: str | None,
    language: str,
    now: str,
) -> Worker:
    """Creates the worker or refreshes their profile. A 'blocked' mark stays: the caller sees
    it and lifts it with `unblock` (what was held for them is decided in the same unit of work,
    tasks/work.py)."""
    row = tx.one(
        """
        INSERT INTO workers (id, first_name, username, language_code, language,
                             created_at, last_seen_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET
            first_name = excluded.first_name,
            username = excluded.username,
            language_code = excluded.language_code,
            language = CASE WHEN workers.language_chosen THEN workers.language
                            ELSE excluded.language END,
            last_seen_at = excluded.last_seen_at
        RETURNING *
        """,
        (worker_id, first_name, username, language_code, language, now, now),
    )
    worker = worker_from(row)
    assert worker is not None
    return worker


def get(tx: Tx, worker_id: int) -> Worker | None:
    return worker_from(tx.one("SELECT * FROM workers WHERE id = ?", (worker_id,)))


def touch(tx: Tx, worker_id: int, now: str) -> Worker | None:
    """Marks the worker seen; returns them, None if unknown (a 'blocked' mark stays, as with
    `upsert`)."""
    return worker_from(
        tx.one("UPDATE workers SET last_seen_at = ? WHERE id = ? RETURNING *", (now, worker_id))
    )


def unblock(tx: Tx, worker_id: int) -> bool:
    """A worker who had blocked the bot wrote or pressed again: reachable. False if they were
    not marked blocked."""
    changed = tx.execute(
        "UPDATE workers SET blocked_at = NULL WHERE id = ? AND blocked_at IS NOT NULL",
        (worker_id,),
    )
    return changed > 0


def set_consented(tx: Tx, worker_id: int, now: str) -> None:
    tx.execute(
        "UPDATE workers SET consented_at = COALESCE(consented_at, ?), paused = 0 WHERE id = ?",
        (now, worker_id),
    )


def set_paused(tx: Tx, worker_id: int, paused: bool) -> None:
    tx.execute("UPDATE workers SET paused = ? WHERE id = ?", (int(paused), worker_id))


def set_language(tx: Tx, worker_id: int, language: str) -> None:
    tx.execute(
        "UPDATE workers SET language = ?, language_chosen = 1 WHERE id = ?", (language, worker_id)
    )


def set_blocked(tx: Tx, worker_id: int, now: str) -> None:
    tx.execute(
        "UPDATE workers SET blocked_at = ?, waiting_since = NULL WHERE id = ?", (now, worker_id)
    )


def set_waiting(tx: Tx, worker_id: int, since: str | None) -> None:
    tx.execute("UPDATE workers SET waiting_since = ? WHERE id = ?", (since, worker_id))


def waiting(tx: Tx, limit: int) -> list[Worker]:
    """Workers who ran out of work and may be told of new work, longest waiting first."""
    rows = tx.all(
        """
        SELECT * FROM workers
        WHERE waiting_since IS NOT NULL AND blocked_at IS NULL AND paused = 0
              AND consented_at IS NOT NULL AND suspended_at IS NULL
        ORDER BY waiting_since LIMIT ?
        """,
        (limit,),
    )
    return [worker for worker in map(worker_from, rows) if worker is not None]


def timezones(tx: Tx) -> list[str]:
    return [
        row[0] for row in tx.all("SELECT DISTINCT timezone FROM workers WHERE timezone IS NOT NULL")
    ]


def exists(tx: Tx, worker_id: int) -> bool:
    return bool(tx.value("SELECT 1 FROM workers WHERE id = ?", (worker_id,)) == 1)


def display_names(tx: Tx, worker_ids: list[int]) -> dict[int, str]:
    """The name an operator knows each worker by (first name, else username; '' if neither)."""
    if not worker_ids:
        return {}
    marks = ",".join("?" * len(worker_ids))
    rows = tx.all(
        "SELECT id, COALESCE(NULLIF(first_name, ''), username, '') FROM workers"
        f" WHERE id IN ({marks})",
        worker_ids,
    )
    return {row[0]: row[1] for row in rows}
