"""What exports read, streamed: the caller iterates inside one read transaction, and a row is
built only when it is asked for (memory does not grow with the pack)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from db.core import Tx


@dataclass(frozen=True)
class TaskAnswer:
    """A task in service, once per counting answer (answer None: a task without answers)."""

    task_pk: int
    task_id: str
    gold: str | None
    worker_id: int | None
    answer: str | None
    accuracy: float | None  # the answering worker's, None without a standing
    skill: float | None  # the worker's skill learned from all their answers (migration 017)


@dataclass(frozen=True)
class RawAnswer:
    task_id: str
    worker_id: int
    answer: str
    seconds: float | None
    gold: str | None
    is_gold: bool
    excluded: bool
    closed_at: str


def task_answers(tx: Tx, pack_pk: int) -> Iterator[TaskAnswer]:
    """Every task in service of the pack, in pk order, once per counting answer (once with
    answer None when it has none), with the answering worker's id, accuracy and skill."""
    rows = tx.conn.execute(
        """
        SELECT t.pk, t.task_id, t.gold, a.worker_id, a.answer, q.accuracy, s.skill
        FROM tasks AS t
        LEFT JOIN assignments AS a
               ON a.task_pk = t.pk AND a.status = 'answered' AND a.excluded = 0
        LEFT JOIN worker_quality AS q ON q.worker_id = a.worker_id AND q.pack_pk = a.pack_pk
        LEFT JOIN worker_skills AS s ON s.worker_id = a.worker_id AND s.pack_pk = a.pack_pk
        WHERE t.pack_pk = ? AND t.retired = 0
        ORDER BY t.pk
        """,
        (pack_pk,),
    )
    for row in rows:
        yield TaskAnswer(*row)


def raw_answers(tx: Tx, pack_pk: int) -> Iterator[RawAnswer]:
    """Every stored answer of the pack, in the order they were given."""
    rows = tx.conn.execute(
        """
        SELECT t.task_id, a.worker_id, a.answer, a.seconds, t.gold, a.is_gold, a.excluded,
               a.closed_at
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.pack_pk = ? AND a.status = 'answered'
        ORDER BY a.id
        """,
        (pack_pk,),
    )
    for task_id, worker_id, answer, seconds, gold, is_gold, excluded, closed_at in rows:
        yield RawAnswer(
            task_id, worker_id, answer, seconds, gold, bool(is_gold), bool(excluded), closed_at
        )
