"""Disputes on missed gold answers: opening, the worker's comment, the operator's decision."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from db.core import Tx
from db.media import described


@dataclass(frozen=True)
class Disputable:
    """An answer as a dispute on it would record it (whether it may be disputed is the
    domain's call)."""

    assignment_id: int
    worker_id: int
    task_pk: int
    pack_pk: int
    status: str
    answer: str | None
    is_gold: bool
    gold: str | None
    dispute_id: int | None  # this answer's dispute, if it was disputed already


@dataclass(frozen=True)
class Dispute:
    """A dispute with its task and pack, as operators and the worker's notices need it."""

    id: int
    worker_id: int
    task_pk: int
    pack_pk: int
    answer: str  # the option the worker chose
    expected: str  # the gold answer when it was disputed
    comment: str | None
    status: str  # open, accepted, rejected
    pack_id: str
    options: tuple[tuple[str, str], ...]  # (id, label) of the pack's options
    task_id: str
    text: str
    explanation: str | None
    review: bool  # the gold item is flagged for review


def disputable(tx: Tx, assignment_id: int) -> Disputable | None:
    row = tx.one(
        """
        SELECT a.id, a.worker_id, a.task_pk, a.pack_pk, a.status, a.answer, a.is_gold,
               t.gold, d.id AS dispute_id
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        LEFT JOIN disputes AS d ON d.assignment_id = a.id
        WHERE a.id = ?
        """,
        (assignment_id,),
    )
    if row is None:
        return None
    return Disputable(
        assignment_id=row["id"],
        worker_id=row["worker_id"],
        task_pk=row["task_pk"],
        pack_pk=row["pack_pk"],
        status=row["status"],
        answer=row["answer"],
        is_gold=bool(row["is_gold"]),
        gold=row["gold"],
        dispute_id=row["dispute_id"],
    )


def insert(tx: Tx, answer: Disputable, now: str) -> int:
    return tx.insert(
        "INSERT INTO disputes (assignment_id, worker_id, task_pk, pack_pk, answer, expected,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            answer.assignment_id,
            answer.worker_id,
            answer.task_pk,
            answer.pack_pk,
            answer.answer,
            answer.gold,
            now,
        ),
    )


_SELECT = """
SELECT d.id, d.worker_id, d.task_pk, d.pack_pk, d.answer, d.expected, d.comment, d.status,
       p.id AS pack_id, p.options, t.task_id, t.content, t.explanation,
       t.review
FROM disputes AS d JOIN tasks AS t ON t.pk = d.task_pk JOIN packs AS p ON p.pk = d.pack_pk
"""


def get(tx: Tx, dispute_id: int) -> Dispute | None:
    row = tx.one(_SELECT + " WHERE d.id = ?", (dispute_id,))
    return None if row is None else _dispute(row)


def open_ones(tx: Tx, limit: int = 100) -> list[Dispute]:
    """Open disputes, oldest first."""
    rows = tx.all(_SELECT + " WHERE d.status = 'open' ORDER BY d.id LIMIT ?", (limit,))
    return [_dispute(row) for row in rows]


def open_on_task(tx: Tx, task_pk: int) -> list[Dispute]:
    rows = tx.all(_SELECT + " WHERE d.task_pk = ? AND d.status = 'open' ORDER BY d.id", (task_pk,))
    return [_dispute(row) for row in rows]


def set_comment(tx: Tx, dispute_id: int, comment: str) -> bool:
    return bool(
        tx.execute(
            "UPDATE disputes SET comment = ? WHERE id = ? AND status = 'open'",
            (comment, dispute_id),
        )
    )


def resolve(tx: Tx, dispute_id: int, status: str, resolution: str, now: str) -> bool:
    """Closes an open dispute; False if it was no longer open."""
    return bool(
        tx.execute(
            "UPDATE disputes SET status = ?, resolution = ?, resolved_at = ?"
            " WHERE id = ? AND status = 'open'",
            (status, resolution, now, dispute_id),
        )
    )


def _dispute(row: sqlite3.Row) -> Dispute:
    return Dispute(
        id=row["id"],
        worker_id=row["worker_id"],
        task_pk=row["task_pk"],
        pack_pk=row["pack_pk"],
        answer=row["answer"],
        expected=row["expected"],
        comment=row["comment"],
        status=row["status"],
        pack_id=row["pack_id"],
        options=tuple((item["id"], item["label"]) for item in json.loads(row["options"])),
        task_id=row["task_id"],
        text=described(row["content"]),  # a media task names its file (db/media.py)
        explanation=row["explanation"],
        review=bool(row["review"]),
    )
