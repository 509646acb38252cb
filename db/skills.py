"""Workers' skills learned from all their answers (migration 017): what the EM reads (a pack's
counted answers, in one read transaction) and what it writes (one short transaction per pack)."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

from db.core import Tx


@dataclass
class PackAnswers:
    """A pack's counted answers as parallel columns (gold answers included), read at once."""

    task_pks: array[int] = field(default_factory=lambda: array("q"))
    worker_ids: array[int] = field(default_factory=lambda: array("q"))
    answers: list[str] = field(default_factory=list)
    # Per task with answers: its gold key when it anchors the fit (a gold task in service, not
    # under review), else None.
    gold: dict[int, str | None] = field(default_factory=dict)
    last_answer_id: int = 0


def pack_answers(tx: Tx, pack_pk: int) -> PackAnswers:
    """Every counted answer of the pack (index assignments_answer_times: pack, status, id)."""
    rows = tx.conn.execute(
        """
        SELECT a.id, a.task_pk, a.worker_id, a.answer,
               CASE WHEN t.retired = 0 AND t.review = 0 THEN t.gold END
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.pack_pk = ? AND a.status = 'answered' AND a.excluded = 0
              AND a.answer IS NOT NULL
        """,
        (pack_pk,),
    )
    found = PackAnswers()
    last = 0
    for answer_id, task_pk, worker_id, answer, gold in rows:
        found.task_pks.append(task_pk)
        found.worker_ids.append(worker_id)
        found.answers.append(answer)
        found.gold[task_pk] = gold
        last = max(last, answer_id)
    found.last_answer_id = last
    return found


@dataclass(frozen=True)
class SkillRun:
    """The latest fit of a pack (a skill_runs row)."""

    pack_pk: int
    method: str
    computed_at: str
    answers: int
    last_answer_id: int
    workers: int
    tasks: int
    gold_answers: int
    iterations: int
    seconds: float
    prior_mean: float
    priors: str  # JSON: option id -> share


def latest_run(tx: Tx, pack_pk: int) -> SkillRun | None:
    row = tx.one(
        "SELECT pack_pk, method, computed_at, answers, last_answer_id, workers, tasks,"
        " gold_answers, iterations, seconds, prior_mean, priors FROM skill_runs WHERE pack_pk = ?",
        (pack_pk,),
    )
    return None if row is None else SkillRun(*row)


def all_runs(tx: Tx) -> dict[int, SkillRun]:
    rows = tx.all(
        "SELECT pack_pk, method, computed_at, answers, last_answer_id, workers, tasks,"
        " gold_answers, iterations, seconds, prior_mean, priors FROM skill_runs"
    )
    return {row[0]: SkillRun(*row) for row in rows}


def counted(tx: Tx, pack_pk: int) -> tuple[int, int]:
    """The pack's counted answers now: how many, and the newest assignment id among them (what
    a fit that read them all stored in skill_runs)."""
    row = tx.one(
        "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM assignments WHERE pack_pk = ?"
        " AND status = 'answered' AND excluded = 0 AND answer IS NOT NULL",
        (pack_pk,),
    )
    assert row is not None
    return int(row[0]), int(row[1])


def answers_after(tx: Tx, pack_pk: int, after_id: int) -> int:
    """Answers given on the pack after assignment `after_id` (an index range count)."""
    return int(
        tx.value(
            "SELECT COUNT(*) FROM assignments WHERE pack_pk = ? AND status = 'answered' AND id > ?",
            (pack_pk, after_id),
        )
    )


def store_run(tx: Tx, run: SkillRun, skills: Sequence[tuple[int, float, int]]) -> bool:
    """The fit replaces the pack's previous one, unless that one read newer answers (two
    refreshes finishing out of order: the later one stands). `skills`: (worker, skill, answers).
    Returns whether it was stored."""
    changed = tx.execute(
        """
        INSERT INTO skill_runs (pack_pk, method, computed_at, answers, last_answer_id, workers,
                                tasks, gold_answers, iterations, seconds, prior_mean, priors)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (pack_pk) DO UPDATE SET
            method = excluded.method, computed_at = excluded.computed_at,
            answers = excluded.answers, last_answer_id = excluded.last_answer_id,
            workers = excluded.workers, tasks = excluded.tasks,
            gold_answers = excluded.gold_answers, iterations = excluded.iterations,
            seconds = excluded.seconds, prior_mean = excluded.prior_mean, priors = excluded.priors
        WHERE excluded.last_answer_id >= skill_runs.last_answer_id
        """,
        (
            run.pack_pk,
            run.method,
            run.computed_at,
            run.answers,
            run.last_answer_id,
            run.workers,
            run.tasks,
            run.gold_answers,
            run.iterations,
            run.seconds,
            run.prior_mean,
            run.priors,
        ),
    )
    if not changed:
        return False
    tx.execute("DELETE FROM worker_skills WHERE pack_pk = ?", (run.pack_pk,))
    tx.conn.executemany(
        "INSERT INTO worker_skills (worker_id, pack_pk, skill, answers, computed_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(worker, run.pack_pk, skill, count, run.computed_at) for worker, skill, count in skills],
    )
    return True


def worker_skills(tx: Tx, pack_pk: int) -> dict[int, float]:
    """The pack's learned skill per worker (empty before its first fit)."""
    rows = tx.all("SELECT worker_id, skill FROM worker_skills WHERE pack_pk = ?", (pack_pk,))
    return {int(row[0]): float(row[1]) for row in rows}


def press_labels(tx: Tx, pack_pk: int) -> dict[int, str]:
    """Each task's label as the answer presses last set it (tasks.label), by task pk."""
    rows = tx.all(
        "SELECT pk, label FROM tasks WHERE pack_pk = ? AND gold IS NULL AND retired = 0"
        " AND label IS NOT NULL",
        (pack_pk,),
    )
    return {int(row[0]): str(row[1]) for row in rows}
