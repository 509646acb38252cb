"""The one outbox: every message the bot sends on its own, and its delivery state.

Whoever queues (a handler, a job, the CLI in another process) calls `enqueue` inside its own
unit of work, so the message exists exactly when the fact it tells of does. The sender claims
due rows, sends, and records the outcome (tasks/outbox.py, handlers/outbox.py).

A sender in this process may listen (`listen`): it is woken as soon as a row is queued here
instead of at its next poll. The call comes from the database thread, inside the transaction:
the listener must only schedule a look (the sender's read waits for the commit, on the same
connection); a rolled-back row makes one needless look.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from db.core import Tx

Lane = Literal["interactive", "bulk"]

_listeners: set[Callable[[], None]] = set()


def listen(callback: Callable[[], None]) -> Callable[[], None]:
    """Calls `callback` (from the database thread) whenever a row is queued in this process;
    returns the function that stops it."""
    _listeners.add(callback)
    return lambda: _listeners.discard(callback)


def _queued() -> None:
    for callback in list(_listeners):
        callback()


def notify_queued() -> None:
    """For a module that queued rows with its own SQL (a broadcast): wake the listeners."""
    _queued()


def enqueue(
    tx: Tx,
    *,
    recipient: int | None,
    kind: str,
    params: dict[str, Any],
    dedupe_key: str,
    now: str,
    due_at: str | None = None,
    lane: Lane = "interactive",
) -> bool:
    """Queues one message (recipient None: every operator); False if its dedupe key was used."""
    changed = tx.execute(
        "INSERT INTO outbox (recipient, kind, params, dedupe_key, lane, due_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        (
            recipient,
            kind,
            json.dumps(params, ensure_ascii=False),
            dedupe_key,
            lane,
            due_at or now,
            now,
        ),
    )
    if changed:
        _queued()
    return bool(changed)


def enqueue_statements(tx: Tx, params: dict[str, Any]) -> int:
    """Queues the statements of :week for workers :lo..:hi (bulk lane), each due at its zone's
    statement time (:zones maps a zone name to it, :default_due for the rest); a statement
    already queued is left as it is. Returns how many were queued."""
    changed = tx.execute(
        """
        INSERT INTO outbox (recipient, kind, params, dedupe_key, lane, due_at, created_at)
        SELECT s.worker_id, 'statement', json_object('statement_id', s.id),
               'statement:' || s.week || ':' || s.worker_id, 'bulk',
               COALESCE(z.value, :default_due), :now
        FROM statements AS s
        JOIN workers AS w ON w.id = s.worker_id
        LEFT JOIN json_each(:zones) AS z ON z.key = w.timezone
        WHERE s.week = :week AND s.worker_id BETWEEN :lo AND :hi
        ORDER BY s.worker_id
        ON CONFLICT (dedupe_key) DO NOTHING
        """,
        params,
    )
    if changed:
        _queued()
    return changed


@dataclass(frozen=True)
class Pending:
    """A row to look at, with what the sender needs to know of its recipient."""

    id: int
    recipient: int | None  # None: every operator
    kind: str
    params: dict[str, Any]
    dedupe_key: str
    lane: Lane
    attempts: int
    language: str | None  # None: not a worker (yet)
    timezone: str | None
    blocked: bool


def pending(tx: Tx, lane: Lane, now: str, limit: int) -> list[Pending]:
    """Rows of a lane to look at now, oldest due first: due, or claimed by a sender whose claim
    ran out (it died between a send and its record)."""
    rows = tx.all(
        """
        SELECT o.id, o.recipient, o.kind, o.params, o.dedupe_key, o.lane, o.attempts,
               w.language, w.timezone, w.blocked_at IS NOT NULL
        FROM outbox AS o
        LEFT JOIN workers AS w ON w.id = o.recipient
        WHERE o.lane = ? AND o.status IN ('due', 'sending') AND o.due_at <= ?
        ORDER BY o.due_at, o.id LIMIT ?
        """,
        (lane, now, limit),
    )
    return [
        Pending(
            row[0],
            row[1],
            row[2],
            json.loads(row[3]),
            row[4],
            row[5],
            row[6],
            row[7],
            row[8],
            bool(row[9]),
        )
        for row in rows
    ]


NEXT_DUE_SQL = """
SELECT min(due_at) FROM (
    SELECT min(due_at) AS due_at FROM outbox
    WHERE lane = 'interactive' AND status IN ('due', 'sending')
    UNION ALL
    SELECT min(due_at) FROM outbox WHERE lane = 'bulk' AND status IN ('due', 'sending')
)
"""


def next_due(tx: Tx) -> str | None:
    """The earliest due time of anything still to send: the sender's poll (two index seeks)."""
    value: str | None = tx.value(NEXT_DUE_SQL)
    return value


def claim(tx: Tx, row_id: int, until: str) -> None:
    tx.execute(
        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, due_at = ? WHERE id = ?",
        (until, row_id),
    )


def postpone(tx: Tx, row_id: int, until: str) -> None:
    tx.execute("UPDATE outbox SET status = 'due', due_at = ? WHERE id = ?", (until, row_id))


def finish(tx: Tx, row_id: int, status: str, now: str, error: str | None = None) -> None:
    tx.execute(
        "UPDATE outbox SET status = ?, sent_at = CASE WHEN ? = 'sent' THEN ? END,"
        " last_error = COALESCE(?, last_error) WHERE id = ?",
        (status, status, now, error, row_id),
    )


def retry_later(tx: Tx, row_id: int, until: str, error: str) -> None:
    tx.execute(
        "UPDATE outbox SET status = 'due', due_at = ?, last_error = ? WHERE id = ?",
        (until, error, row_id),
    )


def release(tx: Tx, row_id: int, now: str) -> None:
    """A claimed row not sent (the sender is stopping): due again at once, attempt undone."""
    tx.execute(
        "UPDATE outbox SET status = 'due', due_at = ?, attempts = attempts - 1"
        " WHERE id = ? AND status = 'sending'",
        (now, row_id),
    )


BLOCKED_NOTE = "blocked by the user"


def hold(tx: Tx, row_id: int, now: str) -> None:
    """The recipient blocked the bot: the row is held ('blocked', held_at) until they come back
    (`held`, `requeue`, `drop_held`)."""
    tx.execute(
        "UPDATE outbox SET status = 'blocked', held_at = ?, last_error = ? WHERE id = ?",
        (now, BLOCKED_NOTE, row_id),
    )


@dataclass(frozen=True)
class Held:
    """A row held for a recipient who blocked the bot."""

    id: int
    kind: str
    created_at: str
    week: str | None  # a statement's week ('2026-W48'); None for anything else


def held(tx: Tx, recipient: int) -> list[Held]:
    """The rows held for one recipient, oldest first (the partial index outbox_held)."""
    rows = tx.all(
        """
        SELECT o.id, o.kind, o.created_at, s.week
        FROM outbox AS o
        LEFT JOIN statements AS s
               ON o.kind = 'statement' AND s.id = json_extract(o.params, '$.statement_id')
        WHERE o.recipient = ? AND o.held_at IS NOT NULL
        ORDER BY o.id
        """,
        (recipient,),
    )
    return [Held(row[0], row[1], row[2], row[3]) for row in rows]


def requeue(tx: Tx, row_ids: list[int], now: str) -> int:
    """Held rows due again now (their lane, their quiet hours); returns how many."""
    changed = 0
    for row_id in row_ids:
        changed += tx.execute(
            "UPDATE outbox SET status = 'due', due_at = ?, held_at = NULL"
            " WHERE id = ? AND held_at IS NOT NULL",
            (now, row_id),
        )
    if changed:
        _queued()
    return changed


def drop_held(tx: Tx, dropped: list[tuple[int, str]]) -> None:
    """Held rows given up for good, each (id, why): they stay 'blocked', held no more."""
    for row_id, why in dropped:
        tx.execute(
            "UPDATE outbox SET held_at = NULL, last_error = ? WHERE id = ? AND held_at IS NOT NULL",
            (f"{BLOCKED_NOTE}; dropped on their return: {why}", row_id),
        )


def make_due(tx: Tx, kind: str, dedupe_prefix: str, now: str) -> int:
    """Rows of one kind and dedupe-key prefix (one week's statements) waiting for a later time
    become due now (quiet hours still hold them when the sender looks)."""
    return tx.execute(
        "UPDATE outbox SET due_at = ? WHERE dedupe_key >= ? AND dedupe_key < ? AND kind = ?"
        " AND status = 'due' AND due_at > ?",
        (now, dedupe_prefix, dedupe_prefix + "\uffff", kind, now),
    )


def counts_by_status(tx: Tx, kind: str, dedupe_prefix: str) -> dict[str, int]:
    """How many rows of one kind (and dedupe-key prefix, e.g. one week's statements) are in
    each state."""
    rows = tx.all(
        "SELECT status, count(*) FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ?"
        " AND kind = ? GROUP BY status",
        (dedupe_prefix, dedupe_prefix + "\uffff", kind),
    )
    return {row[0]: row[1] for row in rows}
