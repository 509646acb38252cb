"""Gold tasks (tasks with an expected answer): the pick, the pack's gold statistics, and an
item's review (flag, correction, retirement)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from db.core import Tx
from db.media import has_media


@dataclass(frozen=True)
class GoldTask:
    """A gold item as disputes and reviews see it."""

    pk: int
    pack_pk: int
    task_id: str
    text: str
    gold: str | None  # None: not (or no longer) a gold task


@dataclass(frozen=True)
class FlaggedGold:
    """A gold item flagged for review: it counts against nobody until an operator decides."""

    pack_id: str
    task_id: str
    gold: str


@dataclass(frozen=True)
class ServedGold:
    pk: int
    text: str
    media: bool  # a task_media row to read (db/media.py has_media)


GOLD_PICK_SQL = """
SELECT t.pk, t.content
FROM tasks AS t
WHERE t.pack_pk = ? AND t.gold IS NOT NULL AND t.retired = 0 AND t.review = 0 AND t.pk >= ?
  AND t.media_off = 0
  AND NOT EXISTS (SELECT 1 FROM assignments AS a WHERE a.worker_id = ? AND a.task_pk = t.pk)
ORDER BY t.pk
LIMIT 1
"""


def pick(tx: Tx, pack_pk: int, worker_id: int, start_pk: int) -> ServedGold | None:
    """A gold task of the pack the worker has never seen, from `start_pk` on, wrapping around
    (a random start: workers do not all meet the same gold first). A task whose media is held
    or out of service (media_off) is not served: a check question must show what its gold was
    written for. It still counts in span(): the pack's quality control stays on, and a worker
    with no other check question left stops as when the gold runs out."""
    row = tx.one(GOLD_PICK_SQL, (pack_pk, start_pk, worker_id))
    if row is None and start_pk > 0:
        row = tx.one(GOLD_PICK_SQL, (pack_pk, 0, worker_id))
    if row is None:
        return None
    content = json.loads(row[1])
    return ServedGold(row[0], content["text"], has_media(content))


def span(tx: Tx, pack_pk: int) -> tuple[int, int, int]:
    """(gold tasks in service, lowest pk, highest pk) of a pack."""
    row = tx.one(
        "SELECT COUNT(*), COALESCE(MIN(pk), 0), COALESCE(MAX(pk), 0) FROM tasks"
        " WHERE pack_pk = ? AND gold IS NOT NULL AND retired = 0 AND review = 0",
        (pack_pk,),
    )
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def answer_counts(tx: Tx, pack_pk: int) -> list[int]:
    """How many gold tasks expect each answer (the shape of the pack's labels)."""
    rows = tx.all(
        "SELECT COUNT(*) FROM tasks WHERE pack_pk = ? AND gold IS NOT NULL AND retired = 0"
        " AND review = 0 GROUP BY gold",
        (pack_pk,),
    )
    return [int(row[0]) for row in rows]


def item_counts(tx: Tx, task_pk: int) -> tuple[int, int]:
    """(workers who count on this gold item, those of them who missed or disputed it).

    Counted: answers that still count from workers in good standing (qualified, or only waiting
    for more gold), and every worker who disputed it."""
    row = tx.one(
        """
        SELECT COUNT(*),
               COALESCE(SUM(NOT COALESCE(a.correct, a.answer = t.gold) OR d.id IS NOT NULL), 0)
        FROM assignments AS a
        JOIN tasks AS t ON t.pk = a.task_pk
        LEFT JOIN worker_quality AS q ON q.worker_id = a.worker_id AND q.pack_pk = a.pack_pk
        LEFT JOIN disputes AS d ON d.assignment_id = a.id
        WHERE a.task_pk = ? AND a.status = 'answered'
          AND ((a.excluded = 0 AND q.state IN ('qualified', 'stopped')) OR d.id IS NOT NULL)
        """,
        (task_pk,),
    )
    assert row is not None
    return int(row[0]), int(row[1])


def answerers(tx: Tx, task_pk: int) -> list[int]:
    """The workers who answered this item."""
    rows = tx.all(
        "SELECT DISTINCT worker_id FROM assignments WHERE task_pk = ? AND status = 'answered'",
        (task_pk,),
    )
    return [int(row[0]) for row in rows]


def get(tx: Tx, task_pk: int) -> GoldTask | None:
    return _gold_task(tx.one("SELECT * FROM tasks WHERE pk = ?", (task_pk,)))


def find(tx: Tx, pack_id: str, task_id: str) -> GoldTask | None:
    return _gold_task(
        tx.one(
            "SELECT t.* FROM tasks AS t JOIN packs AS p ON p.pk = t.pack_pk"
            " WHERE p.id = ? AND t.task_id = ?",
            (pack_id, task_id),
        )
    )


def _gold_task(row: sqlite3.Row | None) -> GoldTask | None:
    if row is None:
        return None
    text: str = json.loads(row["content"])["text"]
    return GoldTask(row["pk"], row["pack_pk"], row["task_id"], text, row["gold"])


def set_review(tx: Tx, task_pk: int, review: bool) -> bool:
    return bool(
        tx.execute(
            "UPDATE tasks SET review = ? WHERE pk = ? AND review != ?",
            (int(review), task_pk, int(review)),
        )
    )


def correct(tx: Tx, task_pk: int, gold: str, now: str) -> None:
    tx.execute("UPDATE tasks SET gold = ?, review = 0 WHERE pk = ?", (gold, task_pk))
    record_decision(tx, task_pk, "correct", gold, now)


def retire(tx: Tx, task_pk: int, now: str) -> None:
    tx.execute("UPDATE tasks SET retired = 1, review = 0, remaining = 0 WHERE pk = ?", (task_pk,))
    record_decision(tx, task_pk, "retire", None, now)


def flagged(tx: Tx) -> list[FlaggedGold]:
    """Gold items flagged for review, with their pack."""
    rows = tx.all(
        "SELECT p.id, t.task_id, t.gold FROM tasks AS t"
        " JOIN packs AS p ON p.pk = t.pack_pk WHERE t.review = 1 ORDER BY t.pk"
    )
    return [FlaggedGold(row[0], row[1], row[2]) for row in rows]


def touch_pack(tx: Tx, pack_pk: int, now: str) -> None:
    """The pack's gold changed: the bot reads its settings and gold again."""
    tx.execute("UPDATE packs SET updated_at = ? WHERE pk = ?", (now, pack_pk))


def worker_answers(tx: Tx, worker_id: int, pack_pk: int, since_id: int) -> list[tuple[str, str]]:
    """The worker's counting gold answers on the pack after `since_id`, oldest first, each as
    (answer, gold key). Items retired or under review do not count; the key is the gold as it
    is now (a correction applies at once). The domain scores them (answer_types.gold_score)."""
    rows = tx.all(
        """
        SELECT a.answer, t.gold
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.worker_id = ? AND a.pack_pk = ? AND a.is_gold = 1 AND a.id > ?
          AND a.status = 'answered' AND t.gold IS NOT NULL AND t.retired = 0 AND t.review = 0
        ORDER BY a.id
        """,
        (worker_id, pack_pk, since_id),
    )
    return [(str(row[0]), str(row[1])) for row in rows]


def record_decision(tx: Tx, task_pk: int, action: str, gold: str | None, now: str) -> None:
    """An operator's decision on a gold key (correct or retire), kept for later replaces."""
    tx.execute(
        "INSERT INTO gold_decisions (task_pk, action, gold, decided_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (task_pk) DO UPDATE SET action = excluded.action, gold = excluded.gold,"
        " decided_at = excluded.decided_at",
        (task_pk, action, gold, now),
    )


@dataclass(frozen=True)
class KeptDecision:
    """A gold decision a replace's file disagreed with: the decision was kept."""

    task_id: str
    action: str  # correct, retire
    file_gold: str | None  # what the file says
    gold: str | None  # the decided key ('correct')


def reapply_decisions(tx: Tx, pack_pk: int) -> list[KeptDecision]:
    """After a replace wrote the file's tasks: operators' gold decisions win over the file.
    A corrected key the file still has otherwise is put back; an item retired by decision is
    retired again (if the file still has it as gold). Returns where the file disagreed."""
    rows = tx.all(
        "SELECT t.pk, t.task_id, t.gold, t.retired, d.action, d.gold AS decided"
        " FROM gold_decisions AS d JOIN tasks AS t ON t.pk = d.task_pk"
        " WHERE t.pack_pk = ? AND t.gold IS NOT NULL ORDER BY t.pk",
        (pack_pk,),
    )
    kept = []
    for row in rows:
        if row["action"] == "correct" and row["gold"] != row["decided"]:
            tx.execute("UPDATE tasks SET gold = ? WHERE pk = ?", (row["decided"], row["pk"]))
        elif row["action"] == "retire" and not row["retired"]:
            tx.execute("UPDATE tasks SET retired = 1, review = 0 WHERE pk = ?", (row["pk"],))
        else:
            continue
        kept.append(KeptDecision(row["task_id"], row["action"], row["gold"], row["decided"]))
    return kept


def decisions_a_replace_keeps(tx: Tx, pack_pk: int, staged_pk: int) -> list[KeptDecision]:
    """What reapply_decisions will keep over a replace's file, read before the file's tasks
    (staged in `staged_pk`, db/packs.py) are applied to the pack: a corrected key the file has
    otherwise, an item retired by decision that the file still has as gold."""
    rows = tx.all(
        "SELECT p.task_id, d.action, s.gold AS file_gold, d.gold AS decided"
        " FROM gold_decisions AS d JOIN tasks AS p ON p.pk = d.task_pk"
        " JOIN tasks AS s ON s.pack_pk = ? AND s.task_id = p.task_id"
        " WHERE p.pack_pk = ? AND s.gold IS NOT NULL"
        " AND (d.action = 'retire' OR s.gold IS NOT d.gold) ORDER BY p.pk",
        (staged_pk, pack_pk),
    )
    return [
        KeptDecision(row["task_id"], row["action"], row["file_gold"], row["decided"])
        for row in rows
    ]


def answers_to(tx: Tx, task_pk: int) -> list[tuple[int, str]]:
    """(assignment id, answer) of every answer stored for this task."""
    rows = tx.all(
        "SELECT id, answer FROM assignments WHERE task_pk = ? AND status = 'answered'",
        (task_pk,),
    )
    return [(int(row[0]), str(row[1])) for row in rows]


def set_correct(tx: Tx, verdicts: list[tuple[bool, int]]) -> None:
    """(right, assignment id) pairs: whether each answer is right against the gold as it is."""
    tx.conn.executemany(
        "UPDATE assignments SET correct = ? WHERE id = ?",
        [(int(right), assignment_id) for right, assignment_id in verdicts],
    )


def pack_gold_verdicts(tx: Tx, pack_pk: int) -> list[tuple[int, str, str, int | None]]:
    """(assignment id, answer, gold, stored verdict) of every answer to the pack's gold tasks."""
    rows = tx.all(
        "SELECT a.id, a.answer, t.gold, a.correct FROM assignments AS a"
        " JOIN tasks AS t ON t.pk = a.task_pk"
        " WHERE t.pack_pk = ? AND t.gold IS NOT NULL AND a.status = 'answered'",
        (pack_pk,),
    )
    return [(int(row[0]), str(row[1]), str(row[2]), row[3]) for row in rows]
