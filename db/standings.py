"""Workers' standings on packs (`worker_quality`), stored: a row read as a `StandingRow`, and
written back with only the columns that changed. What a standing is and what happens to it is
the domain's (tasks/quality/standing.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from db.core import Tx, to_db_time


class StandingRow(NamedTuple):
    """A row of `worker_quality` as stored, times as aware datetimes (the field names are the
    columns'). The domain's `Standing` (tasks/quality/standing.py) is read from it and written
    back as one."""

    worker_id: int
    pack_pk: int
    state: str  # training, qualified, failed, suspended, stopped
    reason: str | None
    attempts: int
    since_id: int
    good_until_id: int
    accuracy: float
    points: int
    score_sum: float
    gold_total: int
    train_total: int
    train_correct: int
    fast_streak: int
    same_option: str | None
    same_streak: int
    draws: int
    retry_at: datetime | None
    decided_at: datetime | None
    decided_gold: int | None
    updated_at: datetime


_KEY = 2  # worker_id, pack_pk: the fields before it are the primary key
_INSERT = (
    f"INSERT INTO worker_quality ({', '.join(StandingRow._fields)})"
    f" VALUES ({', '.join('?' for _ in StandingRow._fields)})"
)


def get(tx: Tx, worker_id: int, pack_pk: int) -> StandingRow | None:
    row = tx.one(
        "SELECT * FROM worker_quality WHERE worker_id = ? AND pack_pk = ?", (worker_id, pack_pk)
    )
    return None if row is None else _standing(row)


def insert(tx: Tx, standing: StandingRow) -> None:
    tx.execute(_INSERT, tuple(_stored(value) for value in standing))


def update(tx: Tx, standing: StandingRow, before: StandingRow | None) -> None:
    """Writes the columns that differ from `before` (the row as read or last written; None:
    every column)."""
    changed = [i for i in range(_KEY, len(standing)) if before is None or standing[i] != before[i]]
    if not changed:
        return
    tx.execute(
        "UPDATE worker_quality SET"
        f" {', '.join(f'{StandingRow._fields[i]} = ?' for i in changed)}"
        " WHERE worker_id = ? AND pack_pk = ?",
        (*[_stored(standing[i]) for i in changed], standing.worker_id, standing.pack_pk),
    )


@dataclass(frozen=True)
class PackStanding:
    """A worker's standing on a pack, with what /score shows of the pack."""

    pack_title: str
    pack_header: str  # JSON: the pack's header, its `quality` block included
    standing: StandingRow


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


def _standing(row: sqlite3.Row) -> StandingRow:
    return StandingRow(
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


def _parse(text: str | None) -> datetime | None:
    return None if text is None else _parse_time(text)


def _parse_time(text: str) -> datetime:
    """from_db_time's result (aware UTC), at a hundredth of strptime's cost: a standing is read
    on every press. The stored text is fixed-width ISO 8601 ending in Z."""
    return datetime.fromisoformat(text)


def _stored(value: Any) -> Any:
    return to_db_time(value) if isinstance(value, datetime) else value
