"""Workers' standings on packs (`worker_quality`): read once per unit of work as a `Standing`,
changed by the domain, written back whole."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from db.core import SyncTx, to_db_time


@dataclass
class Standing:
    """A worker's standing on one pack: their state, their gold record of this attempt, the
    streaks the answer path watches, and when training opens again."""

    worker_id: int
    pack_pk: int
    state: str  # training, qualified, failed, suspended, stopped
    reason: str | None  # why failed, suspended or stopped
    attempts: int
    since_id: int  # gold answers after this assignment id count (this attempt)
    good_until_id: int  # the last assignment of a good window: answers up to it count
    accuracy: float  # smoothed, over the window
    window_total: int
    window_correct: int
    gold_total: int
    train_total: int
    train_correct: int
    fast_streak: int
    same_option: str | None
    same_streak: int
    draws: int  # tasks handed out: numbers the random draws
    retry_at: datetime | None
    decided_at: datetime | None
    decided_gold: int | None  # gold answers seen when the last decision fell
    updated_at: datetime


def get(tx: SyncTx, worker_id: int, pack_pk: int) -> Standing | None:
    row = tx.one(
        "SELECT * FROM worker_quality WHERE worker_id = ? AND pack_pk = ?", (worker_id, pack_pk)
    )
    return None if row is None else _standing(row)


def insert(
    tx: SyncTx, worker_id: int, pack_pk: int, state: str, since_id: int, now: datetime
) -> Standing:
    row = tx.one(
        "INSERT INTO worker_quality (worker_id, pack_pk, state, since_id, updated_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING *",
        (worker_id, pack_pk, state, since_id, to_db_time(now)),
    )
    assert row is not None
    return _standing(row)


def save(tx: SyncTx, s: Standing) -> None:
    tx.execute(
        "UPDATE worker_quality SET state = ?, reason = ?, attempts = ?, since_id = ?,"
        " good_until_id = ?, accuracy = ?, window_total = ?, window_correct = ?, gold_total = ?,"
        " train_total = ?, train_correct = ?, fast_streak = ?, same_option = ?, same_streak = ?,"
        " draws = ?, retry_at = ?, decided_at = ?, decided_gold = ?, updated_at = ?"
        " WHERE worker_id = ? AND pack_pk = ?",
        (
            s.state,
            s.reason,
            s.attempts,
            s.since_id,
            s.good_until_id,
            s.accuracy,
            s.window_total,
            s.window_correct,
            s.gold_total,
            s.train_total,
            s.train_correct,
            s.fast_streak,
            s.same_option,
            s.same_streak,
            s.draws,
            _time(s.retry_at),
            _time(s.decided_at),
            s.decided_gold,
            to_db_time(s.updated_at),
            s.worker_id,
            s.pack_pk,
        ),
    )


def count_draw(tx: SyncTx, s: Standing) -> None:
    """A skip moves the draws on (the only change a skip makes)."""
    s.draws += 1
    tx.execute(
        "UPDATE worker_quality SET draws = ? WHERE worker_id = ? AND pack_pk = ?",
        (s.draws, s.worker_id, s.pack_pk),
    )


@dataclass(frozen=True)
class PackStanding:
    """A worker's standing on a pack, with what /score shows of the pack."""

    pack_title: str
    pack_header: str  # JSON: the pack's header, its `quality` block included
    standing: Standing


def of_worker(tx: SyncTx, worker_id: int) -> list[PackStanding]:
    """The worker's standing on each pack, in pack order."""
    rows = tx.all(
        "SELECT q.*, p.title, p.header FROM worker_quality AS q"
        " JOIN packs AS p ON p.pk = q.pack_pk WHERE q.worker_id = ? ORDER BY p.pk",
        (worker_id,),
    )
    return [PackStanding(row["title"], row["header"], _standing(row)) for row in rows]


def _standing(row: sqlite3.Row) -> Standing:
    return Standing(
        worker_id=row["worker_id"],
        pack_pk=row["pack_pk"],
        state=row["state"],
        reason=row["reason"],
        attempts=row["attempts"],
        since_id=row["since_id"],
        good_until_id=row["good_until_id"],
        accuracy=row["accuracy"],
        window_total=row["window_total"],
        window_correct=row["window_correct"],
        gold_total=row["gold_total"],
        train_total=row["train_total"],
        train_correct=row["train_correct"],
        fast_streak=row["fast_streak"],
        same_option=row["same_option"],
        same_streak=row["same_streak"],
        draws=row["draws"],
        retry_at=_parse(row["retry_at"]),
        decided_at=_parse(row["decided_at"]),
        decided_gold=row["decided_gold"],
        updated_at=_parse_time(row["updated_at"]),
    )


def _parse(text: str | None) -> datetime | None:
    return None if text is None else _parse_time(text)


def _parse_time(text: str) -> datetime:
    """from_db_time's result (aware UTC), at a hundredth of strptime's cost: a standing is read
    on every press. The stored text is fixed-width ISO 8601 ending in Z."""
    return datetime.fromisoformat(text)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else to_db_time(moment)
