"""Workers' standings on packs (`worker_quality`): read once per unit of work as a `Standing`,
changed by the domain, written back whole."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from db.core import Tx, to_db_time


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
    accuracy: float  # smoothed, over every gold answer of the attempt
    points: int  # the sequential test's total (tasks/quality/rules.py Plan)
    score_sum: float  # the gold scores of the attempt, summed
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
    # The columns as last read or written: save() writes only what differs.
    saved: tuple[Any, ...] = field(default=(), repr=False, compare=False)


_COLUMNS = (
    "state",
    "reason",
    "attempts",
    "since_id",
    "good_until_id",
    "accuracy",
    "points",
    "score_sum",
    "gold_total",
    "train_total",
    "train_correct",
    "fast_streak",
    "same_option",
    "same_streak",
    "draws",
    "retry_at",
    "decided_at",
    "decided_gold",
    "updated_at",
)


def _values(s: Standing) -> tuple[Any, ...]:
    return tuple(getattr(s, name) for name in _COLUMNS)


def get(tx: Tx, worker_id: int, pack_pk: int) -> Standing | None:
    row = tx.one(
        "SELECT * FROM worker_quality WHERE worker_id = ? AND pack_pk = ?", (worker_id, pack_pk)
    )
    return None if row is None else _standing(row)


def insert(
    tx: Tx, worker_id: int, pack_pk: int, state: str, since_id: int, now: datetime
) -> Standing:
    row = tx.one(
        "INSERT INTO worker_quality (worker_id, pack_pk, state, since_id, updated_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING *",
        (worker_id, pack_pk, state, since_id, to_db_time(now)),
    )
    assert row is not None
    return _standing(row)


def save(tx: Tx, s: Standing) -> None:
    """Writes back the columns that changed since the standing was read or last saved (a
    press mostly moves streaks and counts: the state, and its index, stay untouched)."""
    values = _values(s)
    changed = [i for i, value in enumerate(values) if not s.saved or value != s.saved[i]]
    if not changed:
        return
    tx.execute(
        f"UPDATE worker_quality SET {', '.join(f'{_COLUMNS[i]} = ?' for i in changed)}"
        " WHERE worker_id = ? AND pack_pk = ?",
        (*[_stored(values[i]) for i in changed], s.worker_id, s.pack_pk),
    )
    s.saved = values


def count_draw(tx: Tx, s: Standing) -> None:
    """A skip moves the draws on (the only change a skip makes)."""
    s.draws += 1
    save(tx, s)


@dataclass(frozen=True)
class PackStanding:
    """A worker's standing on a pack, with what /score shows of the pack."""

    pack_title: str
    pack_header: str  # JSON: the pack's header, its `quality` block included
    standing: Standing


def of_worker(tx: Tx, worker_id: int) -> list[PackStanding]:
    """The worker's standing on each pack, in pack order."""
    rows = tx.all(
        "SELECT q.*, p.title, p.header FROM worker_quality AS q"
        " JOIN packs AS p ON p.pk = q.pack_pk WHERE q.worker_id = ? ORDER BY p.pk",
        (worker_id,),
    )
    return [PackStanding(row["title"], row["header"], _standing(row)) for row in rows]


def marked_for_rejudging(tx: Tx) -> dict[int, list[int]]:
    """The standings migration 009 marked, as {pack_pk: [worker_id, ...]}."""
    found: dict[int, list[int]] = {}
    for row in tx.all(
        "SELECT pack_pk, worker_id FROM worker_quality WHERE rejudge = 1"
        " ORDER BY pack_pk, worker_id"
    ):
        found.setdefault(int(row[0]), []).append(int(row[1]))
    return found


def rejudged(tx: Tx, pack_pk: int) -> None:
    tx.execute(
        "UPDATE worker_quality SET rejudge = 0 WHERE pack_pk = ? AND rejudge = 1", (pack_pk,)
    )


def _standing(row: sqlite3.Row) -> Standing:
    standing = Standing(
        worker_id=row["worker_id"],
        pack_pk=row["pack_pk"],
        state=row["state"],
        reason=row["reason"],
        attempts=row["attempts"],
        since_id=row["since_id"],
        good_until_id=row["good_until_id"],
        accuracy=row["accuracy"],
        points=row["points"],
        score_sum=row["score_sum"],
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
    standing.saved = _values(standing)
    return standing


def _parse(text: str | None) -> datetime | None:
    return None if text is None else _parse_time(text)


def _parse_time(text: str) -> datetime:
    """from_db_time's result (aware UTC), at a hundredth of strptime's cost: a standing is read
    on every press. The stored text is fixed-width ISO 8601 ending in Z."""
    return datetime.fromisoformat(text)


def _stored(value: Any) -> Any:
    return to_db_time(value) if isinstance(value, datetime) else value
