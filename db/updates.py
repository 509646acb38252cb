"""The inbox: every update received from Telegram, stored before it is confirmed, until it is
done (db/migrations/008_inbox.sql). A unit of work marks its update processed in its own
transaction (db/core.py); the rest is here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from db.core import Tx


@dataclass(frozen=True)
class OpenUpdate:
    update_id: int
    body: str
    attempts: int
    processed: bool


def store(tx: Tx, updates: Sequence[tuple[int, str]], now: str) -> list[int]:
    """Stores the updates not stored yet; returns the ids of those that were new (a redelivered
    update is already there: stored once, handled once)."""
    fresh = []
    for update_id, body in updates:
        if tx.execute(
            "INSERT INTO inbox (update_id, body, received_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (update_id, body, now),
        ):
            fresh.append(update_id)
    return fresh


def mark_done(tx: Tx, update_ids: Iterable[int], now: str) -> None:
    """Done: nothing left to do. The JSON goes (the id stays, to recognise a redelivery until
    the prune): at hundreds of updates a second the bodies would weigh hundreds of MB."""
    tx.conn.executemany(
        "UPDATE inbox SET done_at = ?, body = '' WHERE update_id = ? AND done_at IS NULL",
        [(now, update_id) for update_id in update_ids],
    )


def open_updates(tx: Tx) -> list[OpenUpdate]:
    """The updates not done, oldest first (a user's updates in the order they sent them)."""
    return [
        OpenUpdate(row[0], row[1], row[2], row[3] is not None)
        for row in tx.all(
            "SELECT update_id, body, attempts, processed_at FROM inbox"
            " WHERE done_at IS NULL ORDER BY update_id"
        )
    ]


def start_again(tx: Tx, update_ids: Iterable[int]) -> None:
    """Counts one more attempt at handling each of these updates."""
    tx.conn.executemany(
        "UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ?",
        [(update_id,) for update_id in update_ids],
    )


def record_failure(tx: Tx, update_id: int, error: str) -> int:
    """Keeps the failure; returns the attempts made so far."""
    tx.execute("UPDATE inbox SET error = ? WHERE update_id = ?", (error[:2000], update_id))
    return int(tx.value("SELECT attempts FROM inbox WHERE update_id = ?", (update_id,)) or 0)


def set_aside(tx: Tx, update_id: int, now: str) -> None:
    tx.execute(
        "UPDATE inbox SET set_aside_at = ?, done_at = ? WHERE update_id = ?",
        (now, now, update_id),
    )


def prune(tx: Tx, done_before: str, set_aside_before: str, limit: int = 5000) -> int:
    """Forgets up to `limit` updates done long enough ago (set-aside ones are kept longer, to be
    looked at); a short transaction each, however many are due."""
    return tx.execute(
        "DELETE FROM inbox WHERE update_id IN ("
        " SELECT update_id FROM inbox WHERE done_at < ?"
        " AND (set_aside_at IS NULL OR set_aside_at < ?) LIMIT ?)",
        (done_before, set_aside_before, limit),
    )
