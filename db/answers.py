"""Answers as quality reads them: answer times, a worker's gold record, a task's votes, and
whether an answer counts in the results (`assignments.excluded`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from db.core import Tx


@dataclass
class TaskVotes:
    """A task's counting answers, each with its worker's accuracy on the gold (None: no
    standing) and skill learned from all their answers (None: not fitted yet, migration 017),
    and how many leases on it are still open."""

    answers: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    open_leases: int = 0


RECENT_SECONDS_SQL = """
SELECT seconds FROM assignments
WHERE pack_pk = ? AND status = 'answered' AND seconds IS NOT NULL
ORDER BY id DESC LIMIT ?
"""


def recent_seconds(tx: Tx, pack_pk: int, sample: int = 501) -> list[float]:
    """Answer times of the pack's latest answers (for its median), newest first from the
    index assignments_answer_times (migration 005): no sort of every answer of the pack."""
    return [float(row[0]) for row in tx.all(RECENT_SECONDS_SQL, (pack_pk, sample))]


TASK_VOTES_SQL = """
SELECT a.status, a.answer, q.accuracy, {skill}
FROM assignments AS a
LEFT JOIN worker_quality AS q ON q.worker_id = a.worker_id AND q.pack_pk = a.pack_pk
{join}
WHERE a.task_pk = ? AND a.status IN ('open', 'answered') AND a.excluded = 0
"""
GOLD_VOTES_SQL = TASK_VOTES_SQL.format(skill="NULL", join="")
LEARNED_VOTES_SQL = TASK_VOTES_SQL.format(
    skill="s.skill",
    join="LEFT JOIN worker_skills AS s ON s.worker_id = a.worker_id AND s.pack_pk = a.pack_pk",
)


def task_votes(tx: Tx, task_pk: int, learned: bool = False) -> TaskVotes:
    """The task's counting answers and open leases, each answer with its worker's accuracy
    and, with `learned`, their learned skill (one more primary-key lookup per answer)."""
    rows = tx.all(LEARNED_VOTES_SQL if learned else GOLD_VOTES_SQL, (task_pk,))
    votes = TaskVotes()
    for status, answer, accuracy, skill in rows:
        if status == "open":
            votes.open_leases += 1
        else:
            votes.answers.append((answer, accuracy, skill))
    return votes


def set_task_result(
    tx: Tx, task_pk: int, label: str | None, confidence: float, remaining: int, done: bool
) -> None:
    """A task's trust-weighted result, and the slots dynamic overlap still gives it."""
    tx.execute(
        "UPDATE tasks SET label = ?, confidence = ?, remaining = ?, done = ?"
        " WHERE pk = ? AND retired = 0 AND gold IS NULL",
        (label, confidence, remaining, int(done), task_pk),
    )


def set_excluded(tx: Tx, worker_id: int, pack_pk: int, after_id: int, excluded: bool) -> list[int]:
    """Marks the worker's answers on the pack after `after_id` as (not) counting; returns the
    tasks (not gold) whose votes changed."""
    rows = tx.all(
        "UPDATE assignments SET excluded = ? WHERE worker_id = ? AND pack_pk = ? AND id > ?"
        " AND status = 'answered' AND excluded != ? RETURNING task_pk, is_gold",
        (int(excluded), worker_id, pack_pk, after_id, int(excluded)),
    )
    return sorted({int(row[0]) for row in rows if not row[1]})


def last_id(tx: Tx) -> int:
    """The latest assignment id: answers after it belong to a new attempt."""
    return int(tx.value("SELECT COALESCE(MAX(id), 0) FROM assignments"))
